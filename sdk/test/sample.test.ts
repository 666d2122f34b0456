// The sample mini-program's page logic, run in Node against the real
// miniback through a wx shim that does real HTTP.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSample } from './support/sample';
import { wxShim } from './support/wxshim';
import type { Todo } from '../src';
import { baseUrl, nodeClient, simulatorUrl, uniqueName } from './support/env';

const HOME = '/pages/tasks/tasks';

function lastCall(wx: ReturnType<typeof wxShim>, api: string): Record<string, unknown> | undefined {
  return wx.calls.filter((c) => c.api === api).pop()?.args as Record<string, unknown> | undefined;
}

describe('sample: login page', () => {
  it('logs in with wx.login and opens the app; the next launch skips the login page', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    const app = loadSample(wx);
    const login = await app.open('pages/login/login');
    assert.equal(lastCall(wx, 'reLaunch'), undefined, 'nobody is signed in yet');
    await app.call(login, 'onLogin');
    assert.equal(login.data.error, '');
    assert.equal(lastCall(wx, 'reLaunch')?.url, HOME);
    assert.ok(wx.storage.has('miniback.session'));

    const relaunch = loadSample(wx);
    wx.calls.length = 0;
    await relaunch.open('pages/login/login');
    assert.equal(lastCall(wx, 'reLaunch')?.url, HOME);
  });

  it('shows the problem when WeChat refuses the code', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    wx.loginCode = 'err-40029';
    const app = loadSample(wx);
    const login = await app.open('pages/login/login');
    await app.call(login, 'onLogin');
    assert.match(String(login.data.error), /\S/);
    assert.equal(login.data.busy, false);
    assert.equal(wx.storage.has('miniback.session'), false);
  });

  it("uses the simulator's dev code when devLoginName is set", async () => {
    const name = uniqueName();
    const wx = wxShim(baseUrl(), 'not-used');
    const app = loadSample(wx, name);
    const login = await app.open('pages/login/login');
    await app.call(login, 'onLogin');
    assert.equal(wx.calls.some((c) => c.api === 'login'), false, 'wx.login is not needed');
    const profile = await app.open('pages/profile/profile');
    const again = loadSample(wxShim(baseUrl(), name));
    const login2 = await again.open('pages/login/login');
    await again.call(login2, 'onLogin');
    const profile2 = await again.open('pages/profile/profile');
    assert.equal((profile2.data.user as { id: string }).id, (profile.data.user as { id: string }).id, 'dev-<name> and wx.login of <name> are one user');
  });
});

