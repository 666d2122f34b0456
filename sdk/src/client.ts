import { ApiProblem } from './problem';
import type { LoginResponse, PasswordLoginRequest, Problem, RegisterRequest, Subscription, SubscriptionList, Upload, UploadPurpose, UploadTicket } from './schema.gen';
import { pickTemplates, subscribeAnswers, type SubscribeOptions } from './subscriptions';
import { memoryTokenStore, type TokenStore, type Tokens } from './tokens';
import type { BlobLike, HttpMethod, HttpRequest, HttpResponse, Transport, FileUploadRequest } from './transport';
import type { ApiResponse, ApiResult, BinaryOperation, CallArgs, Method, Operation, PathsWith } from './types';
import { isWeChatSessionStale, wechatDataBody, type OpenedWeChatData, type WxOpenData, type WxOpenDataSource } from './wechatdata';

/** A call's init as the runtime sees it (CallInit is its typed face). */
interface RawInit {
  path?: Record<string, unknown>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, unknown>;
  auth?: boolean;
  /** false: a 401 may refresh the session but never signs in again. */
  relogin?: boolean;
  /** false: a wechat_session_stale answer is thrown, not cured by a new login and a retry. */
  staleRetry?: boolean;
}

export interface ClientOptions {
  /** Where miniback is, e.g. `https://api.example.com` (no trailing slash needed). */
  baseUrl: string;
  transport: Transport;
  /** Where the session lives; memory by default (wx storage in createWxClient). */
  tokens?: TokenStore;
  /**
   * Gets a fresh login code (wx.login's). login() uses it, and so does the
   * client to sign in again when a session cannot be refreshed.
   */
  loginCode?: () => Promise<string>;
  /**
   * How login() and the silent renewal sign in: `wechat` (the default)
   * with a login code from loginCode on POST /v1/auth/wechat; `cloudrun`
   * with the caller identity WeChat Cloud Hosting's gateway adds to a
   * wx.cloud.callContainer call, on POST /v1/auth/cloudrun (no code; use
   * it with callContainerTransport, see createCloudRunClient); `console`
   * for the browser console (see createConsoleClient): the session's
   * refresh token is an HttpOnly cookie the page never sees, renewed
   * through POST /v1/console/refresh, and a session that cannot be
   * renewed needs the password again.
   */
  signIn?: 'wechat' | 'cloudrun' | 'console';
  /** The mini-program's AppID, for deployments that serve several. */
  appid?: string;
  /** Headers sent on every request. */
  headers?: Record<string, string>;
  /** Called when the session ended and could not be renewed: show the login page. */
  onSessionEnd?: (problem: ApiProblem) => void;
  /** The clock, in Unix milliseconds (tests may move it). */
  now?: () => number;
}

/** What a login or refresh answers, as far as the session needs. */
interface TokenData {
  access_token: string;
  expires_in: number;
  refresh_token?: string;
}

/**
 * The operations whose successes are bytes (images), read as an
 * ArrayBuffer. The type makes the list complete: an operation of the spec
 * that answers an image and is missing here fails the SDK's build.
 */
const binaryOperations: Record<BinaryOperation, true> = {
  'POST /v1/wxacode': true,
};

/** The console's cookie operations, and the header each of them needs (createConsoleClient). */
const CONSOLE_REFRESH = '/v1/console/refresh';
const CONSOLE_LOGOUT = '/v1/console/logout';
export const CONSOLE_CSRF_HEADER = 'X-Miniback-CSRF';
const CONSOLE_HEADERS = { [CONSOLE_CSRF_HEADER]: '1' };

interface LockManagerLike {
  request<T>(name: string, cb: () => Promise<T>): Promise<T>;
}

/**
 * consoleRefreshLock runs f while no other tab of this origin refreshes
 * the console session (the Web Locks API, where there is one): two tabs
 * presenting the same cookie at once would look like a stolen refresh
 * token, and reuse ends the session. The tab that waits sends the cookie
 * the first one got.
 */
function consoleRefreshLock<T>(f: () => Promise<T>): Promise<T> {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks ? locks.request('miniback-console-refresh', f) : f();
}

/** Renew the access token this long before it expires. */
const EXPIRY_MARGIN_MS = 30_000;

