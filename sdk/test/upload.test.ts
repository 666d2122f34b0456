// api.uploadFile with both transports sends what a storage POST policy
// expects: multipart/form-data, the policy's fields before the file part,
// the file under its field name, no access token. The receiver is a real
// HTTP server in this process that parses the multipart body.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiProblem, createClient, createWxClient, memoryTokenStore } from '../src';
import { nodeTransport } from './support/env';
import { wxShim } from './support/wxshim';

interface Received {
  contentType: string;
  authorization?: string;
  fields: [string, string][];
  file?: { field: string; name: string; bytes: string };
  fieldsBeforeFile: boolean;
}

describe('uploadFile', () => {
  let server: Server;
  let url = '';
  const received: Received[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'miniback-upload-'));
  const file = join(dir, 'avatar.png');
  writeFileSync(file, Buffer.from('\x89PNG fake image bytes', 'latin1'));

  before(async () => {
    server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const contentType = String(req.headers['content-type']);
      const form = await new Request('http://x/', { method: 'POST', headers: { 'content-type': contentType }, body }).formData();
      const r: Received = { contentType, authorization: req.headers.authorization, fields: [], fieldsBeforeFile: true };
      let seenFile = false;
      for (const [k, v] of form.entries()) {
        if (typeof v === 'string') {
          r.fields.push([k, v]);
          if (seenFile) r.fieldsBeforeFile = false;
        } else {
          seenFile = true;
          r.file = { field: k, name: (v as File).name, bytes: Buffer.from(await v.arrayBuffer()).toString('latin1') };
        }
      }
      received.push(r);
      if (r.fields.some(([k]) => k === 'reject')) {
        res.writeHead(403, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'https://miniback.dev/problems/upload_refused', title: 'Refused', status: 403, code: 'upload_refused' }));
        return;
      }
      res.writeHead(204).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const addr = server.address();
    assert.ok(addr && typeof addr === 'object');
    url = `http://127.0.0.1:${addr.port}/upload`;
  });

  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const policy = { key: 'uploads/u1/avatar.png', policy: 'eyJleHAiOjF9', 'x-amz-signature': 'abc' };

  it('fetch transport: fields first, the file under its name, no token', async () => {
    const api = createClient({ baseUrl: 'http://127.0.0.1:1', transport: nodeTransport(), tokens: memoryTokenStore({ accessToken: 'secret-token' }) });
    const res = await api.uploadFile({ url, name: 'file', filePath: file, formData: policy });
    assert.equal(res.status, 204);
    const r = received.pop()!;
    assert.match(r.contentType, /^multipart\/form-data; boundary=/);
    assert.deepEqual(r.fields, Object.entries(policy));
    assert.equal(r.fieldsBeforeFile, true);
    assert.deepEqual(r.file, { field: 'file', name: 'avatar.png', bytes: '\x89PNG fake image bytes' });
    assert.equal(r.authorization, undefined, 'the access token never goes to a storage URL');
  });

  it('wx transport (wx.uploadFile): the same request', async () => {
    const wx = wxShim('http://127.0.0.1:1', 'nobody');
    wx.setStorageSync('miniback.session', { accessToken: 'secret-token' });
    const api = createWxClient({ baseUrl: 'http://127.0.0.1:1', wx });
    const res = await api.uploadFile({ url, name: 'file', filePath: file, formData: policy });
    assert.equal(res.status, 204);
    const r = received.pop()!;
    assert.deepEqual(r.fields, Object.entries(policy));
    assert.equal(r.fieldsBeforeFile, true);
    assert.equal(r.file?.field, 'file');
    assert.equal(r.authorization, undefined);
  });

  it('a refusal surfaces as ApiProblem, even though wx.uploadFile hides the content type', async () => {
    const wx = wxShim('http://127.0.0.1:1', 'nobody');
    const api = createWxClient({ baseUrl: 'http://127.0.0.1:1', wx });
    await assert.rejects(
      api.uploadFile({ url, name: 'file', filePath: file, formData: { reject: '1' } }),
      (e: unknown) => e instanceof ApiProblem && e.status === 403 && e.code === 'upload_refused',
    );
  });
});
