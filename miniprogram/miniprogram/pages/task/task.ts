// Edit one task: title, notes, priority, due time, reminder, done. The
// reminder is a subscribe message the server sends the chosen lead before
// the due time; it needs a grant ("remind me" asks for one first). The save sends the ETag
// the page loaded in If-Match, so an edit made meanwhile on another
// device is never overwritten (412: the page reloads the task).
import { api } from '../../api';
import { isApiProblem, type Todo } from '../../lib/miniback-sdk/index';
import { fieldErrorsOf, toastError } from '../../errors';
import { askForReminders } from '../../reminders';

const PRIORITIES: Todo['priority'][] = ['low', 'normal', 'high'];
// Reminder leads in minutes before the due time (null: no reminder).
const LEADS: (number | null)[] = [null, 0, 5, 15, 30, 60, 1440];
const REMINDER_STATES: Record<string, string> = {
  scheduled: '已安排',
  no_subscription: '未订阅：请先点“提醒我”',
  sending: '发送中',
  sent: '已发送',
  failed: '发送失败',
  cancelled: '已取消',
};

const pad = (n: number) => String(n).padStart(2, '0');

// The device's UTC offset as RFC 3339 wants it (+08:00).
function localOffset(d: Date): string {
  const m = -d.getTimezoneOffset();
  const sign = m >= 0 ? '+' : '-';
  return `${sign}${pad(Math.floor(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
}

// dueAt joins the pickers' date and time in the device's offset.
export function dueAt(date: string, time: string): string | null {
  if (!date) return null;
  const at = `${date}T${time || '09:00'}:00`;
  return at + localOffset(new Date(at));
}

// The reminder line under the form.
export function reminderText(t: Pick<Todo, 'reminder'>): string {
  const r = t.reminder;
  if (!r) return '';
  const at = new Date(r.remind_at);
  const when = `${at.getMonth() + 1}月${at.getDate()}日 ${pad(at.getHours())}:${pad(at.getMinutes())}`;
  return `提醒 ${when}：${REMINDER_STATES[r.state] ?? r.state}`;
}

Page({
  data: {
    id: '',
    etag: '',
    title: '',
    notes: '',
    priorityIndex: 1,
    priorityLabels: ['低', '普通', '高'],
    dueDate: '',
    dueTime: '',
    leadIndex: 0,
    leadLabels: ['不提醒', '到期时', '提前5分钟', '提前15分钟', '提前30分钟', '提前1小时', '提前1天'],
    reminderText: '',
    done: false,
    saving: false,
    fieldErrors: {} as Record<string, string>,
    // Reminders the server may send (one per acceptance); -1 until asked.
    reminders: -1,
  },

  async onLoad(query: Record<string, string | undefined>) {
    this.setData({ id: query.id ?? '' });
    await this.load();
  },

  async load() {
    try {
      const res = await api().GET('/v1/todos/{id}', { path: { id: this.data.id } });
      if (res.status !== 200) return;
      const t = res.data;
      const due = t.due_at ? new Date(t.due_at) : null;
      this.setData({
        dueDate: due ? `${due.getFullYear()}-${pad(due.getMonth() + 1)}-${pad(due.getDate())}` : '',
        dueTime: due ? `${pad(due.getHours())}:${pad(due.getMinutes())}` : '',
        leadIndex: Math.max(0, LEADS.indexOf(t.reminder_lead_minutes ?? null)),
        reminderText: reminderText(t),
        etag: res.headers.etag ?? '',
        title: t.title,
        notes: t.notes,
        priorityIndex: PRIORITIES.indexOf(t.priority),
        done: t.done,
        fieldErrors: {},
      });
    } catch (e) {
      toastError(e);
    }
  },

  onTitleInput(e: WechatMiniprogram.Input) {
    this.setData({ title: e.detail.value });
  },

  onNotesInput(e: WechatMiniprogram.Input) {
    this.setData({ notes: e.detail.value });
  },

  onPriorityChange(e: WechatMiniprogram.PickerChange) {
    this.setData({ priorityIndex: Number(e.detail.value) });
  },

  onDueDateChange(e: WechatMiniprogram.PickerChange) {
    this.setData({ dueDate: String(e.detail.value) });
  },

  onDueTimeChange(e: WechatMiniprogram.PickerChange) {
    this.setData({ dueTime: String(e.detail.value) });
  },

  onLeadChange(e: WechatMiniprogram.PickerChange) {
    this.setData({ leadIndex: Number(e.detail.value) });
  },

  onDoneChange(e: WechatMiniprogram.SwitchChange) {
    this.setData({ done: e.detail.value });
  },

  // "Remind me": the subscribe-message popup for the reminder template.
  async onRemindMe() {
    try {
      const reminders = await askForReminders();
      this.setData({ reminders });
      await wx.showToast({ title: reminders > 0 ? `可提醒 ${reminders} 次` : '未开启提醒', icon: 'none' });
    } catch (e) {
      toastError(e);
    }
  },

  async onSave() {
    this.setData({ saving: true, fieldErrors: {} });
    try {
      await api().PATCH('/v1/todos/{id}', {
        path: { id: this.data.id },
        body: {
          title: this.data.title,
          notes: this.data.notes,
          priority: PRIORITIES[this.data.priorityIndex],
          done: this.data.done,
          due_at: dueAt(this.data.dueDate, this.data.dueTime),
          reminder_lead_minutes: LEADS[this.data.leadIndex] ?? null,
        },
        headers: this.data.etag ? { 'If-Match': this.data.etag } : {},
      });
      await wx.navigateBack();
    } catch (e) {
      if (isApiProblem(e) && e.code === 'precondition_failed') {
        await wx.showModal({ title: '任务已在别处修改', content: '已载入最新内容，请重新编辑。', showCancel: false });
        await this.load();
      } else {
        this.setData({ fieldErrors: fieldErrorsOf(e) });
        toastError(e);
      }
    } finally {
      this.setData({ saving: false });
    }
  },
});