type Call<M extends Method> = <P extends PathsWith<M>>(
  path: P,
  ...init: CallArgs<Operation<P, M>>
) => Promise<ApiResult<Operation<P, M>>>;

export interface MinibackClient {
  /** Calls of every operation in openapi.yaml, by method and path. Failures throw ApiProblem. */
  GET: Call<'get'>;
  POST: Call<'post'>;
  PUT: Call<'put'>;
  PATCH: Call<'patch'>;
  DELETE: Call<'delete'>;
  /**
   * Signs in with a WeChat login code: `code` when given, else a fresh one
   * from options.loginCode (wx.login in a mini-program); or, with
   * options.signIn `cloudrun` and no code, as loginWithCloudRun does.
   * Keeps the tokens.
   */
  login(opts?: { code?: string }): Promise<LoginResponse>;
  /**
   * Signs in as the user WeChat Cloud Hosting's gateway names (POST
   * /v1/auth/cloudrun): works only through callContainerTransport, on a
   * server with its Cloud Hosting mode on (else 404 `cloudrun_disabled`).
   * Keeps the tokens.
   */
  loginWithCloudRun(): Promise<LoginResponse>;
  /** Signs in to a password account (username or email) and keeps the tokens. */
  loginWithPassword(body: PasswordLoginRequest): Promise<LoginResponse>;
  /** Creates a password account, signs it in and keeps the tokens. */
  register(body: RegisterRequest): Promise<LoginResponse>;
  /**
   * Ends the session: on the server when it keeps sessions (its refresh
   * token stops working), and on this device (the stored tokens are removed).
   */
  logout(): Promise<void>;
  /** The stored session, or null when nobody is signed in. */
  session(): Promise<Tokens | null>;
  /**
   * Uploads a file as multipart/form-data (wx.uploadFile in a
   * mini-program). No access token is sent: upload URLs carry their own
   * signature. Returns the response; a non-2xx status throws ApiProblem.
   */
  uploadFile(req: Omit<FileUploadRequest, 'headers'> & { headers?: Record<string, string> }): Promise<ApiResponse<unknown>>;
  /**
   * Uploads a file the way miniback's tickets work: asks for a ticket
   * (POST /v1/uploads), sends the file to the ticket's storage URL with its
   * POST policy fields (wx.uploadFile in a mini-program), and completes
   * the upload (POST /v1/uploads/{id}/complete), which checks the stored
   * object. Resolves to the ready upload: its id goes in
   * `PATCH /v1/me {avatar_upload_id}` or a task's attachments.
   */
  upload(file: UploadFile): Promise<Upload>;
  /**
   * Opens WeChat open data (POST /v1/me/wechat-data): `source` is what
   * wx.getWeRunData, wx.getGroupEnterInfo, wx.getShareInfo,
   * wx.getUserProfile… gave (encryptedData, iv, and rawData and signature
   * when there are), or better a function that gets it. The server
   * decrypts it with the session_key of the latest login and answers the
   * object as WeChat wrote it in `data` (type it with T: WeRunData,
   * GroupEnterInfo, ShareInfo) and the checked `watermark`.
   *
   * When a later wx.login replaced that session_key (409
   * wechat_session_stale), the client signs in again once (loginCode:
   * wx.login, then POST /v1/auth/wechat) and retries once: with a
   * function it first gets the data again, which WeChat then seals with
   * the key just stored; with plain data it sends the same data, which
   * opens only if WeChat kept the key. A second failure is thrown.
   */
  wechatData<T extends object = Record<string, unknown>>(source: WxOpenDataSource): Promise<OpenedWeChatData<T>>;
  /**
   * Asks the user to accept subscribe messages and records the answers:
   * the templates of `purpose` (e.g. 'reminder': the ones the server
   * configures for it, from GET /v1/me/subscriptions) or `templateIds`
   * are shown with `ask` (wxRequestSubscribe(wx): wx.requestSubscribeMessage,
   * from a tap handler), and each answer is posted to POST
   * /v1/me/subscriptions (an accept allows the server one message).
   * Resolves to the subscriptions after, as GET /v1/me/subscriptions
   * lists them. With no template to ask for, nothing is shown.
   */
  subscribe(opts: SubscribeOptions): Promise<Subscription[]>;
}

