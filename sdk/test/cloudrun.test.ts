// WeChat Cloud Hosting: the callContainer transport and POST
// /v1/auth/cloudrun. A fake wx.cloud plays the platform: its callContainer
// checks what the real one needs (an environment id, X-WX-SERVICE, one of
// wx.request's methods), drops any identity header the page tried to send,
// adds the caller's identity as Cloud Hosting's gateway does, and forwards
// the call over HTTP to a miniback, checking every answer against
// openapi.yaml. The test server of run.mjs runs on embedded defaults, where
// the Cloud Hosting mode is off; a second miniback on the same database
// runs with MINIBACK_CLOUDRUN=true for the success path.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiProblem, callContainerTransport, createClient, createCloudRunClient, fetchTransport, memoryTokenStore, type CallContainerOption, type WxCloudApi } from '../src';
import { baseUrl, nodeTransport, uniqueName } from './support/env';
import { checkExchange, validating } from './support/contract';

// The simulator's app and openids (adapters/wechat/wechatsim).
const SIM_APPID = 'wxd0d0d0d0d0d0d0d0';
const simOpenId = (appid: string, name: string) => 'o' + createHmac('sha256', appid).update(name).digest('base64url').slice(0, 27);

const ENV = 'prod-1a2b3c';
const SERVICE = 'miniback';
const WX_METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT'];

interface Caller {
  appid: string;
  openid: string;
}

/**
 * gatewayCloud is a wx.cloud whose callContainer reaches server as the
 * given caller (none: the gateway adds no user, as for a logged-out
 * official account). Every option it was called with is in `calls`.
 */
function gatewayCloud(server: string, caller?: Caller): WxCloudApi & { calls: CallContainerOption[] } {
  const calls: CallContainerOption[] = [];
  return {
    calls,
    callContainer(o: CallContainerOption) {
      calls.push(o);
      const method = o.method ?? 'GET';
      const fail = (msg: string) => queueMicrotask(() => o.fail?.({ errMsg: `cloud.callContainer:fail ${msg}` }));
      if (!o.config?.env) return fail('env is required');
      if (!WX_METHODS.includes(method)) return fail(`invalid method ${method}`);
      const header: Record<string, string> = {};
      for (const [k, v] of Object.entries(o.header ?? {})) {
        // The gateway owns these: what the page sends is not passed on.
        if (!/^x-wx-/i.test(k) || /^x-wx-service$/i.test(k)) header[k] = v;
      }
      if (!Object.keys(header).some((k) => /^x-wx-service$/i.test(k))) return fail('X-WX-SERVICE is required');
      Object.assign(header, { 'X-WX-ENV': o.config.env, 'X-WX-SOURCE': 'wx_client' });
      if (caller) Object.assign(header, { 'X-WX-APPID': caller.appid, 'X-WX-OPENID': caller.openid });
      if (o.data !== undefined && !Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) header['content-type'] = 'application/json';
      const url = server + o.path;
      void (async () => {
        let res: Response;
        let text: string;
        try {
          res = await fetch(url, { method, headers: header, body: o.data as string | undefined });
          text = await res.text();
        } catch (e) {
          return fail((e as Error).message);
        }
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => (headers[k] = v));
        checkExchange(server, method, url, header, { status: res.status, headers, body: text });
        let data: unknown = text;
        if ((o.dataType ?? 'json') === 'json') {
          try {
            data = JSON.parse(text);
          } catch {
            data = text;
          }
        }
        o.success?.({ data, statusCode: res.status, header: headers, errMsg: 'cloud.callContainer:ok' });
      })();
    },
  };
}

/** A wx with storage and the given cloud. */
function fakeWx(cloud: WxCloudApi) {
  const storage = new Map<string, string>();
  return {
    cloud,
    storage,
    getStorageSync: (k: string) => (storage.has(k) ? JSON.parse(storage.get(k)!) : ''),
    setStorageSync: (k: string, v: unknown) => void storage.set(k, JSON.stringify(v)),
    removeStorageSync: (k: string) => void storage.delete(k),
  };
}

