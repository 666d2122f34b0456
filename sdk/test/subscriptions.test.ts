// Subscribe messages through the SDK against the real miniback on
// embedded defaults: the simulator's app has a reminder template, the
// simulator plays the user's popup (POST /wechatsim/subscribe, what a
// mini-program's wx.requestSubscribeMessage is, and WeChat's
// subscribe_msg_popup_event pushed to miniback), and the client records
// the answers (recordMySubscription) and reads what is left
// (listMySubscriptions).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isApiProblem, type AskSubscribe, type SubscribeResult } from '../src';
import { nodeClient, simulatorUrl } from './support/env';

// The simulator's app and its reminder template (wechatsim.DefaultAppID,
// DefaultReminderTemplateID).
const APPID = 'wxd0d0d0d0d0d0d0d0';
const REMINDER = 'wechatsim-reminder-0001';

/** The user `name` answers the popup with result, as WeChat's popup would. */
function simulatedPopup(name: string, result: SubscribeResult): AskSubscribe {
  return async (tmplIds) => {
    const res = await fetch(`${simulatorUrl()}/wechatsim/subscribe?appid=${APPID}&user=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ tmplIds, result }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  };
}

async function problemOf(p: Promise<unknown>) {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail');
}

describe('subscribe messages (listMySubscriptions, recordMySubscription)', () => {
  it('lists the reminder template, and one tap reported by the client and by WeChat counts once', async () => {
    const c = nodeClient();
    await c.login();
    const { data: before } = await c.GET('/v1/me/subscriptions');
    const reminder = before.items.find((s) => s.purpose === 'reminder');
    assert.ok(reminder, `the reminder template is listed: ${JSON.stringify(before)}`);
    assert.equal(reminder.template_id, REMINDER);
    assert.equal(reminder.remaining, 0);
    assert.equal(reminder.status, undefined);

    const after = await c.subscribe({ purpose: 'reminder', ask: simulatedPopup(c.name, 'accept') });
    const sub = after.find((s) => s.template_id === REMINDER);
    assert.equal(sub?.remaining, 1, 'the client posted the tap and the simulator pushed it: one grant');
    assert.equal(sub?.status, 'accept');

    const rejected = await c.subscribe({ templateIds: [REMINDER], ask: simulatedPopup(c.name, 'reject') });
    assert.deepEqual(
      rejected.filter((s) => s.template_id === REMINDER).map((s) => [s.remaining, s.status]),
      [[1, 'reject']],
      'a reject keeps the grant and sets the status',
    );
  });

  it('records an answer directly and refuses a template the app does not have', async () => {
    const c = nodeClient();
    await c.login();
    const { data } = await c.POST('/v1/me/subscriptions', { body: { template_id: REMINDER, result: 'accept' } });
    assert.equal(data.remaining, 1);
    assert.equal(data.purpose, 'reminder');
    assert.ok(data.updated_at && Date.parse(data.updated_at) > 0);

    const unknown = await problemOf(c.POST('/v1/me/subscriptions', { body: { template_id: 'no-such-template', result: 'accept' } }));
    assert.equal(unknown.status, 422);
    assert.equal(unknown.code, 'subscribe_template_unknown');
  });
});