/** A file to upload: from a path (wx.chooseMedia's tempFilePath) or bytes. */
export interface UploadFile {
  purpose: UploadPurpose;
  /** The file's media type, e.g. image/jpeg: must be allowed for the purpose. */
  contentType: string;
  /** The exact size in bytes (wx.chooseMedia gives it). */
  size: number;
  filePath?: string;
  file?: BlobLike;
  fileName?: string;
}

/** createClient returns a client for miniback over the given transport. */
export function createClient(options: ClientOptions): MinibackClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const transport = options.transport;
  const store = options.tokens ?? memoryTokenStore();
  const now = options.now ?? (() => Date.now());
  let renewing: Promise<void> | null = null;
  let relogging: Promise<void> | null = null;
  // Whether the client can sign in again by itself when a session ends.
  const canSignIn = options.signIn === 'cloudrun' || options.loginCode !== undefined;

  async function send(method: HttpMethod, path: string, init: RawInit, retried: boolean): Promise<ApiResponse<unknown>> {
    const binary = (binaryOperations as Record<string, true | undefined>)[`${method} ${path}`] === true;
    const headers: Record<string, string> = {
      Accept: binary ? 'image/*, application/problem+json' : 'application/json, application/problem+json',
      ...options.headers,
    };
    for (const [k, v] of Object.entries(init.headers ?? {})) {
      if (v !== undefined) headers[k] = String(v);
    }
    let used: Tokens | null = null;
    if (init.auth !== false) {
      used = await store.get();
      if (used && used.expiresAt !== undefined && used.expiresAt - EXPIRY_MARGIN_MS <= now() && !retried) {
        // About to expire: renew first rather than collect a 401.
        used = (await renewAfter(used, init.relogin !== false)) ? await store.get() : null;
      }
      if (used) headers.Authorization = `Bearer ${used.accessToken}`;
    }
    let body: HttpRequest['body'];
    if (init.body !== undefined) {
      const given = Object.keys(headers).find((k) => k.toLowerCase() === 'content-type');
      if (given && !/json/i.test(headers[given])) {
        // A file or other non-JSON body goes as it is.
        if (typeof init.body !== 'string' && !(init.body instanceof ArrayBuffer) && !(init.body instanceof Uint8Array)) {
          throw new Error(`a ${headers[given]} body must be a string, ArrayBuffer or Uint8Array`);
        }
        body = init.body;
      } else {
        body = JSON.stringify(init.body);
        if (!given) headers['Content-Type'] = 'application/json';
      }
    }
    const url = baseUrl + fillPath(path, init.path) + queryString(init.query);
    const res = await transport.request(binary ? { method, url, headers, body, responseType: 'arraybuffer' } : { method, url, headers, body });
    if (res.status === 401 && used && !retried && (await renewAfter(used, init.relogin !== false))) {
      return send(method, path, init, true);
    }
    let out: ApiResponse<unknown>;
    try {
      out = decode(res);
    } catch (e) {
      if (isWeChatSessionStale(e) && init.staleRetry !== false && options.loginCode) {
        // A wx.login the server never saw replaced the session_key: a new
        // login stores the current one. Retried once.
        await reloginOnce();
        return send(method, path, { ...init, staleRetry: false }, retried);
      }
      throw e;
    }
    if (method === 'DELETE' && path === '/v1/me') {
      // The account is gone and every session with it: forget ours, so
      // that no renewal signs in again (which would make a new account).
      await store.clear();
    }
    return out;
  }

  // renewAfter makes sure the session is newer than `used`: at most one
  // renewal runs at a time and every caller waits for it. It answers
  // whether there is a session to retry with.
  async function renewAfter(used: Tokens, relogin: boolean): Promise<boolean> {
    const current = await store.get();
    if (current && current.accessToken !== used.accessToken) return true; // renewed meanwhile
    if (!renewing) {
      renewing = renew(relogin).then(
        () => {
          renewing = null;
        },
        (e: unknown) => {
          renewing = null;
          throw e;
        },
      );
    }
    try {
      await renewing;
      return true;
    } catch (e) {
      if (e instanceof ApiProblem && e.status >= 400 && e.status < 500) {
        // The session is over: forget it and let the app ask for a login.
        await store.clear();
        options.onSessionEnd?.(e);
        return false;
      }
      throw e;
    }
  }

  // renew gets a new access token: with the refresh token when the server
  // issued one (POST /v1/auth/refresh rotates it), else — or when the
  // refresh token is refused — by signing in again with a fresh login
  // code (wx.login needs no user action).
  async function renew(relogin: boolean): Promise<void> {
    if (options.signIn === 'console') {
      // The browser sends the session cookie (it holds the refresh token)
      // and keeps the rotated one.
      const res = await consoleRefreshLock(() => send('POST', CONSOLE_REFRESH, { auth: false, headers: CONSOLE_HEADERS }, true));
      await keep(res.data as TokenData);
      return;
    }
    const current = await store.get();
    if (current?.refreshToken) {
      try {
        const res = await send('POST', '/v1/auth/refresh', { body: { refresh_token: current.refreshToken }, auth: false }, true);
        await keep(res.data as TokenData);
        return;
      } catch (e) {
        if (!(e instanceof ApiProblem && e.status === 401 && canSignIn && relogin)) throw e;
      }
    }
    if (!canSignIn || !relogin) {
      throw ApiProblem.sessionExpired('The session expired and cannot be renewed here: sign in again.');
    }
    await login({});
  }

  // reloginOnce signs in again with a fresh login code; calls that go
  // stale together share one login.
  function reloginOnce(): Promise<void> {
    if (!relogging) {
      relogging = login({}).then(
        () => {
          relogging = null;
        },
        (e: unknown) => {
          relogging = null;
          throw e;
        },
      );
    }
    return relogging;
  }

  async function wechatData<T extends object>(source: WxOpenDataSource): Promise<OpenedWeChatData<T>> {
    const post = async (d: WxOpenData) =>
      (await send('POST', '/v1/me/wechat-data', { body: wechatDataBody(d), staleRetry: false }, false)).data as OpenedWeChatData<T>;
    const first = typeof source === 'function' ? await source() : source;
    try {
      return await post(first);
    } catch (e) {
      if (!(isWeChatSessionStale(e) && options.loginCode)) throw e;
    }
    await reloginOnce();
    return post(typeof source === 'function' ? await source() : first);
  }

  async function login(opts: { code?: string } = {}): Promise<LoginResponse> {
    if (options.signIn === 'cloudrun' && opts.code === undefined) return start('/v1/auth/cloudrun', undefined);
    let code = opts.code;
    if (code === undefined) {
      if (!options.loginCode) throw new Error('login: pass a code or give the client a loginCode function');
      code = await options.loginCode();
    }
    return start('/v1/auth/wechat', options.appid ? { code, appid: options.appid } : { code });
  }

  async function start<B>(path: string, body: B): Promise<LoginResponse> {
    const res = (await send('POST', path, { body, auth: false }, true)) as ApiResponse<LoginResponse>;
    await keep(res.data);
    return res.data;
  }

  async function keep(data: TokenData): Promise<void> {
    const tokens: Tokens = { accessToken: data.access_token, expiresAt: now() + data.expires_in * 1000 };
    if (data.refresh_token) tokens.refreshToken = data.refresh_token;
    await store.set(tokens);
  }

  async function uploadFile(req: Omit<FileUploadRequest, 'headers'> & { headers?: Record<string, string> }): Promise<ApiResponse<unknown>> {
    if (!transport.upload) throw new Error('uploadFile: this transport cannot upload files');
    return decode(await transport.upload({ ...req, headers: req.headers ?? {} }));
  }

  const call =
    (method: HttpMethod) =>
    (path: string, init?: RawInit): Promise<ApiResponse<unknown>> =>
      send(method, path, init ?? {}, false);

  return {
    GET: call('GET') as Call<'get'>,
    POST: call('POST') as Call<'post'>,
    PUT: call('PUT') as Call<'put'>,
    PATCH: call('PATCH') as Call<'patch'>,
    DELETE: call('DELETE') as Call<'delete'>,
    login,
    loginWithCloudRun: () => start('/v1/auth/cloudrun', undefined),
    loginWithPassword: (body) => start('/v1/auth/login', body),
    register: (body) => start('/v1/auth/register', body),
    async logout() {
      const current = await store.get();
      if (options.signIn === 'console') {
        // The session is the cookie's: the server ends it and clears the
        // cookie, whether or not an access token is held here.
        try {
          await send('POST', CONSOLE_LOGOUT, { auth: false, headers: CONSOLE_HEADERS }, true);
        } finally {
          await store.clear();
        }
        return;
      }
      try {
        // A server that issues refresh tokens keeps sessions: end this one
        // there too (POST /v1/auth/logout), so its refresh token dies. An
        // expired access token is refreshed first, but logging out never
        // signs in again.
        if (current?.refreshToken) await send('POST', '/v1/auth/logout', { relogin: false }, false);
      } catch (e) {
        // The device forgets the session whatever the server said.
        if (!(e instanceof ApiProblem)) throw e;
      } finally {
        await store.clear();
      }
    },
    async session() {
      return store.get();
    },
    uploadFile,
    wechatData,
    async subscribe(opts) {
      const list = async () => ((await send('GET', '/v1/me/subscriptions', {}, false)) as ApiResponse<SubscriptionList>).data.items;
      let ids = opts.templateIds ?? [];
      if (opts.purpose !== undefined) ids = [...ids, ...pickTemplates(await list(), opts.purpose)];
      ids = [...new Set(ids)].slice(0, 3);
      if (ids.length === 0) return list();
      const answers = subscribeAnswers(await opts.ask(ids), ids);
      for (const body of answers) await send('POST', '/v1/me/subscriptions', { body }, false);
      return list();
    },
    async upload(f) {
      const body = { purpose: f.purpose, content_type: f.contentType, size: f.size, ...(f.fileName ? { file_name: f.fileName } : {}) };
      const { data: ticket } = (await send('POST', '/v1/uploads', { body }, false)) as ApiResponse<UploadTicket>;
      await uploadFile({ url: ticket.url, name: ticket.file_field, formData: ticket.fields, filePath: f.filePath, file: f.file, fileName: f.fileName });
      const { data } = (await send('POST', fillPath('/v1/uploads/{id}/complete', { id: ticket.id }), {}, false)) as ApiResponse<Upload>;
      return data;
    },
  };
}

