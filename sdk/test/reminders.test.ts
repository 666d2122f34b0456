// Task reminders through the SDK against the real miniback on embedded
// defaults (the simulator's app and its reminder template): the task's
// reminder_lead_minutes and its read-only reminder, scheduled only with a
// grant, and the message in the simulator's log once it is due.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AskSubscribe } from '../src';
import { nodeClient, simulatorUrl } from './support/env';

const APPID = 'wxd0d0d0d0d0d0d0d0';
const REMINDER = 'wechatsim-reminder-0001';

/** The user `name` accepts in the popup, as WeChat's would: a grant on WeChat's side too. */
function accept(name: string): AskSubscribe {
  return async (tmplIds) => {
    const res = await fetch(`${simulatorUrl()}/wechatsim/subscribe?appid=${APPID}&user=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tmplIds, result: 'accept' }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };
}

interface Delivery {
  touser: string;
  page?: string;
  msgid: number;
  data: Record<string, string>;
}

/** Polls the simulator's delivered log until fn finds a message (or 30 s pass). */
async function delivered(fn: (m: Delivery) => boolean): Promise<Delivery[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const res = await fetch(`${simulatorUrl()}/wechatsim/messages`);
    const { messages } = (await res.json()) as { messages: Delivery[] };
    const found = messages.filter(fn);
    if (found.length > 0 || Date.now() > deadline) return found;
    await new Promise((ok) => setTimeout(ok, 200));
  }
}

describe('task reminders (reminder_lead_minutes, reminder)', () => {
  it('says no_subscription without a grant, schedules with one, and cancels when cleared', async () => {
    const c = nodeClient();
    await c.login();
    const due = new Date(Date.now() + 24 * 3600_000).toISOString();
    const { data: t } = await c.POST('/v1/todos', { body: { title: 'Dentist', due_at: due, reminder_lead_minutes: 30 } });
    assert.equal(t.reminder_lead_minutes, 30);
    assert.equal(t.reminder?.state, 'no_subscription');
    assert.equal(Date.parse(t.reminder!.remind_at), Date.parse(due) - 30 * 60_000);

    await c.POST('/v1/me/subscriptions', { body: { template_id: REMINDER, result: 'accept' } });
    const { data: moved } = await c.PATCH('/v1/todos/{id}', { path: { id: t.id }, body: { reminder_lead_minutes: 60 } });
    assert.equal(moved.reminder?.state, 'scheduled');
    assert.equal(Date.parse(moved.reminder!.remind_at), Date.parse(due) - 60 * 60_000);

    const { data: cleared } = await c.PATCH('/v1/todos/{id}', { path: { id: t.id }, body: { reminder_lead_minutes: null } });
    assert.equal(cleared.reminder_lead_minutes, undefined);
    assert.equal(cleared.reminder?.state, 'cancelled');
    assert.equal(cleared.reminder?.reason, 'reminder_cleared');
  });

  it('sends the reminder once it is due: sent with its msgid, and the message in the simulator log', async () => {
    const c = nodeClient();
    await c.login();
    await c.subscribe({ purpose: 'reminder', ask: accept(c.name) });
    // Due in ten minutes, reminded ten minutes before: now.
    const due = new Date(Date.now() + 10 * 60_000).toISOString();
    const { data: t } = await c.POST('/v1/todos', { body: { title: 'Call mum', due_at: due, reminder_lead_minutes: 10 } });
    assert.ok(['scheduled', 'sending', 'sent'].includes(t.reminder!.state), t.reminder!.state);

    const msgs = await delivered((m) => m.page === `pages/task/task?id=${t.id}`);
    assert.equal(msgs.length, 1, 'one message for the task');
    assert.equal(msgs[0].data.thing1, 'Call mum');
    let state = '';
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const { data } = await c.GET('/v1/todos/{id}', { path: { id: t.id } });
      const r = data!.reminder!;
      state = r.state;
      if (state === 'sent') {
        assert.match(r.msgid ?? '', /^\d+$/);
        assert.ok(r.sent_at);
        break;
      }
      await new Promise((ok) => setTimeout(ok, 100));
    }
    assert.equal(state, 'sent');
    const { data: subs } = await c.GET('/v1/me/subscriptions');
    assert.equal(subs.items.find((s) => s.template_id === REMINDER)?.remaining, 0, 'the grant is spent');
  });
});
