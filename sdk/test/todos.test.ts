// The to-do operations through the SDK against the real miniback: create
// (with Idempotency-Key), list (pages, filters, sorts), read (ETag, 304),
// edit (If-Match, 412; over fetch and over wx.request), delete, and
// ownership. Every response is checked against openapi.yaml.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { ApiProblem, createWxClient, isApiProblem, type Todo } from '../src';
import { baseUrl, nodeClient, uniqueName } from './support/env';
import { wxShim } from './support/wxshim';

async function problem(p: Promise<unknown>): Promise<ApiProblem> {
  try {
    await p;
  } catch (e) {
    assert.ok(isApiProblem(e), `want an ApiProblem, got ${String(e)}`);
    return e;
  }
  assert.fail('want the call to fail with an ApiProblem');
}

async function signedIn() {
  const c = nodeClient();
  await c.login();
  return c;
}

describe('tasks: create (createTodo)', () => {
  it('creates a task with its defaults, ETag and Location', async () => {
    const c = await signedIn();
    const res = await c.POST('/v1/todos', { body: { title: '  Buy milk ', tags: ['Home', 'home', 'errands'], due_at: '2026-03-01T18:00:00+08:00' } });
    assert.equal(res.status, 201);
    const t = res.data;
    assert.equal(t.title, 'Buy milk');
    assert.equal(t.priority, 'normal');
    assert.equal(t.done, false);
    assert.deepEqual([...t.tags].sort(), ['errands', 'home']);
    assert.equal(t.due_at, '2026-03-01T18:00:00+08:00');
    assert.equal(res.headers.etag, `"v${t.version}"`);
    assert.match(res.headers.location ?? '', new RegExp(`/v1/todos/${t.id}$`));
  });

  it('a retry with the same Idempotency-Key answers the first task; another body with it is refused', async () => {
    const c = await signedIn();
    const key = randomUUID();
    const first = await c.POST('/v1/todos', { body: { title: 'Once' }, headers: { 'Idempotency-Key': key } });
    const again = await c.POST('/v1/todos', { body: { title: 'Once' }, headers: { 'Idempotency-Key': key } });
    assert.equal(again.data.id, first.data.id);
    assert.equal(again.headers['idempotent-replayed'], 'true');
    const { data: page } = await c.GET('/v1/todos');
    assert.equal(page.items.length, 1, 'one task, not two');

    const p = await problem(c.POST('/v1/todos', { body: { title: 'Other' }, headers: { 'Idempotency-Key': key } }));
    assert.equal(p.status, 422);
    assert.equal(p.code, 'idempotency_key_reused');
  });

  it('a title that breaks the rules is a field error', async () => {
    const c = await signedIn();
    const p = await problem(c.POST('/v1/todos', { body: { title: '   ' } }));
    assert.equal(p.status, 400);
    assert.ok(p.fieldError('title'), JSON.stringify(p.errors));
  });
});

describe('tasks: list (listTodos)', () => {
  it('walks every page with the cursor, newest first, none twice', async () => {
    const c = await signedIn();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await c.POST('/v1/todos', { body: { title: `task ${i}` } })).data.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { data } = await c.GET('/v1/todos', { query: { limit: 2, cursor } });
      seen.push(...data.items.map((t) => t.id));
      cursor = data.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    assert.equal(pages, 3);
    assert.deepEqual(seen, [...made].reverse());
  });

  it('filters by done, tag and text, and sorts by priority', async () => {
    const c = await signedIn();
    await c.POST('/v1/todos', { body: { title: 'Pay rent', priority: 'high', tags: ['home'] } });
    await c.POST('/v1/todos', { body: { title: 'Call mum', priority: 'low', done: true } });
    await c.POST('/v1/todos', { body: { title: 'Write report', notes: 'quarterly numbers', tags: ['work'] } });

    const titles = (items: Todo[]) => items.map((t) => t.title);
    assert.deepEqual(titles((await c.GET('/v1/todos', { query: { done: true } })).data.items), ['Call mum']);
    assert.deepEqual(titles((await c.GET('/v1/todos', { query: { tag: 'work' } })).data.items), ['Write report']);
    assert.deepEqual(titles((await c.GET('/v1/todos', { query: { q: 'QUARTERLY' } })).data.items), ['Write report']);
    assert.deepEqual(titles((await c.GET('/v1/todos', { query: { sort: '-priority' } })).data.items), ['Pay rent', 'Write report', 'Call mum']);
  });

  it('a cursor used with other filters is refused', async () => {
    const c = await signedIn();
    for (let i = 0; i < 3; i++) await c.POST('/v1/todos', { body: { title: `t${i}` } });
    const { data } = await c.GET('/v1/todos', { query: { limit: 1 } });
    assert.ok(data.next_cursor);
    const p = await problem(c.GET('/v1/todos', { query: { limit: 1, cursor: data.next_cursor, done: false } }));
    assert.equal(p.code, 'invalid_cursor');
  });
});

