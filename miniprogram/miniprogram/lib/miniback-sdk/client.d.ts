import { ApiProblem } from './problem';
import type { LoginResponse, PasswordLoginRequest, RegisterRequest, Subscription, Upload, UploadPurpose } from './schema.gen';
import { type SubscribeOptions } from './subscriptions';
import { type TokenStore, type Tokens } from './tokens';
import type { BlobLike, HttpResponse, Transport, FileUploadRequest } from './transport';
import type { ApiResponse, ApiResult, CallArgs, Method, Operation, PathsWith } from './types';
import { type OpenedWeChatData, type WxOpenDataSource } from './wechatdata';
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
export declare const CONSOLE_CSRF_HEADER = "X-Miniback-CSRF";
type Call<M extends Method> = <P extends PathsWith<M>>(path: P, ...init: CallArgs<Operation<P, M>>) => Promise<ApiResult<Operation<P, M>>>;
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
    login(opts?: {
        code?: string;
    }): Promise<LoginResponse>;
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
    uploadFile(req: Omit<FileUploadRequest, 'headers'> & {
        headers?: Record<string, string>;
    }): Promise<ApiResponse<unknown>>;
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
export declare function createClient(options: ClientOptions): MinibackClient;
/** fillPath puts path parameters into a templated path like /v1/tasks/{id}. */
export declare function fillPath(path: string, params: Record<string, unknown> | undefined): string;
/**
 * queryString encodes query parameters the OpenAPI default way (form,
 * exploded: arrays repeat the name); undefined values are left out. It
 * needs no URLSearchParams, which mini-programs lack.
 */
export declare function queryString(query: Record<string, unknown> | undefined): string;
/**
 * decode turns a response into a result (2xx, and 3xx: a redirect's
 * Location is in headers; bytes as an ArrayBuffer), or throws it as an
 * ApiProblem.
 */
export declare function decode(res: HttpResponse): ApiResponse<unknown>;
export {};
