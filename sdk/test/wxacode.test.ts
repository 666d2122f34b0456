// Mini-program codes through the SDK against the real miniback and its
// WeChat simulator: the image comes back as an ArrayBuffer on both
// transports (fetch in Node, wx.request with responseType 'arraybuffer' in
// a mini-program), identical requests are served from the cache, and
// refusals arrive as ApiProblem. Every response is checked against
// openapi.yaml, images by their first bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiProblem, callContainerTransport, createWxClient, fetchTransport, isApiProblem, utf8, type CallContainerOption, type FetchLike } from '../src';
import { baseUrl, nodeClient, uniqueName } from './support/env';
import { wxShim } from './support/wxshim';

const JPEG = [0xff, 0xd8, 0xff];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(buf: ArrayBuffer, magic: number[]): boolean {
  const head = new Uint8Array(buf, 0, Math.min(magic.length, buf.byteLength));
  return head.length === magic.length && magic.every((b, i) => head[i] === b);
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

/** A scene nobody else asks for, so the first request is a miss. */
function scene(): string {
  return uniqueName('card').slice(0, 32);
}

describe('mini-program codes', () => {
  it('Node: the code is an ArrayBuffer holding WeChat\'s JPEG; the same request again comes from the cache', async () => {
    const c = nodeClient();
    await c.login();
    const s = scene();
    const first = await c.POST('/v1/wxacode', { body: { scene: s, page: 'pages/index/index', width: 280 } });
    const image: ArrayBuffer = first.data; // typed as bytes, not text
    assert.ok(image instanceof ArrayBuffer, 'the body is an ArrayBuffer');
    assert.ok(startsWith(image, JPEG), 'JPEG magic bytes');
    assert.equal(first.headers['content-type'], 'image/jpeg');
    assert.equal(first.headers['x-wxacode-cache'], 'miss');
    assert.match(first.headers.etag ?? '', /^"[0-9a-f]{64}"$/);

    const again = await c.POST('/v1/wxacode', { body: { scene: s, page: 'pages/index/index', width: 280 } });
    assert.equal(again.headers['x-wxacode-cache'], 'hit');
    assert.deepEqual(new Uint8Array(again.data), new Uint8Array(image));
    assert.equal(again.headers.etag, first.headers.etag);
  });

  it('Node: a transparent code is a PNG', async () => {
    const c = nodeClient();
    await c.login();
    const { data, headers } = await c.POST('/v1/wxacode', { body: { scene: scene(), is_hyaline: true, line_color: { r: 7, g: 193, b: 96 } } });
    assert.equal(headers['content-type'], 'image/png');
    assert.ok(startsWith(data, PNG), 'PNG magic bytes');
  });

  it('Node: a scene WeChat would refuse is a 400 problem naming the field, before WeChat is asked', async () => {
    const c = nodeClient();
    await c.login();
    const p = await problem(c.POST('/v1/wxacode', { body: { scene: 'a b%' } }));
    assert.equal(p.status, 400);
    assert.equal(p.code, 'validation_failed');
    assert.ok(p.errors?.some((e) => e.field === 'body.scene'), JSON.stringify(p.errors));
  });

  it('Node: an unpublished page is 422 wxacode_page_not_found; check_path false makes the code', async () => {
    const c = nodeClient();
    await c.login();
    const p = await problem(c.POST('/v1/wxacode', { body: { scene: scene(), page: 'pages/unpublished/unpublished' } }));
    assert.equal(p.status, 422);
    assert.equal(p.code, 'wxacode_page_not_found');
    assert.match(p.detail ?? '', /check_path: false/);
    const { data } = await c.POST('/v1/wxacode', {
      body: { scene: scene(), page: 'pages/unpublished/unpublished', check_path: false, env_version: 'develop' },
    });
    assert.ok(startsWith(data, JPEG));
  });

  it('Node: a password account has no mini-program to make a code for', async () => {
    const c = nodeClient();
    const name = uniqueName('qr').replace(/-/g, '_');
    await c.register({ username: name, email: `${name}@example.com`, password: 'correct horse battery staple' });
    const p = await problem(c.POST('/v1/wxacode', { body: { scene: scene() } }));
    assert.equal(p.status, 403);
    assert.equal(p.code, 'wechat_login_required');
  });

  it('mini-program: wx.request with responseType arraybuffer gives the image; a problem still arrives as ApiProblem', async () => {
    const wx = wxShim(baseUrl(), uniqueName());
    const api = createWxClient({ baseUrl: baseUrl(), wx });
    await api.login();
    const { data, headers } = await api.POST('/v1/wxacode', { body: { scene: scene(), is_hyaline: true } });
    assert.ok(startsWith(data, PNG), 'PNG magic bytes');
    assert.equal(headers['content-type'], 'image/png');

    // The problem document came as bytes (wx.request cannot know in
    // advance): the transport decodes it.
    const p = await problem(api.POST('/v1/wxacode', { body: { scene: scene(), page: 'pages/nowhere/nowhere' } }));
    assert.equal(p.code, 'wxacode_page_not_found');
    assert.equal(p.status, 422);
  });
});

describe('utf8 (the wx transport\'s decoder when the base library has no TextDecoder)', () => {
  const g = globalThis as { TextDecoder?: unknown };
  const samples: [string, number[]][] = [
    ['ASCII', [...Buffer.from('{"code":"x"}')]],
    ['Chinese', [...Buffer.from('页面不存在')]],
    ['an emoji (4 bytes)', [...Buffer.from('ok 👍')]],
    ['a truncated sequence', [0x61, 0xe9, 0xa1]],
    ['an overlong slash', [0xc0, 0xaf]],
    ['a surrogate', [0xed, 0xa0, 0x80]],
    ['a stray continuation byte', [0x80, 0x61]],
  ];
  for (const [name, bytes] of samples) {
    it(`decodes ${name} as TextDecoder does`, () => {
      const buf = new Uint8Array(bytes).buffer;
      const want = new TextDecoder().decode(new Uint8Array(bytes));
      const saved = g.TextDecoder;
      delete g.TextDecoder;
      try {
        assert.equal(utf8(buf), want);
      } finally {
        g.TextDecoder = saved;
      }
    });
  }
});

describe('fetchTransport with responseType arraybuffer', () => {
  const answer = (contentType: string, withArrayBuffer: boolean): FetchLike => async () => ({
    status: 200,
    headers: { forEach: (cb: (v: string, k: string) => void) => cb(contentType, 'Content-Type') },
    text: async () => '{"ok":true}',
    ...(withArrayBuffer ? { arrayBuffer: async () => new Uint8Array(PNG).buffer } : {}),
  });
  const req = { method: 'POST' as const, url: 'http://x/v1/wxacode', headers: {}, responseType: 'arraybuffer' as const };

  it('reads an image as bytes', async () => {
    const res = await fetchTransport({ fetch: answer('image/png', true) }).request(req);
    assert.equal(res.body, '');
    assert.ok(res.bytes && startsWith(res.bytes, PNG));
  });
  it('still reads JSON (a problem) as text', async () => {
    const res = await fetchTransport({ fetch: answer('application/problem+json', true) }).request(req);
    assert.equal(res.body, '{"ok":true}');
    assert.equal(res.bytes, undefined);
  });
  it('refuses a fetch that cannot give bytes rather than corrupt the image', async () => {
    await assert.rejects(fetchTransport({ fetch: answer('image/png', false) }).request(req), /arrayBuffer/);
  });
});

describe('callContainer transport with responseType arraybuffer', () => {
  // A wx.cloud answering every call with the given type and bytes.
  const cloud = (contentType: string, bytes: number[], seen: CallContainerOption[]) => ({
    callContainer(o: CallContainerOption) {
      seen.push(o);
      queueMicrotask(() => o.success?.({ statusCode: 200, header: { 'Content-Type': contentType }, data: new Uint8Array(bytes).buffer, errMsg: 'ok' }));
    },
  });
  const req = { method: 'POST' as const, url: '/v1/wxacode', headers: {}, body: '{"scene":"a"}', responseType: 'arraybuffer' as const };

  it('asks callContainer for bytes and keeps an image as bytes', async () => {
    const seen: CallContainerOption[] = [];
    const res = await callContainerTransport(cloud('image/png', PNG, seen), { env: 'prod-1', service: 'api' }).request(req);
    assert.equal(seen[0].responseType, 'arraybuffer');
    assert.ok(res.bytes && startsWith(res.bytes, PNG));
    assert.equal(res.body, '');
  });
  it('decodes a problem document that came as bytes', async () => {
    const seen: CallContainerOption[] = [];
    const doc = [...Buffer.from('{"code":"wxacode_page_not_found","detail":"页面"}')];
    const res = await callContainerTransport(cloud('application/problem+json', doc, seen), { env: 'prod-1', service: 'api' }).request(req);
    assert.equal(res.body, '{"code":"wxacode_page_not_found","detail":"页面"}');
    assert.equal(res.bytes, undefined);
  });
});