describe('tasks: read, edit, delete (getTodo, updateTodo, deleteTodo)', () => {
  it('reads a task with its ETag, and If-None-Match answers 304', async () => {
    const c = await signedIn();
    const { data: made } = await c.POST('/v1/todos', { body: { title: 'Read me' } });
    const res = await c.GET('/v1/todos/{id}', { path: { id: made.id } });
    assert.equal(res.status, 200);
    if (res.status === 200) assert.equal(res.data.title, 'Read me');
    const etag = res.headers.etag;
    assert.ok(etag);
    const cached = await c.GET('/v1/todos/{id}', { path: { id: made.id }, headers: { 'If-None-Match': etag } });
    assert.equal(cached.status, 304);
    assert.equal(cached.data, undefined);
  });

  it('edits with If-Match; a stale ETag is 412 and changes nothing', async () => {
    const c = await signedIn();
    const created = await c.POST('/v1/todos', { body: { title: 'Edit me', notes: 'n' } });
    const etag = created.headers.etag;
    const done = await c.PATCH('/v1/todos/{id}', { path: { id: created.data.id }, body: { done: true, notes: null }, headers: { 'If-Match': etag } });
    assert.equal(done.data.done, true);
    assert.ok(done.data.completed_at);
    assert.equal(done.data.notes, '');
    assert.equal(done.data.version, created.data.version + 1);

    const p = await problem(c.PATCH('/v1/todos/{id}', { path: { id: created.data.id }, body: { title: 'Lost update' }, headers: { 'If-Match': etag } }));
    assert.equal(p.status, 412);
    assert.equal(p.code, 'precondition_failed');
    const { data: now } = await c.GET('/v1/todos/{id}', { path: { id: created.data.id } });
    assert.equal(now?.title, 'Edit me');
  });

  it('edits over wx.request too (PATCH sent as POST with the override)', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    const api = createWxClient({ baseUrl: baseUrl(), wx });
    await api.login();
    const { data: t } = await api.POST('/v1/todos', { body: { title: 'From the phone' } });
    const { data: edited } = await api.PATCH('/v1/todos/{id}', { path: { id: t.id }, body: { priority: 'high' } });
    assert.equal(edited.priority, 'high');
    await api.DELETE('/v1/todos/{id}', { path: { id: t.id } });
  });

  it('deletes a task (If-Match honoured); then it is gone', async () => {
    const c = await signedIn();
    const created = await c.POST('/v1/todos', { body: { title: 'Delete me' } });
    const stale = await problem(c.DELETE('/v1/todos/{id}', { path: { id: created.data.id }, headers: { 'If-Match': '"v999"' } }));
    assert.equal(stale.status, 412);
    const res = await c.DELETE('/v1/todos/{id}', { path: { id: created.data.id }, headers: { 'If-Match': created.headers.etag } });
    assert.equal(res.status, 204);
    const gone = await problem(c.GET('/v1/todos/{id}', { path: { id: created.data.id } }));
    assert.equal(gone.status, 404);
  });

  it("another user's task does not exist for me, on every route", async () => {
    const alice = await signedIn();
    const bob = await signedIn();
    const { data: t } = await alice.POST('/v1/todos', { body: { title: "Alice's" } });
    for (const call of [
      () => bob.GET('/v1/todos/{id}', { path: { id: t.id } }),
      () => bob.PATCH('/v1/todos/{id}', { path: { id: t.id }, body: { title: 'mine now' } }),
      () => bob.DELETE('/v1/todos/{id}', { path: { id: t.id } }),
    ]) {
      const p = await problem(call());
      assert.equal(p.status, 404);
      assert.equal(p.code, 'not_found');
    }
    assert.equal((await bob.GET('/v1/todos')).data.items.length, 0);
    assert.equal((await alice.GET('/v1/todos/{id}', { path: { id: t.id } })).data?.title, "Alice's");
  });
});
