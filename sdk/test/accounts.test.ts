// Accounts and sessions through the SDK against the real miniback:
// password accounts (register, log in, set a password, bind WeChat), my
// sessions (list, end one, end the others), deleting my account, the
// signing keys (JWKS) and the admin's user list.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
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

const PASSWORD = 'a long and unusual passphrase 42';

function account() {
  const name = uniqueName('u').replace(/-/g, '');
  return { username: name, email: `${name}@example.com`, password: PASSWORD };
}

describe('password accounts (registerWithPassword, loginWithPassword, setMyPassword, bindMyWeChat)', () => {
  it('registers, signs in by username and by email, and refuses a wrong password', async () => {
    const a = account();
    const c = nodeClient();
    const reg = await c.register(a);
    assert.equal(reg.is_new_user, true);
    assert.equal((await c.GET('/v1/me')).data.id, reg.user.id);

    const byName = nodeClient();
    assert.equal((await byName.loginWithPassword({ login: a.username.toUpperCase(), password: PASSWORD })).user.id, reg.user.id);
    const byEmail = nodeClient();
    assert.equal((await byEmail.loginWithPassword({ login: a.email, password: PASSWORD })).user.id, reg.user.id);
    assert.equal((await byEmail.GET('/v1/me')).data.id, reg.user.id);

    const p = await problem(nodeClient().loginWithPassword({ login: a.username, password: 'not the password' }));
    assert.equal(p.status, 401);
    assert.equal(p.code, 'invalid_credentials');
  });

  it('registration rules come back as field errors; a taken username is 409', async () => {
    const a = account();
    const weak = await problem(nodeClient().register({ ...a, password: 'password' }));
    assert.equal(weak.status, 400);
    assert.ok(weak.fieldError('password'), JSON.stringify(weak.errors));
    await nodeClient().register(a);
    const taken = await problem(nodeClient().register({ ...a, email: `x${a.email}` }));
    assert.equal(taken.status, 409);
    assert.equal(taken.code, 'username_taken');
  });

  it('a WeChat user sets a first password and can then log in with it; changing it needs the current one', async () => {
    const c = nodeClient();
    const { user } = await c.login();
    const a = account();
    const set = await c.PUT('/v1/me/password', { body: { new_password: PASSWORD, username: a.username, email: a.email } });
    assert.equal(set.status, 204);
    const again = nodeClient();
    assert.equal((await again.loginWithPassword({ login: a.username, password: PASSWORD })).user.id, user.id);

    const wrong = await problem(c.PUT('/v1/me/password', { body: { current_password: 'nope nope nope', new_password: `${PASSWORD}!` } }));
    assert.equal(wrong.code, 'current_password_incorrect');
    await c.PUT('/v1/me/password', { body: { current_password: PASSWORD, new_password: `${PASSWORD}!` } });
    assert.equal((await nodeClient().loginWithPassword({ login: a.email, password: `${PASSWORD}!` })).user.id, user.id);
  });

  it('a password account binds WeChat, then logs in with wx.login too', async () => {
    const c = nodeClient();
    const reg = await c.register(account());
    const wechatName = uniqueName();
    const { data: bound } = await c.POST('/v1/me/wechat', { body: { code: `dev-${wechatName}` } });
    assert.equal(bound.id, reg.user.id);
    const viaWeChat = await nodeClient(wechatName).login();
    assert.equal(viaWeChat.user.id, reg.user.id);
    assert.equal(viaWeChat.is_new_user, false);

    // A WeChat user that already has an account of its own is not merged.
    const other = uniqueName();
    await nodeClient(other).login();
    const p = await problem(c.POST('/v1/me/wechat', { body: { code: `dev-${other}` } }));
    assert.equal(p.status, 409);
  });
});

