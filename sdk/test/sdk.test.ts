// Contract tests of the SDK against the real miniback started by run.mjs:
// each call goes through the SDK over real HTTP, and each response is
// checked against openapi.yaml by the validating transport.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiProblem, createClient, fetchTransport, isApiProblem, memoryTokenStore, type Tokens, type Transport } from '../src';
import { baseUrl, nodeClient, nodeTransport, uniqueName } from './support/env';

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

describe('ops probes', () => {
  it('getHealth answers ok', async () => {
    const { data, status } = await nodeClient().GET('/healthz');
    assert.equal(status, 200);
    assert.deepEqual(data, { status: 'ok' });
  });

  it('getReady answers ok while the database serves', async () => {
    const { data } = await nodeClient().GET('/readyz');
    assert.equal(data.status, 'ok');
  });
});

describe('login (loginWithWeChat)', () => {
  it('signs in with a login code, keeps the tokens and sends them', async () => {
    const c = nodeClient();
    assert.equal(await c.session(), null);
    const first = await c.login();
    assert.equal(first.is_new_user, true);
    assert.equal(first.token_type, 'Bearer');
    const s = await c.session();
    assert.equal(s?.accessToken, first.access_token);
    assert.ok(s?.expiresAt && s.expiresAt > Date.now());

    const again = await c.login();
    assert.equal(again.is_new_user, false, 'the same code name is the same user');
    assert.equal(again.user.id, first.user.id);

    const { data: me } = await c.GET('/v1/me');
    assert.equal(me.id, first.user.id);
  });

  it('login with an explicit code wins over loginCode', async () => {
    const name = uniqueName();
    const c = nodeClient(uniqueName());
    const res = await c.login({ code: `dev-${name}` });
    const other = await nodeClient(name).login();
    assert.equal(res.user.id, other.user.id);
  });

  it('a refused code surfaces as a typed problem', async () => {
    const p = await problem(nodeClient().login({ code: 'err-40029' }));
    assert.equal(p.status, 401);
    assert.equal(p.code, 'wechat_code_invalid');
    assert.ok(p.requestId, 'problems carry the request id');
    assert.equal(p.isAuthError, true);
  });

  it("WeChat's rate limit surfaces with Retry-After", async () => {
    const p = await problem(nodeClient().login({ code: 'err-45011' }));
    assert.equal(p.status, 429);
    assert.equal(p.code, 'wechat_rate_limited');
    assert.equal(p.retryAfter, 60);
  });

  it('field errors of a bad request are listed', async () => {
    const p = await problem(nodeClient().login({ code: '' }));
    assert.equal(p.status, 400);
    assert.equal(p.code, 'validation_failed');
    assert.ok(p.fieldError('code'), `want a field error for code, got ${JSON.stringify(p.errors)}`);
  });
});

describe('profile (getMe, updateMe)', () => {
  it('reads and edits my profile (PATCH over fetch)', async () => {
    const c = nodeClient();
    const { user } = await c.login();
    const { data: patched } = await c.PATCH('/v1/me', { body: { nickname: '  Alice  ', bio: '你好' } });
    assert.equal(patched.id, user.id);
    assert.equal(patched.nickname, 'Alice');
    assert.equal(patched.bio, '你好');
    const { data: me } = await c.GET('/v1/me');
    assert.equal(me.nickname, 'Alice');
  });

  it('a patch that breaks the rules lists every bad field', async () => {
    const c = nodeClient();
    await c.login();
    const p = await problem(c.PATCH('/v1/me', { body: { nickname: 'x'.repeat(65), bio: 'y'.repeat(501) } }));
    assert.equal(p.status, 400);
    assert.equal(p.code, 'validation_failed');
    assert.equal(p.fieldError('nickname')?.code, 'too_long');
    assert.equal(p.fieldError('body.bio')?.code, 'too_long');

    const url = await problem(c.PATCH('/v1/me', { body: { avatar_url: 'http://not-https.example/a.png' } }));
    assert.equal(url.fieldError('avatar_url')?.code, 'invalid_url', JSON.stringify(url.errors));
  });

  it('without a session the server answers token_missing', async () => {
    const p = await problem(nodeClient().GET('/v1/me'));
    assert.equal(p.status, 401);
    assert.equal(p.code, 'token_missing');
  });
});

