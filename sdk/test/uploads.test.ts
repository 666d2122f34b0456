// Uploads through the SDK against the real miniback with its local-disk
// storage: a ticket (createUpload), the file to the ticket's URL as
// wx.uploadFile sends it (localStoragePost) or as a PUT (localStoragePut),
// completion (completeUpload), reading (getUpload, localStorageGet), the
// avatar link (getAvatar) and task attachments. Every response, the
// storage's included, is checked against openapi.yaml.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ApiProblem, createWxClient, isApiProblem } from '../src';
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

const dir = mkdtempSync(join(tmpdir(), 'miniback-uploads-'));
// A 1×1 PNG.
const png = join(dir, 'avatar.png');
writeFileSync(png, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
const notes = join(dir, 'notes.txt');
writeFileSync(notes, 'shopping list: milk, eggs\n');
// The signed query of a local-storage URL, as the SDK's typed call takes it.
function signed(url: string) {
  const q = new URL(url).searchParams;
  const get = (k: string) => q.get(k) ?? assert.fail(`${url} has no ${k}`);
  return { key: get('key'), expires: get('expires'), signature: get('signature') };
}
function signedPut(url: string) {
  const q = new URL(url).searchParams;
  return { ...signed(url), content_type: q.get('content_type') ?? '', size_range: q.get('size_range') ?? '' };
}

describe('uploads', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('avatar: ticket, wx.uploadFile-style POST, complete, set as avatar; the link redirects to the picture', async () => {
    const c = nodeClient();
    await c.login();
    const size = statSync(png).size;
    const { data: ticket, status } = await c.POST('/v1/uploads', { body: { purpose: 'avatar', content_type: 'image/png', size, file_name: 'avatar.png' } });
    assert.equal(status, 201);
    assert.equal(ticket.upload.status, 'pending');
    assert.equal(ticket.file_field, 'file');
    assert.ok(ticket.url.startsWith(baseUrl()), `local storage: the ticket points at the API (${ticket.url})`);

    // Completing before the file arrived: still pending.
    const early = await problem(c.POST('/v1/uploads/{id}/complete', { path: { id: ticket.id } }));
    assert.equal(early.code, 'upload_not_received');

    const sent = await c.uploadFile({ url: ticket.url, name: ticket.file_field, formData: ticket.fields, filePath: png });
    assert.equal(sent.status, 204);
    const { data: ready } = await c.POST('/v1/uploads/{id}/complete', { path: { id: ticket.id } });
    assert.equal(ready.status, 'ready');
    assert.equal(ready.size, size);

    const { data: read } = await c.GET('/v1/uploads/{id}', { path: { id: ticket.id } });
    assert.equal(read.status, 'ready');
    assert.ok(read.download_url);
    const file = await c.GET('/v1/local-storage', { query: signed(read.download_url) });
    assert.equal(file.status, 200);
    assert.equal(file.headers['content-type'], 'image/png');

    const { data: me } = await c.PATCH('/v1/me', { body: { avatar_upload_id: ticket.id } });
    assert.match(me.avatar_url, new RegExp(`/v1/avatars/${ticket.id}$`));
    const avatar = await c.GET('/v1/avatars/{id}', { path: { id: ticket.id }, auth: false });
    assert.equal(avatar.status, 302);
    assert.ok(avatar.headers.location, 'redirects to a download URL');
  });

  it('upload() does the three steps; a PUT to put_url works too; the stored bytes are the file', async () => {
    const c = nodeClient();
    await c.login();
    const text = readFileSync(notes);
    const up = await c.upload({ purpose: 'attachment', contentType: 'text/plain', size: text.length, filePath: notes, fileName: 'notes.txt' });
    assert.equal(up.status, 'ready');
    const { data: read } = await c.GET('/v1/uploads/{id}', { path: { id: up.id } });
    const got = await c.GET('/v1/local-storage', { query: signed(read.download_url!) });
    assert.equal(got.data, text.toString());

    const { data: t2 } = await c.POST('/v1/uploads', { body: { purpose: 'attachment', content_type: 'text/plain', size: text.length } });
    const put = await c.PUT('/v1/local-storage', {
      query: signedPut(t2.put_url),
      headers: t2.put_headers,
      body: new Uint8Array(text),
      auth: false,
    });
    assert.equal(put.status, 204);
    assert.equal((await c.POST('/v1/uploads/{id}/complete', { path: { id: t2.id } })).data.status, 'ready');
  });

  it('a file that breaks its ticket is refused, by the storage or at completion', async () => {
    const c = nodeClient();
    await c.login();
    const { data: t } = await c.POST('/v1/uploads', { body: { purpose: 'avatar', content_type: 'image/png', size: 3 } });
    const refused = await problem(c.uploadFile({ url: t.url, name: t.file_field, formData: t.fields, filePath: png }));
    assert.ok(refused.status === 400 || refused.status === 413 || refused.status === 422, `status ${refused.status}`);
    const tooBig = await problem(c.POST('/v1/uploads', { body: { purpose: 'avatar', content_type: 'application/pdf', size: 10 } }));
    assert.equal(tooBig.status, 400);
    assert.ok(tooBig.fieldError('content_type'), JSON.stringify(tooBig.errors));
  });

  it("attachments: attach to my task, list, detach; not to someone else's task", async () => {
    const c = nodeClient();
    await c.login();
    const text = readFileSync(notes);
    const up = await c.upload({ purpose: 'attachment', contentType: 'text/plain', size: text.length, filePath: notes });
    const { data: task } = await c.POST('/v1/todos', { body: { title: 'With a file' } });
    const first = await c.POST('/v1/todos/{id}/attachments', { path: { id: task.id }, body: { upload_id: up.id } });
    assert.equal(first.status, 201);
    const again = await c.POST('/v1/todos/{id}/attachments', { path: { id: task.id }, body: { upload_id: up.id } });
    assert.equal(again.status, 200, 'attaching again is a safe retry');
    const { data: list } = await c.GET('/v1/todos/{id}/attachments', { path: { id: task.id } });
    assert.deepEqual(list.items.map((a) => a.upload.id), [up.id]);
    assert.ok(list.items[0].upload.download_url);

    const bob = nodeClient();
    await bob.login();
    const { data: bobsTask } = await bob.POST('/v1/todos', { body: { title: "Bob's" } });
    const p = await problem(c.POST('/v1/todos/{id}/attachments', { path: { id: bobsTask.id }, body: { upload_id: up.id } }));
    assert.equal(p.status, 404);

    const detached = await c.DELETE('/v1/todos/{id}/attachments/{upload_id}', { path: { id: task.id, upload_id: up.id } });
    assert.equal(detached.status, 204);
    assert.deepEqual((await c.GET('/v1/todos/{id}/attachments', { path: { id: task.id } })).data.items, []);
  });

  it('in a mini-program: upload() goes through wx.uploadFile', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    const api = createWxClient({ baseUrl: baseUrl(), wx });
    await api.login();
    const up = await api.upload({ purpose: 'avatar', contentType: 'image/png', size: statSync(png).size, filePath: png });
    assert.equal(up.status, 'ready');
    const { data: me } = await api.PATCH('/v1/me', { body: { avatar_upload_id: up.id } });
    assert.match(me.avatar_url, /\/v1\/avatars\//);
  });
});