describe('callContainer transport', () => {
  it('sends the path, the environment and the service, as text, and maps the answer', async () => {
    const seen: CallContainerOption[] = [];
    const cloud: WxCloudApi = {
      callContainer(o) {
        seen.push(o);
        queueMicrotask(() => o.success?.({ statusCode: 201, header: { 'Content-Type': 'application/json', ETag: '"v1"' }, data: '{"ok":true}', errMsg: 'ok' }));
      },
    };
    const t = callContainerTransport(cloud, { env: ENV, service: SERVICE, timeout: 5000 });
    const res = await t.request({ method: 'POST', url: 'https://ignored.example.com/v1/todos?x=1', headers: { Authorization: 'Bearer t' }, body: '{"title":"a"}' });
    assert.deepEqual(res, { status: 201, headers: { 'content-type': 'application/json', etag: '"v1"' }, body: '{"ok":true}' });
    const o = seen[0];
    assert.equal(o.path, '/v1/todos?x=1');
    assert.deepEqual(o.config, { env: ENV });
    assert.equal(o.method, 'POST');
    assert.deepEqual(o.header, { Authorization: 'Bearer t', 'X-WX-SERVICE': SERVICE });
    assert.equal(o.data, '{"title":"a"}');
    assert.equal(o.dataType, 'text');
    assert.equal(o.timeout, 5000);

    // A relative URL (the Cloud Hosting client's empty baseUrl) is the path.
    await t.request({ method: 'GET', url: '/v1/me', headers: {} });
    assert.equal(seen[1].path, '/v1/me');
  });

  it('sends PATCH as POST with X-HTTP-Method-Override, as wx.request needs', async () => {
    const seen: CallContainerOption[] = [];
    const t = callContainerTransport(
      { callContainer: (o) => (seen.push(o), queueMicrotask(() => o.success?.({ statusCode: 204, header: {}, data: '', errMsg: 'ok' }))) },
      { env: ENV, service: SERVICE },
    );
    assert.equal((await t.request({ method: 'PATCH', url: '/v1/me', headers: {}, body: '{}' })).status, 204);
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].header?.['X-HTTP-Method-Override'], 'PATCH');
  });

  it('turns a JSON-parsed answer back into text and a failed call into network_error', async () => {
    const parsed = callContainerTransport(
      { callContainer: (o) => queueMicrotask(() => o.success?.({ statusCode: 200, header: {}, data: { a: 1 }, errMsg: 'ok' })) },
      { env: ENV, service: SERVICE },
    );
    assert.equal((await parsed.request({ method: 'GET', url: '/x', headers: {} })).body, '{"a":1}');
    const failing = callContainerTransport(
      { callContainer: (o) => queueMicrotask(() => o.fail?.({ errMsg: 'cloud.callContainer:fail -501000 service not found' })) },
      { env: ENV, service: SERVICE },
    );
    await assert.rejects(failing.request({ method: 'GET', url: '/x', headers: {} }), (e: unknown) => e instanceof ApiProblem && e.code === 'network_error' && /-501000/.test(e.message));
  });

  it('refuses to be built without an environment or a service', () => {
    assert.throws(() => callContainerTransport({ callContainer() {} }, { env: '', service: SERVICE }), /env/);
    assert.throws(() => callContainerTransport({ callContainer() {} }, { env: ENV, service: '' }), /service/);
  });

  it('createCloudRunClient signs in with POST /v1/auth/cloudrun, no body and no wx.login, and keeps the session in wx storage', async () => {
    const seen: CallContainerOption[] = [];
    const login = { access_token: 'at', token_type: 'Bearer', expires_in: 900, refresh_token: 'rt', refresh_expires_in: 3600, is_new_user: true, user: { id: 'u' } };
    const wx = fakeWx({
      callContainer(o) {
        seen.push(o);
        queueMicrotask(() => o.success?.({ statusCode: 200, header: { 'content-type': 'application/json' }, data: JSON.stringify(login), errMsg: 'ok' }));
      },
    });
    const api = createCloudRunClient({ env: ENV, service: SERVICE, wx });
    const got = await api.login();
    assert.equal(got.access_token, 'at');
    assert.equal(seen[0].path, '/v1/auth/cloudrun');
    assert.equal(seen[0].method, 'POST');
    assert.equal(seen[0].data, undefined);
    assert.equal(seen[0].header?.Authorization, undefined);
    assert.equal((wx.getStorageSync('miniback.session') as { accessToken: string }).accessToken, 'at');
  });
});

describe('POST /v1/auth/cloudrun on the test server (Cloud Hosting mode off)', () => {
  it('answers 404 cloudrun_disabled, whatever identity the gateway sends', async () => {
    const name = uniqueName('cr');
    const cloud = gatewayCloud(baseUrl(), { appid: SIM_APPID, openid: simOpenId(SIM_APPID, name) });
    const api = createCloudRunClient({ env: ENV, service: SERVICE, wx: fakeWx(cloud) });
    await assert.rejects(api.login(), (e: unknown) => e instanceof ApiProblem && e.status === 404 && e.code === 'cloudrun_disabled');
    // Through plain HTTP (no gateway) too, with the headers forged.
    const direct = createClient({ baseUrl: baseUrl(), transport: nodeTransport(), tokens: memoryTokenStore() });
    await assert.rejects(
      direct.POST('/v1/auth/cloudrun', { headers: { 'X-WX-SOURCE': 'wx_client', 'X-WX-APPID': SIM_APPID, 'X-WX-OPENID': simOpenId(SIM_APPID, name) } }),
      (e: unknown) => e instanceof ApiProblem && e.status === 404 && e.code === 'cloudrun_disabled',
    );
  });
});

