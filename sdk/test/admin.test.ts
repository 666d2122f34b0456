// The administrators' operations on users and the audit log through the
// SDK against the real miniback: a user's page (getUser), sessions
// (listUserSessions, endUserSession, endUserSessions), uploads
// (listUserUploads), disabling (disableUser, enableUser), the admin role
// (grantAdmin, revokeAdmin) and the audit log (listAuditLog).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApiProblem, isApiProblem } from '../src';
import { nodeClient } from './support/env';

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

/** Makes the signed-in user of client an admin, as an operator does. */
async function makeAdmin(client: ReturnType<typeof nodeClient>, id: string): Promise<void> {
  const db = process.env.MINIBACK_TEST_DATABASE_URL;
  const bin = process.env.MINIBACK_BIN;
  assert.ok(db && bin, 'run.mjs gives the database URL and the binary');
  execFileSync(bin, ['admin', 'grant', id], {
    env: { ...process.env, DATABASE_URL: db, MINIBACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'miniback-admin-')) },
    stdio: 'pipe',
  });
  await client.login(); // the role arrives with the next token
}

describe('admin operations on users (getUser, listUserSessions, endUserSession, endUserSessions, listUserUploads)', () => {
  it("shows a user's page and ends their sessions", async () => {
    const admin = nodeClient();
    const { user: root } = await admin.login();
    await makeAdmin(admin, root.id);

    const alice = nodeClient();
    const { user } = await alice.login();
    const path = { id: user.id };
    const { data: v } = await admin.GET('/v1/admin/users/{id}', { path });
    assert.equal(v.user.id, user.id);
    assert.equal(v.disabled, false);
    assert.equal(v.wechat.length, 1);
    assert.ok(v.wechat[0].openid);
    assert.equal(v.counts.active_sessions, 1);
    assert.ok(!JSON.stringify(v).includes('session_key'));

    const { data: uploads } = await admin.GET('/v1/admin/users/{id}/uploads', { path, query: { limit: 10 } });
    assert.deepEqual(uploads.items, []);

    const { data: sessions } = await admin.GET('/v1/admin/users/{id}/sessions', { path, query: { state: 'active' } });
    assert.equal(sessions.items.length, 1);
    assert.equal(sessions.items[0].active, true);
    await admin.DELETE('/v1/admin/users/{id}/sessions/{session_id}', { path: { id: user.id, session_id: sessions.items[0].id } });
    const { data: ended } = await admin.GET('/v1/admin/users/{id}/sessions', { path, query: { state: 'ended' } });
    assert.equal(ended.items[0].end_reason, 'ended_by_admin');

    await alice.login();
    const { data: all } = await admin.DELETE('/v1/admin/users/{id}/sessions', { path });
    assert.equal(all.ended, 1);

    const p = await problem(alice.GET('/v1/admin/users/{id}', { path: { id: root.id } }));
    assert.equal(p.code, 'forbidden');
  });
});

describe('disabling and the admin role (disableUser, enableUser, grantAdmin, revokeAdmin, listAuditLog)', () => {
  it('a disabled user cannot log in until enabled; every action is in the audit log', async () => {
    const admin = nodeClient();
    const { user: root } = await admin.login();
    await makeAdmin(admin, root.id);
    const bob = nodeClient();
    const { user } = await bob.login();
    const path = { id: user.id };

    const { data: off } = await admin.POST('/v1/admin/users/{id}/disable', { path, body: { reason: 'spam' } });
    assert.equal(off.disabled, true);
    assert.equal(off.disabled_reason, 'spam');
    const refused = await problem(nodeClient(bob.name).login());
    assert.equal(refused.status, 403);
    assert.equal(refused.code, 'account_disabled');
    const self = await problem(admin.POST('/v1/admin/users/{id}/disable', { path: { id: root.id }, body: { reason: 'x' } }));
    assert.equal(self.code, 'cannot_disable_self');

    const { data: on } = await admin.POST('/v1/admin/users/{id}/enable', { path });
    assert.equal(on.disabled, false);
    await bob.login();

    const { data: granted } = await admin.PUT('/v1/admin/users/{id}/roles/admin', { path });
    assert.equal(granted.user.role, 'admin');
    const { data: revoked } = await admin.DELETE('/v1/admin/users/{id}/roles/admin', { path });
    assert.equal(revoked.user.role, 'user');
    const own = await problem(admin.DELETE('/v1/admin/users/{id}/roles/admin', { path: { id: root.id } }));
    assert.equal(own.code, 'cannot_revoke_own_admin');

    const { data: log } = await admin.GET('/v1/admin/audit', { query: { actor: root.id, target_id: user.id } });
    assert.deepEqual(
      log.items.map((e) => e.action),
      ['user.admin.revoke', 'user.admin.grant', 'user.enable', 'user.disable'],
    );
    assert.ok(log.items.every((e) => e.client_address && e.request_id && e.target_kind === 'user'));
    const { data: page } = await admin.GET('/v1/admin/audit', { query: { action: 'user.disable', limit: 1 } });
    assert.equal(page.items[0].details.reason, 'spam');
  });
});