describe('sample: profile page', () => {
  async function signedIn() {
    const wx = wxShim(baseUrl(), uniqueName());
    const app = loadSample(wx);
    await app.call(await app.open('pages/login/login'), 'onLogin');
    return { wx, app };
  }

  it('loads my profile, saves edits and shows field errors', async () => {
    const { wx, app } = await signedIn();
    const page = await app.open('pages/profile/profile');
    assert.match(String((page.data.user as { id: string }).id), /^[0-9a-f-]{36}$/);

    await app.call(page, 'onNicknameInput', { detail: { value: '  小红  ' } });
    await app.call(page, 'onBioInput', { detail: { value: 'hello' } });
    await app.call(page, 'onSave');
    assert.equal((page.data.user as { nickname: string }).nickname, '小红');
    assert.equal(page.data.nickname, '小红');
    assert.equal(lastCall(wx, 'showToast')?.icon, 'success');

    await app.call(page, 'onNicknameInput', { detail: { value: 'x'.repeat(65) } });
    await app.call(page, 'onSave');
    assert.match(String((page.data.fieldErrors as Record<string, string>).nickname), /64/);
    assert.equal(page.data.saving, false);

    // Pull to refresh reloads what the server has.
    await app.call(page, 'onPullDownRefresh');
    assert.equal(page.data.nickname, '小红');
    assert.ok(wx.calls.some((c) => c.api === 'stopPullDownRefresh'));
  });

  it('changes the avatar: wx.chooseMedia, a ticket, wx.uploadFile to storage, completion, the profile', async () => {
    const { wx, app } = await signedIn();
    const page = await app.open('pages/profile/profile');
    const dir = mkdtempSync(join(tmpdir(), 'miniback-sample-'));
    const picked = join(dir, 'tmp_photo.png');
    writeFileSync(picked, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
    try {
      // Cancelling the picker changes nothing.
      await app.call(page, 'onChooseAvatar');
      assert.equal((page.data.user as { avatar_url: string }).avatar_url, '');

      wx.chosenFiles = [picked];
      await app.call(page, 'onChooseAvatar');
      assert.match((page.data.user as { avatar_url: string }).avatar_url, /\/v1\/avatars\/[0-9a-f-]{36}$/);
      assert.equal(lastCall(wx, 'showToast')?.title, '头像已更新');
      assert.equal(page.data.uploading, false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('logs out: the session is gone and the login page opens', async () => {
    const { wx, app } = await signedIn();
    const page = await app.open('pages/profile/profile');
    await app.call(page, 'onLogout');
    assert.equal(wx.storage.has('miniback.session'), false);
    assert.equal(lastCall(wx, 'reLaunch')?.url, '/pages/login/login');
  });
});

describe('sample: task list and task pages', () => {
  // A user signed in on the "phone" (the shim) and the same user on a
  // second device (a Node client: dev-<name> is the same account).
  async function setup() {
    const name = uniqueName();
    const wx = wxShim(baseUrl(), name);
    const app = loadSample(wx);
    await app.call(await app.open('pages/login/login'), 'onLogin');
    const other = nodeClient(name);
    await other.login();
    return { wx, app, other };
  }
  const items = (page: { data: Record<string, unknown> }) => page.data.items as Todo[];
  const tap = (id: string) => ({ currentTarget: { dataset: { id } } });

  it('creates tasks (newest first), completes one and deletes one', async () => {
    const { wx, app, other } = await setup();
    const page = await app.open('pages/tasks/tasks');
    assert.deepEqual(items(page), []);
    for (const title of ['Buy milk', 'Call mum', 'Pay rent']) {
      await app.call(page, 'onNewTitleInput', { detail: { value: title } });
      await app.call(page, 'onCreate');
    }
    assert.deepEqual(items(page).map((t) => t.title), ['Pay rent', 'Call mum', 'Buy milk']);
    assert.equal(page.data.newTitle, '');

    const milk = items(page)[2];
    await app.call(page, 'onToggle', tap(milk.id));
    assert.equal(items(page)[2].done, true);
    assert.equal((await other.GET('/v1/todos/{id}', { path: { id: milk.id } })).data?.done, true);

    const rent = items(page)[0];
    await app.call(page, 'onDelete', tap(rent.id));
    assert.deepEqual(items(page).map((t) => t.title), ['Call mum', 'Buy milk']);
    assert.equal(lastCall(wx, 'showModal')?.title, '删除任务');
    assert.deepEqual((await other.GET('/v1/todos')).data.items.map((t) => t.title), ['Call mum', 'Buy milk']);

    // A cancelled confirmation deletes nothing.
    wx.modalConfirm = false;
    await app.call(page, 'onDelete', tap(milk.id));
    assert.equal(items(page).length, 2);
  });

  it('a create retried after no answer reuses its Idempotency-Key: one task', async () => {
    const { app, other } = await setup();
    const page = await app.open('pages/tasks/tasks');
    await app.call(page, 'onNewTitleInput', { detail: { value: 'Only once' } });
    // The first attempt reached the server but its answer was lost: same key again.
    const key = 'lost-answer-key';
    (page as unknown as { pendingKey: string }).pendingKey = key;
    await other.POST('/v1/todos', { body: { title: 'Only once' }, headers: { 'Idempotency-Key': key } });
    await app.call(page, 'onCreate');
    const { data } = await other.GET('/v1/todos');
    assert.deepEqual(data.items.map((t) => t.title), ['Only once']);
    assert.equal(items(page)[0].id, data.items[0].id);
  });

  it('pages through the list when scrolled to the bottom; pull to refresh shows changes from elsewhere', async () => {
    const { wx, app, other } = await setup();
    for (let i = 0; i < 23; i++) await other.POST('/v1/todos', { body: { title: `task ${i}` } });
    const page = await app.open('pages/tasks/tasks');
    assert.equal(items(page).length, 20);
    assert.ok(page.data.cursor);
    await app.call(page, 'onReachBottom');
    assert.equal(items(page).length, 23);
    assert.equal(page.data.cursor, null);
    assert.equal(new Set(items(page).map((t) => t.id)).size, 23, 'no task twice');
    await app.call(page, 'onReachBottom'); // the last page: nothing more to ask for
    assert.equal(items(page).length, 23);

    await other.POST('/v1/todos', { body: { title: 'from the other device' } });
    await app.call(page, 'onPullDownRefresh');
    assert.equal(items(page)[0].title, 'from the other device');
    assert.equal(items(page).length, 20);
    assert.ok(wx.calls.some((c) => c.api === 'stopPullDownRefresh'));
  });

  it('filters open and done tasks', async () => {
    const { app, other } = await setup();
    await other.POST('/v1/todos', { body: { title: 'open one' } });
    await other.POST('/v1/todos', { body: { title: 'done one', done: true } });
    const page = await app.open('pages/tasks/tasks');
    await app.call(page, 'onFilter', { currentTarget: { dataset: { filter: 'done' } } });
    assert.deepEqual(items(page).map((t) => t.title), ['done one']);
    await app.call(page, 'onFilter', { currentTarget: { dataset: { filter: 'open' } } });
    assert.deepEqual(items(page).map((t) => t.title), ['open one']);
    // Completing a task in the open list takes it out of the list.
    await app.call(page, 'onToggle', tap(items(page)[0].id));
    assert.deepEqual(items(page), []);
  });

  it('a task changed on another device is not overwritten: 412, the list reloads', async () => {
    const { wx, app, other } = await setup();
    const { data: t } = await other.POST('/v1/todos', { body: { title: 'Shared' } });
    const page = await app.open('pages/tasks/tasks');
    await other.PATCH('/v1/todos/{id}', { path: { id: t.id }, body: { title: 'Renamed elsewhere' } });
    await app.call(page, 'onToggle', tap(t.id));
    assert.equal(lastCall(wx, 'showToast')?.title, '任务已在别处修改');
    assert.equal(items(page)[0].title, 'Renamed elsewhere');
    assert.equal(items(page)[0].done, false, 'the stale toggle changed nothing');
  });

  it('edits a task on its page, then the list shows the change', async () => {
    const { wx, app, other } = await setup();
    const { data: t } = await other.POST('/v1/todos', { body: { title: 'Draft' } });
    const list = await app.open('pages/tasks/tasks');
    await app.call(list, 'onEdit', tap(t.id));
    assert.equal(lastCall(wx, 'navigateTo')?.url, `/pages/task/task?id=${t.id}`);

    const edit = await app.open('pages/task/task', { id: t.id });
    assert.equal(edit.data.title, 'Draft');
    assert.equal(edit.data.etag, `"v${t.version}"`);
    await app.call(edit, 'onTitleInput', { detail: { value: 'Final' } });
    await app.call(edit, 'onNotesInput', { detail: { value: 'with notes' } });
    await app.call(edit, 'onPriorityChange', { detail: { value: '2' } });
    await app.call(edit, 'onSave');
    assert.ok(wx.calls.some((c) => c.api === 'navigateBack'));

    await app.call(list, 'onShow');
    assert.equal(items(list)[0].title, 'Final');
    assert.equal(items(list)[0].priority, 'high');
    assert.equal(items(list)[0].notes, 'with notes');
  });

  it('the edit page shows field errors and reloads after a conflict', async () => {
    const { wx, app, other } = await setup();
    const { data: t } = await other.POST('/v1/todos', { body: { title: 'Mine' } });
    const edit = await app.open('pages/task/task', { id: t.id });
    await app.call(edit, 'onTitleInput', { detail: { value: '   ' } });
    await app.call(edit, 'onSave');
    assert.ok((edit.data.fieldErrors as Record<string, string>).title, JSON.stringify(edit.data.fieldErrors));

    await other.PATCH('/v1/todos/{id}', { path: { id: t.id }, body: { title: 'Changed elsewhere' } });
    await app.call(edit, 'onTitleInput', { detail: { value: 'My edit' } });
    await app.call(edit, 'onSave');
    assert.equal(lastCall(wx, 'showModal')?.title, '任务已在别处修改');
    assert.equal(edit.data.title, 'Changed elsewhere');
    assert.equal((await other.GET('/v1/todos/{id}', { path: { id: t.id } })).data?.title, 'Changed elsewhere');
  });
});

describe('sample: task reminders', () => {
  it('"remind me" asks with wx.requestSubscribeMessage and the server counts the grant once', async () => {
    const name = uniqueName();
    const wx = wxShim(baseUrl(), name);
    const app = loadSample(wx);
    await app.call(await app.open('pages/login/login'), 'onLogin');
    const other = nodeClient(name);
    await other.login();
    const { data: t } = await other.POST('/v1/todos', { body: { title: 'Pay rent' } });
    const page = await app.open('pages/task/task', { id: t.id });
    assert.equal(page.data.reminders, -1);

    await app.call(page, 'onRemindMe');
    assert.deepEqual(lastCall(wx, 'requestSubscribeMessage')?.tmplIds, ['wechatsim-reminder-0001']);
    assert.equal(page.data.reminders, 1, 'the page posted the answer and WeChat pushed it: one grant');
    const { data } = await other.GET('/v1/me/subscriptions');
    assert.deepEqual(data.items.map((s) => [s.purpose, s.remaining, s.status]), [['reminder', 1, 'accept']]);

    wx.subscribeAnswer = 'reject';
    await app.call(page, 'onRemindMe');
    assert.equal(page.data.reminders, 1, 'a reject keeps the grant');
  });

  it('a due time and a reminder lead on the task form: the reminder arrives in the simulator log', async () => {
    const name = uniqueName();
    const wx = wxShim(baseUrl(), name);
    const app = loadSample(wx);
    await app.call(await app.open('pages/login/login'), 'onLogin');
    const other = nodeClient(name);
    await other.login();
    const { data: t } = await other.POST('/v1/todos', { body: { title: 'Water plants' } });
    const page = await app.open('pages/task/task', { id: t.id });
    await app.call(page, 'onRemindMe');
    assert.equal(page.data.reminders, 1);

    // Due in five minutes (the device's clock), reminded five minutes before: now.
    const due = new Date(Date.now() + 5 * 60_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    await app.call(page, 'onDueDateChange', { detail: { value: `${due.getFullYear()}-${pad(due.getMonth() + 1)}-${pad(due.getDate())}` } });
    await app.call(page, 'onDueTimeChange', { detail: { value: `${pad(due.getHours())}:${pad(due.getMinutes())}` } });
    await app.call(page, 'onLeadChange', { detail: { value: 2 } }); // 提前5分钟
    await app.call(page, 'onSave');
    const { data: saved } = await other.GET('/v1/todos/{id}', { path: { id: t.id } });
    assert.equal(saved!.reminder_lead_minutes, 5);
    assert.ok(saved!.due_at);

    let delivered: { page?: string; data: Record<string, string> }[] = [];
    for (const deadline = Date.now() + 30_000; delivered.length === 0 && Date.now() < deadline; ) {
      const res = await fetch(`${simulatorUrl()}/wechatsim/messages?user=${encodeURIComponent(name)}&appid=wxd0d0d0d0d0d0d0d0`);
      const { messages } = (await res.json()) as { messages: { page?: string; data: Record<string, string> }[] };
      delivered = messages.filter((m) => m.page === `pages/task/task?id=${t.id}`);
      if (delivered.length === 0) await new Promise((ok) => setTimeout(ok, 200));
    }
    assert.equal(delivered.length, 1, 'the reminder is in the simulator log');
    assert.equal(delivered[0].data.thing1, 'Water plants');

    for (const deadline = Date.now() + 30_000; Date.now() < deadline; ) {
      const again = await app.open('pages/task/task', { id: t.id });
      if (String(again.data.reminderText).endsWith('已发送')) return;
      await new Promise((ok) => setTimeout(ok, 200));
    }
    assert.fail('the task page never showed the reminder as sent');
  });
});
