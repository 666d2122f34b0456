// The browser console's sign-in through the SDK against the real
// miniback (createConsoleClient): an admin signs in with a password, the
// refresh token stays in the session cookie (never in a body or in the
// SDK's token store), an expired access token is renewed through the
// cookie, sign-out ends the session; and the health page.
//
// Node's fetch keeps no cookies, so the tests give the console client a
// fetch with a cookie jar that does what a browser does with Set-Cookie.
// (The cookie is Secure: a browser keeps it on https, and on
// http://localhost; the jar keeps it on the test server's plain http.)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { ApiProblem, createConsoleClient, fetchTransport, isApiProblem, type FetchLike } from '../src';
import { validating } from './support/contract';
import { baseUrl, nodeClient, uniqueName } from './support/env';

const PASSWORD = 'a long and unusual passphrase 42';
const COOKIE = '__Secure-miniback-console';

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

/** A browser's cookie handling, for the console cookie: one jar per "browser". */
class CookieJar {
  value: string | null = null;
  /** Every Set-Cookie the server sent. */
  readonly seen: string[] = [];

  readonly fetch: FetchLike = async (url, init) => {
    const headers = { ...init.headers };
    if (this.value !== null && new URL(url).pathname.startsWith('/v1/console/') && init.credentials !== 'omit') {
      headers.Cookie = `${COOKIE}=${this.value}`;
    }
    const res = await fetch(url, { ...init, headers } as RequestInit);
    for (const sc of res.headers.getSetCookie()) {
      this.seen.push(sc);
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (name !== COOKIE) continue;
      this.value = attrs.includes('Max-Age=0') ? null : value;
    }
    return res;
  };
}

/** A console client in a "browser" with jar, its clock moved by skew. */
function consoleIn(jar: CookieJar, clock = { skew: 0 }) {
  return createConsoleClient({
    baseUrl: baseUrl(),
    transport: validating(baseUrl(), fetchTransport({ fetch: jar.fetch, credentials: 'same-origin' })),
    now: () => Date.now() + clock.skew,
  });
}

/** A password account with the admin role: its login name. */
async function adminAccount(): Promise<string> {
  const name = uniqueName('root').replace(/-/g, '');
  const { user } = await nodeClient().register({ username: name, email: `${name}@example.com`, password: PASSWORD });
  const db = process.env.MINIBACK_TEST_DATABASE_URL;
  const bin = process.env.MINIBACK_BIN;
  assert.ok(db && bin, 'run.mjs gives the database URL and the binary');
  execFileSync(bin, ['admin', 'grant', user.id], {
    env: { ...process.env, DATABASE_URL: db, MINIBACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'miniback-admin-')) },
    stdio: 'pipe',
  });
  return name;
}

