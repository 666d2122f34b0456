// The job queue's administration through the SDK against the real
// miniback (getAdminJobs, retryAdminJob, cancelAdminJob): an admin sees
// the counts and the last errors, runs a waiting job now, cancels it; an
// unknown job is 404 job_not_found, a job already waiting for a worker is
// 409 job_not_retryable; a user may not.
//
// The test's job is put straight into river's table, on a queue no
// server works, so it stays where the test leaves it.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApiProblem, createConsoleClient, fetchTransport, isApiProblem } from '../src';
import { validating } from './support/contract';
import { baseUrl, nodeClient, uniqueName } from './support/env';

const PASSWORD = 'a long and unusual passphrase 42';

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

function env(): { db: string; bin: string } {
  const db = process.env.MINIBACK_TEST_DATABASE_URL;
  const bin = process.env.MINIBACK_BIN;
  assert.ok(db && bin, 'run.mjs gives the database URL and the binary');
  return { db, bin };
}

/** A password account with the admin role: its login name. */
async function adminAccount(): Promise<string> {
  const name = uniqueName('jobs').replace(/-/g, '');
  const { user } = await nodeClient().register({ username: name, email: `${name}@example.com`, password: PASSWORD });
  const { db, bin } = env();
  execFileSync(bin, ['admin', 'grant', user.id], {
    env: { ...process.env, DATABASE_URL: db, MINIBACK_DATA_DIR: mkdtempSync(join(tmpdir(), 'miniback-admin-')) },
    stdio: 'pipe',
  });
  return name;
}

/** Inserts a job due in an hour on a queue nobody works: its id. */
function scheduledJob(): number {
  const out = execFileSync('psql', [env().db, '-Atqc',
    `INSERT INTO river_job (kind, args, queue, max_attempts, state, scheduled_at)
     VALUES ('sdk_test', '{}', 'sdk_test_unworked', 3, 'scheduled', now() + interval '1 hour') RETURNING id`,
  ]);
  return Number(out.toString().trim());
}

async function signedInAdmin() {
  const c = createConsoleClient({
    baseUrl: baseUrl(),
    transport: validating(baseUrl(), fetchTransport({})),
  });
  const login = await adminAccount();
  // The console client keeps its refresh token in a cookie Node's fetch
  // drops; the access token of the sign-in is all these calls need.
  await c.signIn({ login, password: PASSWORD });
  return c;
}

describe('the job queue (getAdminJobs, retryAdminJob, cancelAdminJob)', () => {
  it('an admin sees the counts, retries a scheduled job, cancels it', async () => {
    const c = await signedInAdmin();
    const id = scheduledJob();

    const { data: before } = await c.GET('/v1/admin/jobs', { query: { errors: 5 } });
    assert.ok((before.by_state.scheduled ?? 0) >= 1, 'the scheduled job is counted');
    assert.ok(before.by_kind.some((k) => k.kind === 'sdk_test' && k.state === 'scheduled' && k.count === 1));
    assert.ok(before.errors.length <= 5);

    const { data: retried } = await c.POST('/v1/admin/jobs/{id}/retry', { path: { id } });
    assert.equal(retried.id, id);
    assert.equal(retried.state, 'available', 'due now');
    // Waiting for a worker already: nothing to retry.
    const again = await problem(c.POST('/v1/admin/jobs/{id}/retry', { path: { id } }));
    assert.equal(again.status, 409);
    assert.equal(again.code, 'job_not_retryable');

    const { data: cancelled } = await c.POST('/v1/admin/jobs/{id}/cancel', { path: { id } });
    assert.equal(cancelled.state, 'cancelled');
    assert.ok(cancelled.finalized_at);

    const { data: after } = await c.GET('/v1/admin/jobs');
    assert.ok(after.by_kind.some((k) => k.kind === 'sdk_test' && k.state === 'cancelled'));
  });

  it('an unknown job is 404 job_not_found; a user may not see or steer the queue', async () => {
    const c = await signedInAdmin();
    for (const path of ['/v1/admin/jobs/{id}/retry', '/v1/admin/jobs/{id}/cancel'] as const) {
      const p = await problem(c.POST(path, { path: { id: 2 ** 40 } }));
      assert.equal(p.status, 404);
      assert.equal(p.code, 'job_not_found');
    }
    const user = nodeClient();
    await user.login();
    assert.equal((await problem(user.GET('/v1/admin/jobs'))).code, 'forbidden');
    assert.equal((await problem(user.POST('/v1/admin/jobs/{id}/cancel', { path: { id: 1 } }))).code, 'forbidden');
  });
});
