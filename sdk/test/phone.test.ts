// The phone number through the SDK against the real miniback: the code of
// a getPhoneNumber button (the simulator's `phone-<digits>` on embedded
// defaults) binds the number, every profile shows it, WeChat's refusals
// come back as their own problem codes, and an admin finds the user by it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApiProblem, isApiProblem } from '../src';
import { nodeClient, uniqueName } from './support/env';

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

/** A mainland number no other test uses. */
function uniqueNumber(): string {
  return `13${String(randomInt(0, 1e9)).padStart(9, '0')}`;
}

describe('my phone number (bindMyPhone, unbindMyPhone)', () => {
  it('binds the number of a getPhoneNumber code and shows it in GET /v1/me', async () => {
    const c = nodeClient();
    const { user } = await c.login();
    assert.equal(user.phone, undefined, 'a new user has no phone');
    const num = uniqueNumber();

    const { data: bound } = await c.POST('/v1/me/phone', { body: { code: `phone-${num}` } });
    assert.equal(bound.id, user.id);
    assert.ok(bound.phone);
    assert.equal(bound.phone.phone_number, num);
    assert.equal(bound.phone.pure_phone_number, num);
    assert.equal(bound.phone.country_code, '86');
    assert.ok(Date.parse(bound.phone.bound_at) > 0);

    const { data: me } = await c.GET('/v1/me');
    assert.deepEqual(me.phone, bound.phone);
  });

  it('decodes a country code WeChat sends as a number, and a number outside mainland China', async () => {
    const c = nodeClient();
    await c.login();
    const { data: asNumber } = await c.POST('/v1/me/phone', { body: { code: 'phonenum-13900139000' } });
    assert.equal(asNumber.phone?.country_code, '86');
    const { data: intl } = await c.POST('/v1/me/phone', { body: { code: 'intl-852-51234567' } });
    assert.deepEqual([intl.phone?.country_code, intl.phone?.pure_phone_number, intl.phone?.phone_number], ['852', '51234567', '+852 51234567']);
  });

  it('answers an invalid or used code with 422 and its own code, and WeChat busy with 503 and Retry-After', async () => {
    const c = nodeClient();
    await c.login();
    const invalid = await problem(c.POST('/v1/me/phone', { body: { code: 'err-40029' } }));
    assert.equal(invalid.status, 422);
    assert.equal(invalid.code, 'wechat_phone_code_invalid');

    const once = `once-phone-${uniqueNumber()}`;
    await c.POST('/v1/me/phone', { body: { code: once } });
    const used = await problem(c.POST('/v1/me/phone', { body: { code: once } }));
    assert.equal(used.status, 422);
    assert.equal(used.code, 'wechat_phone_code_invalid', 'WeChat answers a used code like an invalid one');

    const busy = await problem(c.POST('/v1/me/phone', { body: { code: 'err-busy' } }));
    assert.equal(busy.status, 503);
    assert.equal(busy.code, 'wechat_busy');
    assert.ok(busy.retryAfter !== undefined && busy.retryAfter > 0, `Retry-After: ${String(busy.retryAfter)}`);

    const other = await problem(c.POST('/v1/me/phone', { body: { code: 'otherapp-13800138000' } }));
    assert.equal(other.status, 502);
    assert.equal(other.code, 'wechat_phone_app_mismatch');
  });

  it('refuses a session from a password login: the code belongs to a mini-program', async () => {
    const c = nodeClient();
    const name = uniqueName('p').replace(/-/g, '');
    await c.register({ username: name, email: `${name}@example.com`, password: 'a long and unusual passphrase 42' });
    const p = await problem(c.POST('/v1/me/phone', { body: { code: 'phone-13800138000' } }));
    assert.equal(p.status, 403);
    assert.equal(p.code, 'wechat_login_required');
  });

  it('unbinds the number', async () => {
    const c = nodeClient();
    await c.login();
    await c.POST('/v1/me/phone', { body: { code: `phone-${uniqueNumber()}` } });
    const { data: gone } = await c.DELETE('/v1/me/phone');
    assert.equal(gone.phone, undefined);
    assert.equal((await c.GET('/v1/me')).data.phone, undefined);
  });

  it('an admin finds the user by the number, with or without the country code', async () => {
    const admin = nodeClient();
    const { user: adminUser } = await admin.login();
    const db = process.env.MINIBACK_TEST_DATABASE_URL;
    const bin = process.env.MINIBACK_BIN;
    assert.ok(db && bin, 'run.mjs gives the database URL and the binary');
    execFileSync(bin, ['admin', 'grant', adminUser.id], { env: { ...process.env, DATABASE_URL: db, MINIBACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'miniback-admin-')) }, stdio: 'pipe' });
    await admin.login(); // the role arrives with the next token

    const someone = nodeClient();
    const { user } = await someone.login();
    const num = uniqueNumber();
    await someone.POST('/v1/me/phone', { body: { code: `phone-${num}` } });
    for (const q of [num, `+86 ${num}`]) {
      const { data } = await admin.GET('/v1/admin/users', { query: { q } });
      assert.deepEqual(data.items.map((u) => u.id), [user.id], `q=${q}`);
      assert.equal(data.items[0].phone?.pure_phone_number, num);
    }
  });
});
