// A `wx` for Node whose wx.request and wx.uploadFile do real HTTP (to the
// miniback under test) and behave as the mini-program's do where it
// matters: only the methods wx.request has (no PATCH), `data` serialised by
// content type, the body JSON-parsed only for dataType 'json', success for
// every HTTP status, fail only when no response came, and the storage
// round-tripped through JSON. Every exchange with miniback is checked
// against openapi.yaml and recorded, like the SDK's own tests.
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { WxApi } from '../../src';
import { checkExchange } from './contract';
import { simulatorUrl } from './env';

type Callbacks<S> = { success?: (res: S) => void; fail?: (err: { errMsg: string }) => void; complete?: () => void };

const WX_METHODS = ['OPTIONS', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'TRACE', 'CONNECT'];

export interface ShimCall {
  api: string;
  args: unknown;
}

export interface WxShim extends WxApi {
  /** Each call of a UI API (showToast, navigateTo, ...), in order. */
  calls: ShimCall[];
  /** wx.login answers `dev-<loginName>`, the simulator's code for this user... */
  loginName: string;
  /** ...unless loginCode is set (e.g. 'err-40029' for a refused code). */
  loginCode?: string;
  storage: Map<string, string>;
  /** What wx.showModal answers: confirmed (true) or cancelled. */
  modalConfirm: boolean;
  /** Files wx.chooseMedia "picks": set by the test. */
  chosenFiles: string[];
  /** What the user answers in wx.requestSubscribeMessage's popup (default accept). */
  subscribeAnswer: 'accept' | 'reject' | 'ban' | 'filter';
  /** Requests still in flight. */
  pending: Set<Promise<unknown>>;
  /** Resolves when no request or upload is in flight. */
  idle(): Promise<void>;
  [api: string]: unknown;
}

