// Content security through the SDK against the real miniback on its
// embedded defaults: the WeChat simulator judges text by marker words
// ("sim-risky", "sim-review"), and the run command checks nicknames, bios
// and avatars by default. An admin sees what was flagged
// (listModeration) and decides (resolveModeration).
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

describe('content security (updateMe, listModeration, resolveModeration)', () => {
  it('refuses a risky nickname with content_risky on the field and keeps the old one', async () => {
    const c = nodeClient();
    await c.login();
    await c.PATCH('/v1/me', { body: { nickname: 'Alice' } });

    const p = await problem(c.PATCH('/v1/me', { body: { nickname: 'totally sim-risky' } }));
    assert.equal(p.status, 422);
    assert.equal(p.code, 'content_risky');
    assert.equal(p.fieldError('nickname')?.code, 'content_risky', JSON.stringify(p.errors));
    assert.equal((await c.GET('/v1/me')).data.nickname, 'Alice');
  });

  it('stores a bio WeChat wants reviewed and shows it to an admin, who decides', async () => {
    const author = nodeClient();
    const { user } = await author.login();
    const bio = `call me sim-review ${user.id.slice(0, 8)}`;
    const { data: me } = await author.PATCH('/v1/me', { body: { bio } });
    assert.equal(me.bio, bio);

    const admin = nodeClient();
    const { user: adminUser } = await admin.login();
    const denied = await problem(admin.GET('/v1/admin/moderation'));
    assert.equal(denied.status, 403);
    await makeAdmin(admin, adminUser.id);

    const { data: page } = await admin.GET('/v1/admin/moderation', { query: { status: 'open', limit: 100 } });
    const item = page.items.find((it) => it.content === bio);
    assert.ok(item, `the bio is not among ${JSON.stringify(page.items.map((it) => it.content))}`);
    assert.equal(item.subject, 'profile');
    assert.equal(item.subject_id, user.id);
    assert.equal(item.field, 'bio');
    assert.equal(item.verdict, 'review');
    assert.ok(item.trace_id);

    const { data: decided } = await admin.POST('/v1/admin/moderation/{id}/resolve', {
      path: { id: item.id },
      body: { action: 'approve' },
    });
    assert.equal(decided.status, 'approved');
    const { data: open } = await admin.GET('/v1/admin/moderation', { query: { limit: 100 } });
    assert.ok(!open.items.some((it) => it.id === item.id), 'a decided item is still open');
  });
});
