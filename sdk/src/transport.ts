import { ApiProblem } from './problem';

/** The HTTP methods the API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One HTTP request, already serialised: the body is JSON text or raw bytes. */
export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers: Record<string, string>;
  body?: string | ArrayBuffer | Uint8Array;
  /**
   * 'arraybuffer' when a success is bytes (an image): the transport then
   * answers a body that is not text (JSON, a problem document) in
   * HttpResponse.bytes. Text by default.
   */
  responseType?: 'text' | 'arraybuffer';
}

/** One HTTP response; header names are lower-case, the body is raw text. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** The body as text; '' when it came as bytes. */
  body: string;
  /** The body's bytes, for a request with responseType 'arraybuffer' answered with something other than text. */
  bytes?: ArrayBuffer;
}

/**
 * A multipart/form-data POST of one file with form fields, the shape of
 * `wx.uploadFile` and of a storage service's POST policy: the fields go
 * before the file part.
 */
export interface FileUploadRequest {
  url: string;
  /** The form field name of the file part (storage POST policies use `file`). */
  name: string;
  /** A local file: `wx.chooseMedia`'s tempFilePath, or a path on disk in Node. */
  filePath?: string;
  /** The file's bytes, for clients that have them rather than a path (browsers). */
  file?: BlobLike;
  /** The file name sent in the part (defaults to the last part of filePath). */
  fileName?: string;
  formData: Record<string, string>;
  headers: Record<string, string>;
}

/**
 * Transport moves bytes. A request that got any HTTP response resolves,
 * whatever its status; one that got none rejects with an ApiProblem of
 * code `network_error`.
 */
export interface Transport {
  request(req: HttpRequest): Promise<HttpResponse>;
  upload?(req: FileUploadRequest): Promise<HttpResponse>;
}

/** The part of `fetch` the fetch transport uses (Node 18+, browsers). */
export type FetchLike = (
  url: string,
  init: {
    method: string;
    headers: Record<string, string>;
    body?: string | ArrayBuffer | Uint8Array | FormDataLike;
    redirect?: 'manual';
    credentials?: RequestCredentialsMode;
  },
) => Promise<{
  status: number;
  headers: { forEach(cb: (value: string, key: string) => void): void };
  text(): Promise<string>;
  /** Needed for operations that answer bytes (images). */
  arrayBuffer?(): Promise<ArrayBuffer>;
}>;

/** The part of FormData the fetch transport uses. */
export interface FormDataLike {
  append(name: string, value: string | BlobLike, fileName?: string): void;
}

/** fetch's credentials modes: whether the browser sends and keeps cookies. */
export type RequestCredentialsMode = 'omit' | 'same-origin' | 'include';

export interface FetchTransportOptions {
  /**
   * fetch's credentials mode, when set: the console client uses
   * 'same-origin', so that the browser sends and keeps the console's
   * session cookie. Unset, fetch's default applies.
   */
  credentials?: RequestCredentialsMode;
  /** defaults to the global fetch */
  fetch?: FetchLike;
  /** builds form data; defaults to the global FormData */
  newFormData?: () => FormDataLike;
  /** reads an upload's filePath (in Node: fs.promises.readFile wrapped in a Blob) */
  readFile?: (path: string) => Promise<BlobLike>;
}

interface FetchGlobals {
  fetch?: FetchLike;
  FormData?: new () => FormDataLike;
}

/** fetchTransport sends requests with `fetch`: Node 18+ and browsers. */
export function fetchTransport(options: FetchTransportOptions = {}): Transport {
  const g = globalThis as unknown as FetchGlobals;
  const doFetch = options.fetch ?? g.fetch;
  if (!doFetch) throw new Error('fetchTransport: no fetch here; pass options.fetch (in a mini-program use wxTransport)');
  const newFormData =
    options.newFormData ??
    (() => {
      if (!g.FormData) throw new Error('fetchTransport: no FormData here; pass options.newFormData');
      return new g.FormData();
    });

  const send = async (url: string, init: Parameters<FetchLike>[1], wantBytes = false): Promise<HttpResponse> => {
    let res;
    if (options.credentials) init = { ...init, credentials: options.credentials };
    try {
      res = await doFetch(url, init);
    } catch (e) {
      throw ApiProblem.network(errorText(e));
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, key) => {
      headers[key.toLowerCase()] = value;
    });
    const bytes = wantBytes && !isTextType(headers['content-type']);
    if (bytes && !res.arrayBuffer) throw new Error('fetchTransport: this fetch has no arrayBuffer(), which images need');
    try {
      if (bytes && res.arrayBuffer) return { status: res.status, headers, body: '', bytes: await res.arrayBuffer() };
      return { status: res.status, headers, body: await res.text() };
    } catch (e) {
      throw ApiProblem.network(errorText(e));
    }
  };

  return {
    request: (req) =>
      send(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual' }, req.responseType === 'arraybuffer'),
    async upload(req) {
      let file = req.file;
      if (!file) {
        if (!req.filePath) throw new Error('upload: pass file or filePath');
        if (!options.readFile) throw new Error('fetchTransport: uploads by filePath need options.readFile');
        file = await options.readFile(req.filePath);
      }
      const form = newFormData();
      for (const [k, v] of Object.entries(req.formData)) form.append(k, v);
      form.append(req.name, file, req.fileName ?? baseName(req.filePath ?? 'file'));
      return send(req.url, { method: 'POST', headers: req.headers, body: form, redirect: 'manual' });
    },
  };
}

/** isTextType reports whether a Content-Type is text the SDK reads as such: JSON (problems included) or text/*. */
export function isTextType(contentType: string | undefined): boolean {
  return /^\s*(application\/([\w.-]+\+)?json|text\/)/i.test(contentType ?? '');
}

export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i >= 0 ? path.slice(i + 1) : path;
}

export function errorText(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as Error & { cause?: unknown }).cause;
    return cause instanceof Error ? `${e.message}: ${cause.message}` : e.message;
  }
  return String(e);
}

/** A Blob or File, as far as the SDK needs to know. */
export interface BlobLike {
  readonly size: number;
  readonly type: string;
}
