import { type ClientOptions, type MinibackClient } from './client';
import type { Transport } from './transport';
import { type WxApi } from './wx';
interface WxFail {
    errMsg: string;
}
export interface CallContainerOption {
    config?: {
        env?: string;
    };
    path: string;
    method?: string;
    header?: Record<string, string>;
    data?: string | ArrayBuffer;
    dataType?: string;
    responseType?: string;
    timeout?: number;
    success?: (res: {
        statusCode: number;
        header: Record<string, unknown>;
        data: unknown;
        errMsg: string;
    }) => void;
    fail?: (err: WxFail) => void;
}
/** The part of the mini-program's `wx.cloud` the SDK uses. */
export interface WxCloudApi {
    callContainer(option: CallContainerOption): unknown;
}
export interface CallContainerTransportOptions {
    /** The Cloud Hosting environment's id (云托管 - 环境 ID), e.g. `prod-1a2b3c`. */
    env: string;
    /** The service's name (服务名称), sent as X-WX-SERVICE. */
    service: string;
    /** Milliseconds before callContainer gives up; WeChat's default when unset. */
    timeout?: number;
}
/**
 * callContainerTransport sends requests with wx.cloud.callContainer to a
 * Cloud Hosting service. Only the path and query of a request's URL are
 * used (give the client an empty baseUrl). callContainer takes wx.request's
 * methods, so a PATCH goes as a POST with `X-HTTP-Method-Override: PATCH`,
 * as with wxTransport. It has no file upload: files go to object storage
 * with wx.uploadFile, whose URL the upload ticket names.
 */
export declare function callContainerTransport(cloud: WxCloudApi, options: CallContainerTransportOptions): Transport;
export interface CloudRunClientOptions extends Omit<ClientOptions, 'baseUrl' | 'transport' | 'tokens' | 'loginCode' | 'signIn'>, CallContainerTransportOptions {
    /** The wx object; the global `wx` by default. Its `cloud` must be initialised (wx.cloud.init()). */
    wx?: Pick<WxApi, 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'> & {
        cloud: WxCloudApi;
    };
    /** The storage key of the session (default `miniback.session`). */
    storageKey?: string;
}
/**
 * createCloudRunClient is the client for a mini-program whose miniback runs
 * on WeChat Cloud Hosting: callContainer transport, the session in wx
 * storage, and sign-in (and silent renewal) with POST /v1/auth/cloudrun,
 * which needs no wx.login. The server must run with MINIBACK_CLOUDRUN=true.
 */
export declare function createCloudRunClient(options: CloudRunClientOptions): MinibackClient;
export {};