describe('console sign-in (createConsoleSession, refreshConsoleSession, endConsoleSession)', () => {
  it('an admin signs in; the refresh token is only ever in the HttpOnly cookie', async () => {
    const login = await adminAccount();
    const jar = new CookieJar();
    const c = consoleIn(jar);
    const s = await c.signIn({ login, password: PASSWORD });
    assert.equal(s.user.role, 'admin');
    assert.equal('refresh_token' in s, false);
    assert.ok(jar.value?.startsWith('mbr_'), 'the cookie holds the refresh token');
    assert.match(jar.seen[0], /; Path=\/v1\/console\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
    assert.equal((await c.session())?.refreshToken, undefined, 'the SDK never holds a refresh token');
    assert.equal((await c.GET('/v1/admin/users', { query: { limit: 1 } })).status, 200);
  });

  it('an expired access token is renewed through the cookie, which rotates', async () => {
    const login = await adminAccount();
    const jar = new CookieJar();
    const clock = { skew: 0 };
    const c = consoleIn(jar, clock);
    const first = await c.signIn({ login, password: PASSWORD });
    const cookie = jar.value;
    clock.skew = (first.expires_in + 60) * 1000; // the access token has expired
    assert.equal((await c.GET('/v1/admin/health')).status, 200);
    assert.notEqual(jar.value, cookie, 'the refresh rotated the cookie');
    assert.notEqual((await c.session())?.accessToken, first.access_token);

    // A reload: memory is empty, the cookie resumes the session.
    const reloaded = consoleIn(jar);
    const resumed = await reloaded.resume();
    assert.equal(resumed?.user.id, first.user.id);
    assert.equal((await reloaded.GET('/v1/admin/users', { query: { limit: 1 } })).status, 200);
  });

  it('a non-admin is refused with console_admin_required and gets no cookie', async () => {
    const name = uniqueName('u').replace(/-/g, '');
    await nodeClient().register({ username: name, email: `${name}@example.com`, password: PASSWORD });
    const jar = new CookieJar();
    const p = await problem(consoleIn(jar).signIn({ login: name, password: PASSWORD }));
    assert.equal(p.status, 403);
    assert.equal(p.code, 'console_admin_required');
    assert.equal(jar.value, null);
  });

  it('signing out ends the session and clears the cookie; the old cookie no longer refreshes', async () => {
    const login = await adminAccount();
    const jar = new CookieJar();
    const c = consoleIn(jar);
    const s = await c.signIn({ login, password: PASSWORD });
    const cookie = jar.value;
    await c.signOut();
    assert.equal(jar.value, null);
    assert.equal(await c.session(), null);
    assert.equal(await consoleIn(jar).resume(), null, 'no cookie: nothing to resume');

    // A copy of the old cookie is refused, and so is the old access token.
    const stolen = new CookieJar();
    stolen.value = cookie;
    const p = await problem(consoleIn(stolen).POST('/v1/console/refresh', { headers: { 'X-Miniback-CSRF': '1' }, auth: false }));
    assert.equal(p.status, 401);
    const other = nodeClient();
    const q = await problem(
      other.GET('/v1/admin/users', { headers: { Authorization: `Bearer ${s.access_token}` }, auth: false }),
    );
    assert.equal(q.code, 'session_revoked');
  });

  it('a request without the CSRF header is refused with csrf_rejected', async () => {
    const login = await adminAccount();
    const jar = new CookieJar();
    await consoleIn(jar).signIn({ login, password: PASSWORD });
    const t = validating(baseUrl(), fetchTransport({ fetch: jar.fetch, credentials: 'same-origin' }));
    const res = await t.request({ method: 'POST', url: `${baseUrl()}/v1/console/refresh`, headers: { Accept: 'application/json' } });
    assert.equal(res.status, 403);
    assert.equal(JSON.parse(res.body).code, 'csrf_rejected');
    const cross = await t.request({
      method: 'POST',
      url: `${baseUrl()}/v1/console/logout`,
      headers: { 'X-Miniback-CSRF': '1', Origin: 'https://evil.example', Accept: 'application/json' },
    });
    assert.equal(cross.status, 403);
    assert.equal(JSON.parse(cross.body).code, 'csrf_rejected');
  });
});

describe('health at a glance (getAdminHealth)', () => {
  it('an admin sees readiness, the version, the database and WeChat; a user may not', async () => {
    const login = await adminAccount();
    const c = consoleIn(new CookieJar());
    await c.signIn({ login, password: PASSWORD });
    const { data: h } = await c.GET('/v1/admin/health');
    assert.equal(h.ready, true);
    assert.match(h.version, /^miniback /);
    assert.equal(h.database.status, 'ok');
    assert.ok((h.database.pool?.max ?? 0) >= 1);
    assert.ok(h.wechat.length >= 1, 'the simulator app is served');
    assert.equal(h.wechat[0].token?.present !== undefined, true);
    assert.equal(h.rate_limits.store, 'off', 'run.mjs switches the limits off');
    assert.ok(h.runtime.in_flight >= 1);

    const user = nodeClient();
    await user.login();
    const p = await problem(user.GET('/v1/admin/health'));
    assert.equal(p.status, 403);
    assert.equal(p.code, 'forbidden');
  });
});

// Debian's chromium, as the /docs test uses.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('console cookie in a real browser (chromium)', () => {
  let browser: BrowserContext;
  const profile = mkdtempSync(join(tmpdir(), 'miniback-chromium-'));

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  it('keeps the Secure cookie on the loopback http server, hides it from script, and scopes it to /v1/console/', async () => {
    const login = await adminAccount();
    const page = await browser.newPage();
    // A page of the server's own origin, as /console is.
    await page.goto(`${baseUrl()}/healthz`);
    const post = (path: string, body?: unknown, csrf = true) =>
      page.evaluate(
        async ({ path, body, csrf }) => {
          const headers: Record<string, string> = csrf ? { 'X-Miniback-CSRF': '1' } : {};
          if (body) headers['Content-Type'] = 'application/json';
          const res = await fetch(path, { method: 'POST', credentials: 'same-origin', headers, body: body ? JSON.stringify(body) : undefined });
          return { status: res.status, body: await res.text(), script: document.cookie };
        },
        { path, body, csrf },
      );
    const signIn = await post('/v1/console/session', { login, password: PASSWORD });
    assert.equal(signIn.status, 200, signIn.body);
    assert.ok(!signIn.body.includes('mbr_'), 'no refresh token in the body');
    assert.equal(signIn.script, '', 'HttpOnly: script sees no cookie');
    const [kept] = (await browser.cookies(baseUrl() + '/v1/console/refresh')).filter((c) => c.name === COOKIE);
    assert.ok(kept, 'the browser kept the cookie');
    assert.deepEqual([kept.path, kept.httpOnly, kept.secure, kept.sameSite], ['/v1/console/', true, true, 'Strict']);
    assert.equal((await browser.cookies(baseUrl() + '/v1/me')).filter((c) => c.name === COOKIE).length, 0, 'not sent outside /v1/console/');

    const refresh = await post('/v1/console/refresh');
    assert.equal(refresh.status, 200, `the browser sent the cookie: ${refresh.body}`);
    assert.equal((await post('/v1/console/refresh', undefined, false)).status, 403, 'no CSRF header');
    assert.equal((await post('/v1/console/logout')).status, 204);
    assert.equal((await post('/v1/console/refresh')).status, 401, 'the cleared cookie is gone');
    const cookies = await browser.cookies(baseUrl());
    assert.equal(cookies.filter((c) => c.name === COOKIE).length, 0);
  });
});