describe('my sessions (listSessions, endSession, endOtherSessions)', () => {
  it('lists my sessions, ends one, then all the others', async () => {
    const name = uniqueName();
    const phone = nodeClient(name);
    const tablet = nodeClient(name);
    const laptop = nodeClient(name);
    await phone.login();
    await tablet.login();
    await laptop.login();

    const { data: list } = await phone.GET('/v1/auth/sessions');
    assert.equal(list.items.length, 3);
    assert.equal(list.items.filter((s) => s.current).length, 1);

    const tabletSession = (await tablet.GET('/v1/auth/sessions')).data.items.find((s) => s.current);
    assert.ok(tabletSession);
    const ended = await phone.DELETE('/v1/auth/sessions/{id}', { path: { id: tabletSession.id } });
    assert.equal(ended.status, 204);
    assert.equal((await phone.GET('/v1/auth/sessions')).data.items.length, 2);

    const { data: others } = await phone.DELETE('/v1/auth/sessions');
    assert.equal(others.ended, 1);
    const left = (await phone.GET('/v1/auth/sessions')).data.items;
    assert.equal(left.length, 1);
    assert.equal(left[0].current, true);
  });
});

describe('deleting my account (deleteMe)', () => {
  it('deletes the account; the SDK forgets the session; a new login is a new user', async () => {
    const name = uniqueName();
    const c = nodeClient(name);
    const first = await c.login();
    await c.PATCH('/v1/me', { body: { nickname: 'gone soon' } });
    const res = await c.DELETE('/v1/me');
    assert.equal(res.status, 204);
    assert.equal(await c.session(), null, 'no session left to renew');
    const p = await problem(c.GET('/v1/me'));
    assert.equal(p.code, 'token_missing');
    const again = await c.login();
    assert.equal(again.is_new_user, true);
    assert.notEqual(again.user.id, first.user.id);
  });
});

describe('signing keys (getJWKS)', () => {
  it('publishes the public key that verifies access tokens', async () => {
    const c = nodeClient();
    const { access_token } = await c.login();
    const kid = JSON.parse(Buffer.from(access_token.split('.')[0], 'base64url').toString()).kid as string;
    const { data } = await c.GET('/.well-known/jwks.json');
    const key = data.keys.find((k) => k.kid === kid);
    assert.ok(key, `the JWKS has the token's kid ${kid}`);
    assert.equal(JSON.stringify(key).includes('"d"'), false, 'no private part');
  });
});

describe('admin (listUsers)', () => {
  it('an admin lists and searches users; a user may not', async () => {
    const admin = nodeClient();
    const { user } = await admin.login();
    const p = await problem(admin.GET('/v1/admin/users'));
    assert.equal(p.status, 403);
    assert.equal(p.code, 'forbidden');

    // miniback's own admin command, on the test server's database.
    const db = process.env.MINIBACK_TEST_DATABASE_URL;
    const bin = process.env.MINIBACK_BIN;
    assert.ok(db && bin, 'run.mjs gives the database URL and the binary');
    execFileSync(bin, ['admin', 'grant', user.id], { env: { ...process.env, DATABASE_URL: db, MINIBACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'miniback-admin-')) }, stdio: 'pipe' });
    await admin.login(); // the role arrives with the next token

    const someone = nodeClient();
    const { user: target } = await someone.login();
    await someone.PATCH('/v1/me', { body: { nickname: `findme${target.id.slice(0, 8)}` } });
    const { data: found } = await admin.GET('/v1/admin/users', { query: { q: `findme${target.id.slice(0, 8)}` } });
    assert.deepEqual(found.items.map((u) => u.id), [target.id]);
    const { data: page } = await admin.GET('/v1/admin/users', { query: { limit: 1 } });
    assert.equal(page.items.length, 1);
    assert.ok(page.next_cursor);
    const { data: next } = await admin.GET('/v1/admin/users', { query: { limit: 1, cursor: page.next_cursor } });
    assert.notEqual(next.items[0].id, page.items[0].id);
  });
});
