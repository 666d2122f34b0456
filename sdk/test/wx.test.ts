// The wx transport against the real miniback, through a wx shim whose
// wx.request and wx.uploadFile do real HTTP and refuse what the real ones
// refuse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiProblem, createWxClient, wxTransport } from '../src';
import { baseUrl, uniqueName } from './support/env';
import { wxShim } from './support/wxshim';

describe('wx transport', () => {
  it('logs in with wx.login, keeps the session in wx storage and edits the profile with PATCH over POST', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    const api = createWxClient({ baseUrl: baseUrl(), wx: wx });
    const login = await api.login();
    assert.equal(login.is_new_user, true);
    assert.equal(wx.calls.filter((c) => c.api === 'login').length, 1);
    const stored = wx.getStorageSync('miniback.session') as { accessToken: string };
    assert.equal(stored.accessToken, login.access_token);

    const { data } = await api.PATCH('/v1/me', { body: { nickname: '小明' } });
    assert.equal(data.nickname, '小明');
    const { data: me } = await api.GET('/v1/me');
    assert.equal(me.nickname, '小明');

    // A new client on the same storage (the next launch) is still signed in.
    const relaunched = createWxClient({ baseUrl: baseUrl(), wx: wx });
    assert.equal((await relaunched.GET('/v1/me')).data.id, login.user.id);
  });

  it('the shim, like wx.request, refuses PATCH: the transport must not send it', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    const err = await new Promise<string>((resolve) =>
      (wx).request({ url: `${baseUrl()}/v1/me`, method: 'PATCH' as never, fail: (e) => resolve(e.errMsg), success: () => resolve('sent') }),
    );
    assert.match(err, /request:fail/);
  });

  it('problems arrive as ApiProblem, whatever wx.request did with the body', async () => {
    const wx = wxShim(baseUrl(), 'ignored');
    const api = createWxClient({ baseUrl: baseUrl(), wx: wx, loginCode: async () => 'err-40226' });
    await assert.rejects(api.login(), (e: unknown) => e instanceof ApiProblem && e.status === 403 && e.code === 'wechat_user_blocked');
  });

  it('a failed wx.request is a network_error', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    const t = wxTransport(wx);
    await assert.rejects(t.request({ method: 'GET', url: 'http://127.0.0.1:9/healthz', headers: {} }), (e: unknown) => e instanceof ApiProblem && e.code === 'network_error');
  });
});
