// Rate limits through the SDK, against a second miniback started with
// tight budgets (MINIBACK_RATE_LIMITS) on the same database: the main
// test server runs with the limits off, since every test file calls it
// from one address. A request over its budget is an ApiProblem 429
// `rate_limited` with Retry-After, and the raw answer carries the
// RateLimit-Policy and RateLimit fields (draft-ietf-httpapi-ratelimit-headers-10),
// all checked against openapi.yaml.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiProblem, createClient, fetchTransport, isApiProblem, memoryTokenStore, type HttpRequest, type HttpResponse, type Transport } from '../src';
import { validating } from './support/contract';
import { uniqueName } from './support/env';

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

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

/** A validating transport that keeps the last response, headers included. */
function recording(url: string): Transport & { last?: HttpResponse } {
  const inner = validating(url, fetchTransport());
  const t: Transport & { last?: HttpResponse } = {
    async request(req: HttpRequest) {
      t.last = await inner.request(req);
      return t.last;
    },
  };
  return t;
}

describe('rate limits (a second miniback with MINIBACK_RATE_LIMITS)', () => {
  let server: ChildProcess | undefined;
  let url = '';
  let dataDir = '';

  before(async () => {
    const bin = process.env.MINIBACK_BIN;
    const db = process.env.MINIBACK_TEST_DATABASE_URL;
    assert.ok(bin && db, 'run.mjs gives the binary and the database URL');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    dataDir = mkdtempSync(join(tmpdir(), 'miniback-ratelimit-'));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MINIBACK_') && k !== 'DATABASE_URL') env[k] = v;
    Object.assign(env, {
      MINIBACK_ADDR: `127.0.0.1:${port}`,
      MINIBACK_PUBLIC_URL: url,
      MINIBACK_DATA_DIR: dataDir,
      DATABASE_URL: db,
      MINIBACK_WECHAT_TIMEOUT: '2s',
      MINIBACK_RATE_LIMITS: 'signup:ip=2/h;read:ip=off,user=3/m',
    });
    const proc = spawn(bin, [], { cwd: dataDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    server = proc;
    let log = '';
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`the rate-limited miniback did not start:\n${log}`)), 60_000);
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
        fail(new Error(`the rate-limited miniback exited (${code}):\n${log}`));
      });
    });
    assert.match(log, /rate limits: in this process's memory/);
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((ok) => server!.once('exit', ok));
      server.kill('SIGTERM');
      await exited;
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('stops a sign-up burst at the budget: 429 rate_limited with Retry-After and the RateLimit fields', async () => {
    const transport = recording(url);
    const account = () => {
      const name = uniqueName('rl').replace(/-/g, '');
      return { username: name, email: `${name}@example.com`, password: 'a long and unusual passphrase 42' };
    };
    for (let i = 0; i < 2; i++) {
      const reg = await createClient({ baseUrl: url, transport, tokens: memoryTokenStore() }).register(account());
      assert.equal(reg.is_new_user, true);
    }
    const p = await problem(createClient({ baseUrl: url, transport, tokens: memoryTokenStore() }).register(account()));
    assert.equal(p.status, 429);
    assert.equal(p.code, 'rate_limited');
    // 2/h gives one back every 30 minutes.
    assert.equal(p.retryAfter, 1800);
    assert.equal(transport.last?.headers['ratelimit-policy'], '"signup-ip";q=2;w=3600');
    assert.equal(transport.last?.headers['ratelimit'], '"signup-ip";r=0;t=1800');
  });

  it("holds a user to their own budget: the user's fourth read in a minute is refused, another user's is not", async () => {
    const transport = recording(url);
    const alice = createClient({ baseUrl: url, transport, tokens: memoryTokenStore(), loginCode: async () => `dev-${uniqueName('rla')}` });
    const bob = createClient({ baseUrl: url, transport, tokens: memoryTokenStore(), loginCode: async () => `dev-${uniqueName('rlb')}` });
    await alice.login();
    await bob.login();
    for (let i = 0; i < 3; i++) await alice.GET('/v1/me');
    const p = await problem(alice.GET('/v1/me'));
    assert.equal(p.status, 429);
    assert.equal(p.code, 'rate_limited');
    assert.equal(transport.last?.headers['ratelimit-policy'], '"read-user";q=3;w=60');
    assert.ok(p.retryAfter !== undefined && p.retryAfter >= 1 && p.retryAfter <= 20, `Retry-After ${String(p.retryAfter)}`);
    assert.ok((await bob.GET('/v1/me')).data.id);
  });
});
