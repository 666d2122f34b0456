import { createClient, type ClientOptions, type MinibackClient } from './client';
import { ApiProblem } from './problem';
import { storageTokenStore } from './tokens';
import { isTextType, type HttpResponse, type Transport } from './transport';

// The wx API as the SDK uses it. These are the shapes of
// miniprogram-api-typings' WechatMiniprogram.Wx, cut down to what the SDK
// calls, so that this package's types stand alone (the typings' globals
// clash with @types/node in Node projects); typecheck/wx-typings.ts proves
// at build time that the real `wx` fits them.

interface WxFail {
  errMsg: string;
}

export interface WxRequestOption {
  url: string;
  method?: 'OPTIONS' | 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE' | 'TRACE' | 'CONNECT';
  header?: Record<string, string>;
  data?: string | ArrayBuffer;
  dataType?: string;
  responseType?: 'text' | 'arraybuffer';
  timeout?: number;
  success?: (res: { statusCode: number; header: Record<string, unknown>; data: unknown; errMsg: string }) => void;
  fail?: (err: WxFail) => void;
}

export interface WxUploadFileOption {
  url: string;
  filePath: string;
  name: string;
  formData?: Record<string, string>;
  header?: Record<string, string>;
  timeout?: number;
  success?: (res: { statusCode: number; data: string; errMsg: string }) => void;
  fail?: (err: WxFail) => void;
}

export interface WxLoginOption {
  timeout?: number;
  success?: (res: { code: string; errMsg: string }) => void;
  fail?: (err: WxFail) => void;
}

/** The parts of the mini-program's `wx` the SDK uses. */
export interface WxApi {
  request(option: WxRequestOption): unknown;
  uploadFile(option: WxUploadFileOption): unknown;
  login(option: WxLoginOption): unknown;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, data: unknown): void;
  removeStorageSync(key: string): void;
}

export interface WxTransportOptions {
  /** Milliseconds before wx.request / wx.uploadFile give up (wx's default is 60000). */
  timeout?: number;
}

/**
 * wxTransport sends requests with wx.request and uploads with
 * wx.uploadFile. wx.request has no PATCH, so a PATCH goes as a POST with
 * `X-HTTP-Method-Override: PATCH`, which miniback honours.
 */
export function wxTransport(w: Pick<WxApi, 'request' | 'uploadFile'>, options: WxTransportOptions = {}): Transport {
  return {
    request(req) {
      const header: Record<string, string> = { ...req.headers };
      let method: WxRequestOption['method'];
      if (req.method === 'PATCH') {
        method = 'POST';
        header['X-HTTP-Method-Override'] = 'PATCH';
      } else {
        method = req.method;
      }
      // An image must come as bytes: wx.request decides before the
      // answer arrives, so a problem document then comes as bytes too.
      const binary = req.responseType === 'arraybuffer';
      return new Promise<HttpResponse>((resolve, reject) => {
        w.request({
          url: req.url,
          method,
          header,
          data: req.body instanceof Uint8Array ? toArrayBuffer(req.body) : req.body,
          // Anything but 'json' leaves the body as text: the SDK decodes
          // JSON and problem documents itself.
          dataType: 'text',
          responseType: binary ? 'arraybuffer' : 'text',
          timeout: options.timeout,
          success: (res) => resolve(wxResponse(res)),
          fail: (err) => reject(ApiProblem.network(err.errMsg)),
        });
      });
    },
    upload(req) {
      if (!req.filePath) return Promise.reject(new Error('wxTransport.upload: pass filePath (a temp file path from wx.chooseMedia)'));
      const filePath = req.filePath;
      return new Promise<HttpResponse>((resolve, reject) => {
        w.uploadFile({
          url: req.url,
          filePath,
          name: req.name,
          formData: req.formData,
          header: req.headers,
          timeout: options.timeout,
          // wx.uploadFile reports no response headers.
          success: (res) => resolve({ status: res.statusCode, headers: guessType(res.data), body: res.data }),
          fail: (err) => reject(ApiProblem.network(err.errMsg)),
        });
      });
    },
  };
}

/** wxLoginCode returns a function that gets a fresh code from wx.login. */
export function wxLoginCode(w: Pick<WxApi, 'login'>): () => Promise<string> {
  return () =>
    new Promise<string>((resolve, reject) => {
      w.login({
        success: (res) => (res.code ? resolve(res.code) : reject(ApiProblem.network(`wx.login gave no code: ${res.errMsg}`))),
        fail: (err) => reject(ApiProblem.network(err.errMsg)),
      });
    });
}

