import { type ClientOptions, type MinibackClient } from './client';
import { type HttpResponse, type Transport } from './transport';
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
    success?: (res: {
        statusCode: number;
        header: Record<string, unknown>;
        data: unknown;
        errMsg: string;
    }) => void;
    fail?: (err: WxFail) => void;
}
export interface WxUploadFileOption {
    url: string;
    filePath: string;
    name: string;
    formData?: Record<string, string>;
    header?: Record<string, string>;
    timeout?: number;
    success?: (res: {
        statusCode: number;
        data: string;
        errMsg: string;
    }) => void;
    fail?: (err: WxFail) => void;
}
export interface WxLoginOption {
    timeout?: number;
    success?: (res: {
        code: string;
        errMsg: string;
    }) => void;
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
export declare function wxTransport(w: Pick<WxApi, 'request' | 'uploadFile'>, options?: WxTransportOptions): Transport;
/** wxLoginCode returns a function that gets a fresh code from wx.login. */
export declare function wxLoginCode(w: Pick<WxApi, 'login'>): () => Promise<string>;
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
export declare function createWxClient(options: WxClientOptions): MinibackClient;
/**
 * wxResponse turns a wx.request (or wx.cloud.callContainer) answer into
 * an HttpResponse: bytes (responseType 'arraybuffer') stay bytes unless
 * they are text, such as a problem document, which is decoded.
 */
export declare function wxResponse(res: {
    statusCode: number;
    header: Record<string, unknown>;
    data: unknown;
}): HttpResponse;
/**
 * utf8 decodes bytes as UTF-8 as TextDecoder does (WHATWG Encoding: each
 * maximal ill-formed subsequence becomes one U+FFFD): with TextDecoder
 * when the runtime has one, else by hand (older base libraries lack it).
 */
export declare function utf8(buf: ArrayBuffer): string;
export {};