describe('session handling', () => {
  // A transport that counts the calls of each path, over the validating one.
  function counting() {
    const calls: string[] = [];
    const inner = nodeTransport();
    const transport: Transport = {
      request: (req) => {
        calls.push(`${req.method} ${new URL(req.url).pathname}`);
        return inner.request(req);
      },
    };
    const count = (what: string) => calls.filter((c) => c === what).length;
    return { transport, calls, count };
  }

  it('a 401 refreshes the session once for concurrent requests and retries each once', async () => {
    const { transport, count } = counting();
    const tokens = memoryTokenStore();
    const name = uniqueName();
    const c = createClient({ baseUrl: baseUrl(), transport, tokens, loginCode: async () => `dev-${name}` });
    const { user, refresh_token } = await c.login();
    // An access token the server refuses (its signature broken), as after
    // a key rotation.
    const good = (await tokens.get()) as Tokens;
    const broken = good.accessToken.slice(0, -4) + 'AAAA';
    await tokens.set({ ...good, accessToken: broken });

    const results = await Promise.all([c.GET('/v1/me'), c.GET('/v1/me'), c.PATCH('/v1/me', { body: { bio: 'renewed' } })]);
    assert.equal(count('POST /v1/auth/refresh'), 1, 'one refresh for three 401s');
    assert.equal(count('POST /v1/auth/wechat'), 1, 'no new login: only the first');
    assert.equal(count('GET /v1/me'), 4, 'two 401s and two retries');
    for (const r of results) assert.equal(r.data.id, user.id);
    const now = (await tokens.get()) as Tokens;
    assert.notEqual(now.accessToken, broken);
    assert.notEqual(now.refreshToken, refresh_token, 'the refresh token was rotated');
  });

  it('an access token about to expire is refreshed before the request', async () => {
    let clock = Date.now();
    const { transport, count, calls } = counting();
    const c = createClient({ baseUrl: baseUrl(), transport, loginCode: async () => `dev-${uniqueName()}`, now: () => clock });
    await c.login();
    const before = (await c.session())?.accessToken;
    clock += 15 * 60 * 1000; // the default 15-minute lifetime has passed
    await c.GET('/v1/me');
    assert.deepEqual(calls.slice(1), ['POST /v1/auth/refresh', 'GET /v1/me'], 'refreshed first, no 401');
    assert.equal(count('POST /v1/auth/wechat'), 1);
    assert.notEqual((await c.session())?.accessToken, before);
  });

  it('a refused refresh token (reused: the session is revoked) falls back to a silent wx.login', async () => {
    const { transport, count } = counting();
    const tokens = memoryTokenStore();
    const name = uniqueName();
    const c = createClient({ baseUrl: baseUrl(), transport, tokens, loginCode: async () => `dev-${name}` });
    const first = await c.login();
    // Someone else used this refresh token first: presenting it again
    // revokes the whole session (RFC 9700 reuse detection).
    const other = createClient({ baseUrl: baseUrl(), transport: nodeTransport() });
    const rotated = await other.POST('/v1/auth/refresh', { body: { refresh_token: first.refresh_token }, auth: false });
    assert.ok(rotated.data.refresh_token);
    await tokens.set({ ...((await tokens.get()) as Tokens), accessToken: 'x.y.z' });

    const { data: me } = await c.GET('/v1/me');
    assert.equal(me.id, first.user.id);
    assert.equal(count('POST /v1/auth/refresh'), 1);
    assert.equal(count('POST /v1/auth/wechat'), 2, 'signed in again');
    // The reuse revoked the family: the rotated token is dead too.
    const p = await problem(other.POST('/v1/auth/refresh', { body: { refresh_token: rotated.data.refresh_token }, auth: false }));
    assert.equal(p.status, 401);
  });

  it('when renewal fails for good the session ends: tokens cleared, onSessionEnd called, the 401 thrown', async () => {
    let ended: ApiProblem | undefined;
    let code = `dev-${uniqueName()}`;
    const tokens = memoryTokenStore();
    const c = createClient({
      baseUrl: baseUrl(),
      transport: nodeTransport(),
      tokens,
      loginCode: async () => code,
      onSessionEnd: (p) => {
        ended = p;
      },
    });
    await c.login();
    const s = (await tokens.get()) as Tokens;
    await tokens.set({ ...s, accessToken: 'not-a-jwt', refreshToken: 'not-a-refresh-token' });
    code = 'err-40163'; // and the new login's code is refused
    const p = await problem(c.GET('/v1/me'));
    assert.equal(p.status, 401);
    assert.equal(p.code, 'token_malformed');
    assert.equal(await tokens.get(), null);
    assert.equal(ended?.code, 'wechat_code_used');
  });

  it('logout ends the session on the server: its refresh token stops working', async () => {
    const c = nodeClient();
    const { refresh_token } = await c.login();
    await c.logout();
    assert.equal(await c.session(), null);
    const p = await problem(c.GET('/v1/me'));
    assert.equal(p.code, 'token_missing');
    const r = await problem(c.POST('/v1/auth/refresh', { body: { refresh_token }, auth: false }));
    assert.equal(r.status, 401);
    assert.match(r.code, /^(session_revoked|refresh_token_)/);
  });

  it('logout with an expired access token refreshes first and never signs in again', async () => {
    const { transport, calls } = counting();
    const inner = memoryTokenStore();
    let lastRefresh = '';
    const tokens = { ...inner, set: (t: Tokens) => ((lastRefresh = t.refreshToken ?? ''), inner.set(t)) };
    const c = createClient({ baseUrl: baseUrl(), transport, tokens, loginCode: async () => `dev-${uniqueName()}` });
    await c.login();
    await tokens.set({ ...((await tokens.get()) as Tokens), accessToken: 'x.y.z' });
    await c.logout();
    assert.deepEqual(calls.slice(1), ['POST /v1/auth/logout', 'POST /v1/auth/refresh', 'POST /v1/auth/logout']);
    // The refresh token the session had at the end is dead: logged out.
    const r = await problem(c.POST('/v1/auth/refresh', { body: { refresh_token: lastRefresh }, auth: false }));
    assert.equal(r.code, 'session_revoked');
  });

  it('with no loginCode and no refresh token a 401 is thrown as is and the session ends', async () => {
    let ended: ApiProblem | undefined;
    const tokens = memoryTokenStore({ accessToken: 'x.y.z' });
    const c = createClient({ baseUrl: baseUrl(), transport: nodeTransport(), tokens, onSessionEnd: (p) => (ended = p) });
    const p = await problem(c.GET('/v1/me'));
    assert.equal(p.status, 401);
    assert.equal(p.code, 'token_malformed');
    assert.equal(ended?.code, 'session_expired');
    assert.equal(await tokens.get(), null);
  });
});

describe('transport failures', () => {
  it('no server at the address is a network_error problem with status 0', async () => {
    const c = createClient({ baseUrl: 'http://127.0.0.1:9', transport: fetchTransport() });
    const p = await problem(c.GET('/healthz'));
    assert.equal(p.status, 0);
    assert.equal(p.code, 'network_error');
  });

  it('a path outside the spec answers a problem the SDK surfaces', async () => {
    const c = createClient({ baseUrl: `${baseUrl()}/nowhere`, transport: nodeTransport() });
    const p = await problem(c.GET('/healthz'));
    assert.equal(p.status, 404);
    assert.equal(p.code, 'not_found');
  });
});