/** fillPath puts path parameters into a templated path like /v1/tasks/{id}. */
export function fillPath(path: string, params: Record<string, unknown> | undefined): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined || v === null) throw new Error(`path parameter ${name} is missing for ${path}`);
    return encodeURIComponent(String(v));
  });
}

/**
 * queryString encodes query parameters the OpenAPI default way (form,
 * exploded: arrays repeat the name); undefined values are left out. It
 * needs no URLSearchParams, which mini-programs lack.
 */
export function queryString(query: Record<string, unknown> | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    const values = Array.isArray(v) ? v : [v];
    for (const item of values) {
      if (item === undefined || item === null) continue;
      const s = item instanceof Date ? item.toISOString() : String(item);
      parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(s)}`);
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * decode turns a response into a result (2xx, and 3xx: a redirect's
 * Location is in headers; bytes as an ArrayBuffer), or throws it as an
 * ApiProblem.
 */
export function decode(res: HttpResponse): ApiResponse<unknown> {
  const type = (res.headers['content-type'] ?? '').toLowerCase();
  const isJSON = /^application\/(problem\+)?json/.test(type);
  let data: unknown = undefined;
  if (res.body !== '' && isJSON) {
    try {
      data = JSON.parse(res.body);
    } catch {
      throw ApiProblem.unexpected(res.status, `The response body is not valid JSON (${type}).`);
    }
  }
  if (res.status >= 200 && res.status < 400) {
    if (res.bytes !== undefined) data = res.bytes;
    else if (res.body !== '' && !isJSON) data = res.body;
    return { data, status: res.status, headers: res.headers };
  }
  if (isProblem(data)) {
    const ra = Number(res.headers['retry-after']);
    throw new ApiProblem(data, Number.isFinite(ra) && res.headers['retry-after'] !== undefined ? ra : undefined);
  }
  throw ApiProblem.unexpected(res.status, `HTTP ${res.status} without a problem document (${type || 'no content type'}).`);
}

function isProblem(v: unknown): v is Problem {
  if (!v || typeof v !== 'object') return false;
  const p = v as Record<string, unknown>;
  return typeof p.code === 'string' && typeof p.status === 'number' && typeof p.title === 'string';
}
