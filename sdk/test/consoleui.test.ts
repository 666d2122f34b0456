// The admin console (/console) in headless Chromium against the running
// miniback: an operator signs in with an admin password account and works
// through the pages, each checked with axe-core and saved as a screenshot
// under console/test/screenshots/ (the README shows them).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient, isApiProblem, memoryTokenStore, type MinibackClient } from '../src';
import { ConsoleBrowser, passwordAccount, type Admin } from './support/console';
import { baseUrl, nodeClient, nodeTransport, uniqueName } from './support/env';

describe('admin console (/console) in a browser', () => {
  const browser = new ConsoleBrowser();
  let admin: Admin;

  before(async () => {
    await browser.start();
    admin = await passwordAccount(true);
  });
  after(() => browser.stop());

  it('signs an administrator in, keeps no token in storage, and refuses a user who is not one', async () => {
    const p = await browser.page();
    await p.open();
    await p.page.waitForURL(/#\/sign-in/);
    await p.page.waitForSelector('form[data-test="sign-in"]');
    await p.snap('sign-in');

    const plain = await passwordAccount(false);
    await p.page.getByLabel('Username or email').fill(plain.login);
    await p.page.getByLabel('Password', { exact: true }).fill(plain.password);
    await p.page.getByRole('button', { name: 'Sign in' }).click();
    await p.page.waitForSelector('[data-test="problem"]');
    assert.match((await p.page.textContent('[data-test="problem"]')) ?? '', /not an administrator/);

    await p.signIn(admin);
    // Tokens live in memory only: nothing in web storage, and the refresh
    // cookie is HttpOnly (page script cannot read it).
    const stored = await p.page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
    assert.doesNotMatch(stored, /ey[A-Za-z0-9_-]{10,}|mbr_/, 'a token is readable by page script');
    const cookies = await p.page.context().cookies();
    const session = cookies.find((c) => c.name === '__Secure-miniback-console');
    assert.ok(session, `no console cookie among ${cookies.map((c) => c.name).join(', ')}`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/v1/console/');

    // A reload keeps the operator signed in through the cookie.
    await p.page.reload();
    await p.page.waitForSelector('[data-test="users"]');
    await p.page.getByRole('button', { name: 'Sign out' }).click();
    await p.page.waitForURL(/#\/sign-in/);
    await p.page.reload();
    await p.page.waitForSelector('form[data-test="sign-in"]');
    p.assertClean();
  });

  it('sends the operator back to sign in when another admin ends their sessions, and back to the page after', async () => {
    const p = await browser.page();
    await p.signIn(admin);
    await p.page.getByRole('link', { name: 'Audit log' }).click();
    await p.page.waitForSelector('[data-test="audit"]');

    const other = await passwordAccount(true);
    const { data } = await (await operator(other)).DELETE('/v1/admin/users/{id}/sessions', { path: { id: admin.id } });
    assert.ok(data.ended >= 1);

    // The next call is refused, the cookie's session is over too: sign in again.
    await p.page.getByRole('link', { name: 'Health' }).click();
    await p.page.waitForURL(/#\/sign-in/);
    await p.page.getByText('Your session ended').waitFor();
    await p.page.locator('input[name="login"]').fill(admin.login);
    await p.page.locator('input[name="password"]').fill(admin.password);
    await p.page.getByRole('button', { name: 'Sign in' }).click();
    await p.page.waitForSelector('[data-test="health"]');
    p.assertClean();
  });

  it('searches users by nickname and opens one: profile, login methods, task count', async () => {
    const target = nodeClient();
    const { user } = await target.login();
    const nickname = `Findme ${uniqueName('n').slice(2)}`;
    await target.PATCH('/v1/me', { body: { nickname } });
    await target.POST('/v1/todos', { body: { title: 'one' } });
    await target.POST('/v1/todos', { body: { title: 'two' } });

    const p = await browser.page();
    await p.signIn(admin);
    await p.page.getByRole('searchbox').fill(nickname);
    await p.page.getByRole('button', { name: 'Search', exact: true }).click();
    // The first page (newest first) may show the user already: wait for the search's answer, one row.
    await p.page.waitForFunction(() => document.querySelectorAll('[data-test="users"] tbody tr').length === 1);
    const row = p.page.locator('[data-test="users"] tbody tr', { hasText: nickname });
    await row.waitFor();
    await p.snap('users');

    await row.getByRole('link', { name: nickname }).click();
    await p.page.waitForURL(new RegExp(`#/users/${user.id}`));
    await p.page.waitForSelector('[data-test="profile"]');
    assert.equal(await p.page.textContent('[data-test="user-name"]'), nickname);
    assert.equal(await p.page.textContent('[data-test="tasks"]'), '2');
    assert.match((await p.page.textContent('[data-test="methods"]')) ?? '', /openid/);
    await p.page.waitForSelector('[data-test="sessions"] tbody tr');
    await p.snap('user');
    p.assertClean();
  });

  it("ends one of a user's sessions: that session's token is refused, the other's still works", async () => {
    const name = uniqueName();
    const phone = nodeClient(name);
    const { user } = await phone.login();
    const laptop = nodeClient(name);
    await laptop.login();
    const { data: mine } = await phone.GET('/v1/auth/sessions');
    const ended = mine.items.find((s) => s.current);
    assert.ok(ended, 'no current session');
    const phoneToken = (await phone.session())?.accessToken;
    const laptopToken = (await laptop.session())?.accessToken;
    assert.ok(phoneToken && laptopToken);

    const p = await browser.page();
    await p.signIn(admin);
    await p.open(`/users/${user.id}`);
    const row = p.page.locator(`[data-test="sessions"] tr[data-session="${ended.id}"]`);
    await row.getByRole('button', { name: 'End' }).click();
    await row.getByText('ended', { exact: false }).waitFor();
    await p.snap('user-session-ended');

    // The token alone, as a thief would hold it: no refresh token, no login code.
    const stolen = createClient({ baseUrl: baseUrl(), transport: nodeTransport(), tokens: memoryTokenStore({ accessToken: phoneToken }) });
    const refused = await stolen.GET('/v1/me').then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(isApiProblem(refused), `the ended session's token still works: ${String(refused)}`);
    assert.equal(refused.status, 401);
    const kept = createClient({ baseUrl: baseUrl(), transport: nodeTransport(), tokens: memoryTokenStore({ accessToken: laptopToken }) });
    assert.equal((await kept.GET('/v1/me')).data.id, user.id);
    p.assertClean();
  });

  it('disables a user, whose logins are then refused, and enables them again', async () => {
    const name = uniqueName();
    const target = nodeClient(name);
    const { user } = await target.login();

    const p = await browser.page();
    await p.signIn(admin);
    await p.open(`/users/${user.id}`);
    await p.page.waitForSelector('[data-test="profile"]');
    await p.page.getByLabel(/^Reason/).fill('console test: spam');
    await p.page.getByRole('button', { name: 'Disable user' }).click();
    await p.page.locator('[data-test="status"]', { hasText: 'disabled' }).waitFor();
    await p.snap('user-disabled');

    const refused = await nodeClient(name).login().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(isApiProblem(refused), 'a disabled user signed in');
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'account_disabled');

    await p.page.getByRole('button', { name: 'Enable user' }).click();
    await p.page.locator('[data-test="status"]', { hasText: 'active' }).waitFor();
    await nodeClient(name).login();
    p.assertClean();
  });

  it('reads the audit log: who did what to whom, and from where', async () => {
    const target = nodeClient();
    const { user } = await target.login();
    const p = await browser.page();
    await p.signIn(admin);
    await p.open(`/users/${user.id}`);
    await p.page.getByRole('button', { name: 'Make admin' }).click();
    await p.page.locator('[data-test="role"]', { hasText: 'admin' }).waitFor();
    await p.page.getByRole('button', { name: 'Revoke admin' }).click();
    await p.page.locator('[data-test="role"]', { hasText: 'user' }).waitFor();

    await p.page.getByRole('link', { name: 'Audit log' }).click();
    await p.page.waitForSelector('[data-test="audit"] tbody tr');
    await p.page.getByLabel('Target id').fill(user.id);
    await p.page.getByRole('button', { name: 'Search', exact: true }).click();
    // The unfiltered page (other tests' entries too) stays until the
    // search answers: wait for the target's revoke, then for the page to
    // hold only the target's two entries.
    await p.page
      .locator('[data-test="audit"] tbody tr', { hasText: 'user.admin.revoke' })
      .filter({ hasText: user.id.slice(0, 8) })
      .waitFor();
    const rows = p.page.locator('[data-test="audit"] tbody tr');
    for (let i = 0; i < 100 && (await rows.count()) !== 2; i++) await p.page.waitForTimeout(50);
    assert.equal(await rows.count(), 2);
    assert.match((await rows.nth(0).textContent()) ?? '', /user\.admin\.revoke/);
    assert.match((await rows.nth(1).textContent()) ?? '', /user\.admin\.grant/);
    assert.match((await rows.nth(0).textContent()) ?? '', new RegExp(admin.id.slice(0, 8)));
    await p.snap('audit');
    p.assertClean();
  });

  it('approves a flagged bio on the moderation page', async () => {
    const author = nodeClient();
    const { user } = await author.login();
    const bio = `call me sim-review ${user.id.slice(0, 8)}`;
    await author.PATCH('/v1/me', { body: { bio } });

    const p = await browser.page();
    await p.signIn(admin);
    await p.page.getByRole('link', { name: 'Moderation' }).click();
    const row = p.page.locator('[data-test="moderation"] tbody tr', { hasText: bio });
    await row.waitFor();
    await p.snap('moderation');
    const id = await row.getAttribute('data-item');
    assert.ok(id);
    await row.getByRole('button', { name: 'Approve' }).click();
    await row.waitFor({ state: 'detached' });

    const api = await operator(admin);
    const { data: approved } = await api.GET('/v1/admin/moderation', { query: { status: 'approved', limit: 100 } });
    assert.ok(approved.items.some((it) => it.id === id), 'the item is not approved');
    p.assertClean();
  });

  it('shows the server health', async () => {
    const p = await browser.page();
    await p.signIn(admin);
    await p.page.getByRole('link', { name: 'Health' }).click();
    await p.page.waitForSelector('[data-test="health"]');
    assert.equal(await p.page.textContent('[data-test="ready"]'), 'ok');
    assert.match((await p.page.textContent('[data-test="version"]')) ?? '', /miniback/);
    await p.snap('health');
    p.assertClean();
  });

  it('shows the job queue: counts by state and kind, depth and the last failures', async () => {
    const p = await browser.page();
    await p.signIn(admin);
    await p.page.getByRole('link', { name: 'Jobs' }).click();
    await p.page.waitForSelector('[data-test="job-counts"]');
    await p.page.getByRole('heading', { name: 'Recent failures' }).waitFor();
    await p.snap('jobs');
    p.assertClean();
  });

  it('speaks Chinese when the browser does, and fits a phone screen', async () => {
    const p = await browser.page({ width: 375, height: 812, locale: 'zh-CN' });
    await p.signIn(admin);
    await p.page.getByRole('link', { name: '用户' }).waitFor();
    assert.equal(await p.page.getAttribute('html', 'lang'), 'zh-CN');
    const overflow = await p.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a 375px screen`);
    await p.snap('users-phone-zh', { fullPage: false });
    // The switch changes the language at once.
    await p.page.getByLabel('语言').selectOption('en');
    await p.page.getByRole('link', { name: 'Users' }).waitFor();
    p.assertClean();
  });
});

/** A Node client signed in as the console's operator (the API's own password login), to check what the page did. */
async function operator(a: Admin): Promise<MinibackClient> {
  const c = createClient({ baseUrl: baseUrl(), transport: nodeTransport(), tokens: memoryTokenStore() });
  await c.loginWithPassword({ login: a.login, password: a.password });
  return c;
}