describe('Cloud Hosting mode on (a second miniback with MINIBACK_CLOUDRUN=true)', () => {
  let server: ChildProcess | undefined;
  let url = '';
  let dataDir = '';

  before(async () => {
    const bin = process.env.MINIBACK_BIN;
    const db = process.env.MINIBACK_TEST_DATABASE_URL;
    assert.ok(bin && db, 'run.mjs gives the binary and the database URL');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    dataDir = mkdtempSync(join(tmpdir(), 'miniback-cloudrun-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MINIBACK_') && k !== 'DATABASE_URL') env[k] = v;
    Object.assign(env, {
      MINIBACK_ADDR: `127.0.0.1:${port}`,
      MINIBACK_PUBLIC_URL: url,
      MINIBACK_DATA_DIR: dataDir,
      DATABASE_URL: db,
      MINIBACK_CLOUDRUN: 'true',
      MINIBACK_WECHAT_TIMEOUT: '2s',
    });
    const proc = spawn(bin, [], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server = proc;
    let log = '';
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`the Cloud Hosting miniback did not start:\n${log}`)), 60_000);
      const watch = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('miniback is ready')) {
          clearTimeout(timer);
          ok();
        }
      };
      proc.stdout!.on('data', watch);
      proc.stderr!.on('data', watch);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`the Cloud Hosting miniback exited (${code}):\n${log}`));
      });
    });
    assert.match(log, /WeChat Cloud Hosting mode WITHOUT MINIBACK_CLOUDRUN_TRUST_GATEWAY/, 'the start-up log warns about the mode');
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((ok) => server!.once('exit', ok));
      server.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in the gateway’s user: the same account wx.login gives, and the session works through callContainer', async () => {
    const name = uniqueName('cr');
    const wx = fakeWx(gatewayCloud(url, { appid: SIM_APPID, openid: simOpenId(SIM_APPID, name) }));
    const api = createCloudRunClient({ env: ENV, service: SERVICE, wx });
    const login = await api.login();
    assert.equal(login.is_new_user, true);
    assert.equal(login.token_type, 'Bearer');

    const { data: patched } = await api.PATCH('/v1/me', { body: { nickname: '云托管' } });
    assert.equal(patched.id, login.user.id);
    assert.equal(patched.nickname, '云托管');

    // The same (appid, openid) through wx.login is the same account.
    const viaCode = createClient({ baseUrl: url, transport: validating(url, fetchTransport()), tokens: memoryTokenStore(), loginCode: async () => `dev-${name}` });
    const wxLogin = await viaCode.login();
    assert.equal(wxLogin.user.id, login.user.id);
    assert.equal(wxLogin.is_new_user, false);
  });

  it('signs in again by itself when the session is gone, with no wx.login', async () => {
    const name = uniqueName('cr');
    const cloud = gatewayCloud(url, { appid: SIM_APPID, openid: simOpenId(SIM_APPID, name) });
    const wx = fakeWx(cloud);
    const api = createCloudRunClient({ env: ENV, service: SERVICE, wx });
    const { user } = await api.loginWithCloudRun();
    // A session the server no longer knows and no refresh token.
    wx.setStorageSync('miniback.session', { accessToken: 'not-a-token' });
    const { data: me } = await api.GET('/v1/me');
    assert.equal(me.id, user.id);
    assert.deepEqual(
      cloud.calls.map((c) => `${c.method} ${c.path}`),
      ['POST /v1/auth/cloudrun', 'GET /v1/me', 'POST /v1/auth/cloudrun', 'GET /v1/me'],
    );
  });

  it('a page cannot pick its user: identity headers it sends are the gateway’s to set', async () => {
    const victim = uniqueName('victim');
    const mallory = uniqueName('mallory');
    const victimApi = createCloudRunClient({ env: ENV, service: SERVICE, wx: fakeWx(gatewayCloud(url, { appid: SIM_APPID, openid: simOpenId(SIM_APPID, victim) })) });
    const { user: victimUser } = await victimApi.login();
    const malloryApi = createCloudRunClient({
      env: ENV,
      service: SERVICE,
      wx: fakeWx(gatewayCloud(url, { appid: SIM_APPID, openid: simOpenId(SIM_APPID, mallory) })),
      headers: { 'X-WX-OPENID': simOpenId(SIM_APPID, victim) },
    });
    const { user } = await malloryApi.login();
    assert.notEqual(user.id, victimUser.id);
  });

  it('a call the gateway sends without a user is 401 cloudrun_identity_missing', async () => {
    const api = createCloudRunClient({ env: ENV, service: SERVICE, wx: fakeWx(gatewayCloud(url)) });
    await assert.rejects(api.login(), (e: unknown) => e instanceof ApiProblem && e.status === 401 && e.code === 'cloudrun_identity_missing');
  });

  it('without the gateway, another route ignores the identity headers', async () => {
    const direct = createClient({ baseUrl: url, transport: validating(url, fetchTransport()), tokens: memoryTokenStore() });
    await assert.rejects(
      direct.GET('/v1/me', { headers: { 'X-WX-SOURCE': 'wx_client', 'X-WX-APPID': SIM_APPID, 'X-WX-OPENID': simOpenId(SIM_APPID, 'anyone') } }),
      (e: unknown) => e instanceof ApiProblem && e.status === 401 && e.code === 'token_missing',
    );
  });
});

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}