export interface WxClientOptions extends Omit<ClientOptions, 'transport' | 'tokens' | 'loginCode'> {
  /** The wx object; the global `wx` by default. */
  wx?: WxApi;
  /** The storage key of the session (default `miniback.session`). */
  storageKey?: string;
  /**
   * Where login codes come from; wx.login by default. With miniback's
   * WeChat simulator, use `async () => 'dev-alice'`.
   */
  loginCode?: () => Promise<string>;
  timeout?: number;
}

/**
 * createWxClient is the client for a mini-program: wx.request transport,
 * the session in wx storage, wx.login for sign-in and silent renewal.
 */
export function createWxClient(options: WxClientOptions): MinibackClient {
  const w = options.wx ?? globalWx();
  return createClient({
    ...options,
    transport: wxTransport(w, { timeout: options.timeout }),
    tokens: storageTokenStore(w, options.storageKey),
    loginCode: options.loginCode ?? wxLoginCode(w),
  });
}

declare const wx: WxApi | undefined;

function globalWx(): WxApi {
  // A mini-program's wx is a global of its own, not a globalThis property.
  const w = typeof wx === 'undefined' ? (globalThis as unknown as { wx?: WxApi }).wx : wx;
  if (w) return w;
  throw new Error('createWxClient: no wx here; pass options.wx');
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/**
 * wxResponse turns a wx.request (or wx.cloud.callContainer) answer into
 * an HttpResponse: bytes (responseType 'arraybuffer') stay bytes unless
 * they are text, such as a problem document, which is decoded.
 */
export function wxResponse(res: { statusCode: number; header: Record<string, unknown>; data: unknown }): HttpResponse {
  const headers = lowerKeys(res.header);
  const status = res.statusCode;
  if (isArrayBuffer(res.data)) {
    return isTextType(headers['content-type']) ? { status, headers, body: utf8(res.data) } : { status, headers, body: '', bytes: res.data };
  }
  return { status, headers, body: typeof res.data === 'string' ? res.data : res.data === undefined ? '' : JSON.stringify(res.data) };
}

function isArrayBuffer(v: unknown): v is ArrayBuffer {
  // By tag, not instanceof: the base library's ArrayBuffer may come from
  // another realm than the page's.
  return Object.prototype.toString.call(v) === '[object ArrayBuffer]';
}

interface TextDecoderLike {
  decode(b: Uint8Array): string;
}

/**
 * utf8 decodes bytes as UTF-8 as TextDecoder does (WHATWG Encoding: each
 * maximal ill-formed subsequence becomes one U+FFFD): with TextDecoder
 * when the runtime has one, else by hand (older base libraries lack it).
 */
export function utf8(buf: ArrayBuffer): string {
  const b = new Uint8Array(buf);
  const TD = (globalThis as unknown as { TextDecoder?: new (label: string) => TextDecoderLike }).TextDecoder;
  if (TD) return new TD('utf-8').decode(b);
  const out: string[] = [];
  let cp = 0;
  let needed = 0;
  let seen = 0;
  let lower = 0x80;
  let upper = 0xbf;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (needed === 0) {
      if (c <= 0x7f) out.push(String.fromCharCode(c));
      else if (c >= 0xc2 && c <= 0xdf) [needed, cp] = [1, c & 0x1f];
      else if (c >= 0xe0 && c <= 0xef) {
        if (c === 0xe0) lower = 0xa0;
        if (c === 0xed) upper = 0x9f;
        [needed, cp] = [2, c & 0x0f];
      } else if (c >= 0xf0 && c <= 0xf4) {
        if (c === 0xf0) lower = 0x90;
        if (c === 0xf4) upper = 0x8f;
        [needed, cp] = [3, c & 0x07];
      } else out.push('\ufffd');
      continue;
    }
    if (c < lower || c > upper) {
      // The sequence ends here: one U+FFFD, then this byte afresh.
      [cp, needed, seen, lower, upper] = [0, 0, 0, 0x80, 0xbf];
      out.push('\ufffd');
      i--;
      continue;
    }
    [lower, upper] = [0x80, 0xbf];
    cp = (cp << 6) | (c & 0x3f);
    if (++seen === needed) {
      out.push(String.fromCodePoint(cp));
      [cp, needed, seen] = [0, 0, 0];
    }
  }
  if (needed !== 0) out.push('\ufffd');
  return out.join('');
}

function lowerKeys(h: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) out[k.toLowerCase()] = String(v);
  return out;
}

// wx.uploadFile hides the response headers; a body that looks like JSON
// is decoded as JSON so problem documents still surface as ApiProblem.
function guessType(body: string): Record<string, string> {
  const t = body.replace(/^\s+/, '');
  return t.startsWith('{') || t.startsWith('[') ? { 'content-type': 'application/json' } : {};
}

