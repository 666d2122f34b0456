// Contract tests of the SDK against the real miniback started by run.mjs:
// each call goes through the SDK over real HTTP, and each response is
// checked against openapi.yaml by the validating transport.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiProblem, createClient, fetchTransport, isApiProblem, memoryTokenStore, type Tokens } from '../src';
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
  it('a 401 renews the session once for concurrent requests and retries each once', async () => {
    const logins: string[] = [];
    const name = uniqueName();
    const tokens = memoryTokenStore();
    const c = createClient({
      baseUrl: baseUrl(),
      transport: nodeTransport(),
      tokens,
      loginCode: async () => {
        logins.push(name);
        return `dev-${name}`;
      },
    });
    const { user } = await c.login();
    logins.length = 0;
    // A token the server refuses (its signature broken), as after a key
    // rotation or a revoked session.
    const good = (await tokens.get()) as Tokens;
    await tokens.set({ ...good, accessToken: good.accessToken.slice(0, -4) + 'AAAA' });

    const results = await Promise.all([c.GET('/v1/me'), c.GET('/v1/me'), c.PATCH('/v1/me', { body: { bio: 'renewed' } })]);
    assert.equal(logins.length, 1, 'one renewal for three 401s');
    for (const r of results) assert.equal(r.data.id, user.id);
    assert.notEqual((await tokens.get())?.accessToken, good.accessToken.slice(0, -4) + 'AAAA');
  });

  it('an access token about to expire is renewed before the request', async () => {
    let clock = Date.now();
    const name = uniqueName();
    let logins = 0;
    const c = createClient({
      baseUrl: baseUrl(),
      transport: nodeTransport(),
      loginCode: async () => {
        logins++;
        return `dev-${name}`;
      },
      now: () => clock,
    });
    await c.login();
    const before = (await c.session())?.accessToken;
    clock += 15 * 60 * 1000; // the default 15-minute lifetime has passed
    await c.GET('/v1/me');
    assert.equal(logins, 2);
    assert.notEqual((await c.session())?.accessToken, before);
  });

  it('when renewal is refused the session ends: tokens cleared, onSessionEnd called, the 401 thrown', async () => {
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
    await tokens.set({ ...s, accessToken: 'not-a-jwt' });
    code = 'err-40163'; // the renewal's code is refused
    const p = await problem(c.GET('/v1/me'));
    assert.equal(p.status, 401);
    assert.equal(p.code, 'token_malformed');
    assert.equal(await tokens.get(), null);
    assert.equal(ended?.code, 'wechat_code_used');
  });

  it('logout forgets the session', async () => {
    const c = nodeClient();
    await c.login();
    await c.logout();
    assert.equal(await c.session(), null);
    const p = await problem(c.GET('/v1/me'));
    assert.equal(p.code, 'token_missing');
  });

  it('with no loginCode a 401 is thrown as is', async () => {
    const c = createClient({ baseUrl: baseUrl(), transport: nodeTransport(), tokens: memoryTokenStore({ accessToken: 'x.y.z' }) });
    const p = await problem(c.GET('/v1/me'));
    assert.equal(p.status, 401);
    assert.equal(p.code, 'token_malformed');
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
