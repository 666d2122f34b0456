// Task reminders are subscribe messages (订阅消息): WeChat lets the server
// send one per acceptance of the reminder template in
// wx.requestSubscribeMessage. askForReminders shows that popup (it must
// run in a tap handler) for the template the server configures for
// reminders, tells the server what the user answered, and resolves to the
// reminders the server may still send.
import { api } from './api';
import { wxRequestSubscribe } from './lib/miniback-sdk/index';

export async function askForReminders(): Promise<number> {
  const subs = await api().subscribe({ purpose: 'reminder', ask: wxRequestSubscribe(wx) });
  return subs.find((s) => s.purpose === 'reminder')?.remaining ?? 0;
}
