// The sample mini-program's page logic, run in Node against the real
// miniback through a wx shim that does real HTTP.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadSample } from './support/sample';
import { wxShim } from './support/wxshim';
import { baseUrl, uniqueName } from './support/env';

const HOME = '/pages/profile/profile';

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

  it('logs out: the session is gone and the login page opens', async () => {
    const { wx, app } = await signedIn();
    const page = await app.open('pages/profile/profile');
    await app.call(page, 'onLogout');
    assert.equal(wx.storage.has('miniback.session'), false);
    assert.equal(lastCall(wx, 'reLaunch')?.url, '/pages/login/login');
  });
});