/** wxShim returns a fresh `wx` for one simulated mini-program session. */
export function wxShim(baseUrl: string, loginName: string): WxShim {
  const calls: ShimCall[] = [];
  const storage = new Map<string, string>();
  const pending = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const finish = <S>(o: Callbacks<S>, res: S | null, err?: string) => {
    if (res) o.success?.(res);
    else o.fail?.({ errMsg: err ?? 'fail' });
    o.complete?.();
  };
  // UI APIs succeed at once (a modal is confirmed: set modalConfirm to
  // false to cancel). Like wx, they call back and also return a promise.
  const record = (api: string) => (args: unknown) => {
    calls.push({ api, args });
    const res = { errMsg: `${api}:ok`, confirm: shim.modalConfirm, cancel: !shim.modalConfirm };
    const o = args as Callbacks<typeof res> | undefined;
    if (o && typeof o === 'object') finish(o, res);
    return Promise.resolve(res);
  };

  const shim: WxShim = {
    calls,
    loginName,
    storage,
    modalConfirm: true,
    subscribeAnswer: 'accept',
    chosenFiles: [],
    pending,
    async idle() {
      while (pending.size) await Promise.allSettled([...pending]);
    },

    request(o: {
      url: string;
      method?: string;
      header?: Record<string, string>;
      data?: unknown;
      dataType?: string;
      responseType?: string;
    } & Callbacks<{ data: unknown; statusCode: number; header: Record<string, string>; cookies: string[]; errMsg: string }>) {
      const method = o.method ?? 'GET';
      if (!WX_METHODS.includes(method)) {
        // The real wx.request has no PATCH (nor any other method): it fails.
        queueMicrotask(() => finish(o, null, `request:fail invalid method ${method}`));
        return { abort() {} };
      }
      const header: Record<string, string> = { ...o.header };
      const ct = Object.entries(header).find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? 'application/json';
      let url = o.url;
      let body: string | undefined;
      if (o.data !== undefined) {
        if (method === 'GET') {
          if (typeof o.data === 'object' && o.data) {
            const q = Object.entries(o.data as Record<string, unknown>).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
            if (q.length) url += (url.includes('?') ? '&' : '?') + q.join('&');
          }
        } else if (typeof o.data === 'string') {
          body = o.data;
        } else if (ct.includes('application/x-www-form-urlencoded')) {
          body = Object.entries(o.data as Record<string, unknown>).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
        } else {
          body = JSON.stringify(o.data);
        }
      }
      if (body !== undefined && !Object.keys(header).some((k) => k.toLowerCase() === 'content-type')) header['content-type'] = 'application/json';
      const p = (async () => {
        let res: Response;
        let raw: ArrayBuffer;
        try {
          res = await fetch(url, { method, headers: header, body, redirect: 'follow' });
          raw = await res.arrayBuffer();
        } catch (e) {
          finish(o, null, `request:fail ${(e as Error).message}`);
          return;
        }
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => (headers[k] = v));
        const text = new TextDecoder().decode(raw);
        const isText = /json|^text\//i.test(headers['content-type'] ?? '');
        checkExchange(baseUrl, method, url, header, isText ? { status: res.status, headers, body: text } : { status: res.status, headers, body: '', bytes: raw });
        // responseType 'arraybuffer' gives the bytes whatever they are,
        // a JSON error included; dataType is ignored then.
        if (o.responseType === 'arraybuffer') {
          finish(o, { data: raw, statusCode: res.status, header: headers, cookies: [], errMsg: 'request:ok' });
          return;
        }
        let data: unknown = text;
        if ((o.dataType ?? 'json') === 'json') {
          try {
            data = JSON.parse(text);
          } catch {
            data = text;
          }
        }
        // wx gives header names as the server sent them; fetch lower-cases.
        finish(o, { data, statusCode: res.status, header: headers, cookies: [], errMsg: 'request:ok' });
      })();
      track(p);
      return { abort() {} };
    },

    uploadFile(o: {
      url: string;
      filePath: string;
      name: string;
      formData?: Record<string, string>;
      header?: Record<string, string>;
    } & Callbacks<{ data: string; statusCode: number; errMsg: string }>) {
      const p = (async () => {
        let res: Response;
        let text: string;
        try {
          const form = new FormData();
          for (const [k, v] of Object.entries(o.formData ?? {})) form.append(k, v);
          form.append(o.name, new Blob([await readFile(o.filePath)]), basename(o.filePath));
          res = await fetch(o.url, { method: 'POST', headers: o.header, body: form });
          text = await res.text();
        } catch (e) {
          finish(o, null, `uploadFile:fail ${(e as Error).message}`);
          return;
        }
        const headers: Record<string, string> = {};
        res.headers.forEach((v, k) => (headers[k] = v));
        checkExchange(baseUrl, 'POST', o.url, o.header ?? {}, { status: res.status, headers, body: text });
        finish(o, { data: text, statusCode: res.status, errMsg: 'uploadFile:ok' });
      })();
      track(p);
      return { abort() {}, onProgressUpdate() {} };
    },

    // The user answers the popup in the simulator (POST /wechatsim/subscribe
    // on the simulator's app, which grants and pushes
    // subscribe_msg_popup_event as WeChat does); its answer is
    // wx.requestSubscribeMessage's success result.
    requestSubscribeMessage(o: { tmplIds: string[] } & Callbacks<Record<string, unknown> & { errMsg: string }>) {
      calls.push({ api: 'requestSubscribeMessage', args: { tmplIds: o.tmplIds } });
      const p = (async () => {
        const res = await fetch(`${simulatorUrl()}/wechatsim/subscribe?appid=wxd0d0d0d0d0d0d0d0&user=${encodeURIComponent(shim.loginName)}`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ tmplIds: o.tmplIds, result: shim.subscribeAnswer }),
        });
        const out = (await res.json()) as Record<string, unknown> & { errMsg: string };
        if (res.status === 200 && out.errMsg === 'requestSubscribeMessage:ok') finish(o, out);
        else finish(o, null, out.errMsg ?? `requestSubscribeMessage:fail ${res.status}`);
      })();
      track(p);
      return p;
    },

    login(o: Callbacks<{ code: string; errMsg: string }>) {
      calls.push({ api: 'login', args: {} });
      queueMicrotask(() => finish(o, { code: shim.loginCode ?? `dev-${shim.loginName}`, errMsg: 'login:ok' }));
    },

    chooseMedia(o: Callbacks<{ tempFiles: { tempFilePath: string; size: number; fileType: string }[]; type: string; errMsg: string }> = {}) {
      calls.push({ api: 'chooseMedia', args: o });
      // The files the test "picked", with their real sizes; none is a cancel.
      const files = shim.chosenFiles.map((f) => ({ tempFilePath: f, size: statSync(f).size, fileType: 'image' }));
      return new Promise((resolve, reject) =>
        queueMicrotask(() => {
          if (files.length) {
            const res = { tempFiles: files, type: 'image', errMsg: 'chooseMedia:ok' };
            finish(o, res);
            resolve(res);
          } else {
            finish(o, null, 'chooseMedia:fail cancel');
            reject({ errMsg: 'chooseMedia:fail cancel' });
          }
        }),
      );
    },

    getStorageSync(key: string) {
      const v = storage.get(key);
      return v === undefined ? '' : JSON.parse(v);
    },
    setStorageSync(key: string, data: unknown) {
      storage.set(key, JSON.stringify(data));
    },
    removeStorageSync(key: string) {
      storage.delete(key);
    },

    showToast: record('showToast'),
    showLoading: record('showLoading'),
    hideLoading: record('hideLoading'),
    showModal: record('showModal'),
    navigateTo: record('navigateTo'),
    navigateBack: record('navigateBack'),
    redirectTo: record('redirectTo'),
    reLaunch: record('reLaunch'),
    stopPullDownRefresh: record('stopPullDownRefresh'),
    setNavigationBarTitle: record('setNavigationBarTitle'),
  };
  return shim;
}
