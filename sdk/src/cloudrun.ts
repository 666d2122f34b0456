import { createClient, type ClientOptions, type MinibackClient } from './client';
import { ApiProblem } from './problem';
import { storageTokenStore } from './tokens';
import type { HttpResponse, Transport } from './transport';
import { wxResponse, type WxApi } from './wx';

// WeChat Cloud Hosting (微信云托管): the mini-program reaches the container
// with wx.cloud.callContainer rather than wx.request, over WeChat's own
// network, with no domain to configure; the platform's gateway adds the
// caller's identity (X-WX-OPENID, ...) to every call, which
// POST /v1/auth/cloudrun turns into a session. The shapes below are
// miniprogram-api-typings' ICloud.CallContainerParam cut down to what the
// SDK uses; typecheck/wx-typings.ts proves the real wx.cloud fits them.

interface WxFail {
  errMsg: string;
}

export interface CallContainerOption {
  config?: { env?: string };
  path: string;
  method?: string;
  header?: Record<string, string>;
  data?: string | ArrayBuffer;
  dataType?: string;
  responseType?: string;
  timeout?: number;
  success?: (res: { statusCode: number; header: Record<string, unknown>; data: unknown; errMsg: string }) => void;
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
export function callContainerTransport(cloud: WxCloudApi, options: CallContainerTransportOptions): Transport {
  if (!options.env || !options.service) throw new Error('callContainerTransport: pass the environment id (env) and the service name');
  return {
    request(req) {
      const header: Record<string, string> = { ...req.headers, 'X-WX-SERVICE': options.service };
      let method = req.method as string;
      if (method === 'PATCH') {
        method = 'POST';
        header['X-HTTP-Method-Override'] = 'PATCH';
      }
      // Images come as bytes, as with wxTransport.
      const binary = req.responseType === 'arraybuffer';
      return new Promise<HttpResponse>((resolve, reject) => {
        cloud.callContainer({
          config: { env: options.env },
          path: pathOf(req.url),
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
  };
}

export interface CloudRunClientOptions
  extends Omit<ClientOptions, 'baseUrl' | 'transport' | 'tokens' | 'loginCode' | 'signIn'>, CallContainerTransportOptions {
  /** The wx object; the global `wx` by default. Its `cloud` must be initialised (wx.cloud.init()). */
  wx?: Pick<WxApi, 'getStorageSync' | 'setStorageSync' | 'removeStorageSync'> & { cloud: WxCloudApi };
  /** The storage key of the session (default `miniback.session`). */
  storageKey?: string;
}

/**
 * createCloudRunClient is the client for a mini-program whose miniback runs
 * on WeChat Cloud Hosting: callContainer transport, the session in wx
 * storage, and sign-in (and silent renewal) with POST /v1/auth/cloudrun,
 * which needs no wx.login. The server must run with MINIBACK_CLOUDRUN=true.
 */
export function createCloudRunClient(options: CloudRunClientOptions): MinibackClient {
  const w = options.wx ?? globalWx();
  return createClient({
    ...options,
    baseUrl: '',
    transport: callContainerTransport(w.cloud, options),
    tokens: storageTokenStore(w, options.storageKey),
    signIn: 'cloudrun',
  });
}

declare const wx: NonNullable<CloudRunClientOptions['wx']> | undefined;

function globalWx(): NonNullable<CloudRunClientOptions['wx']> {
  const w = typeof wx === 'undefined' ? (globalThis as unknown as { wx?: CloudRunClientOptions['wx'] }).wx : wx;
  if (w?.cloud) return w;
  throw new Error('createCloudRunClient: no wx.cloud here; pass options.wx');
}

// pathOf keeps the path and query of a URL: callContainer takes no host.
function pathOf(url: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  const rest = m ? url.slice(m[0].length) : url;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
