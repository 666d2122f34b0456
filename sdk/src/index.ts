// @miniback/sdk: a typed client for miniback, generated from openapi.yaml
// (types in schema.gen.ts by openapi-typescript) with transports for
// mini-programs (wx.request, wx.uploadFile) and for Node and browsers (fetch).
export { createClient, decode, fillPath, queryString } from './client';
export type { ClientOptions, MinibackClient, UploadFile } from './client';
export { ApiProblem, isApiProblem } from './problem';
export { memoryTokenStore, storageTokenStore } from './tokens';
export type { SyncStorage, TokenStore, Tokens } from './tokens';
export { fetchTransport, isTextType } from './transport';
export type {
  BlobLike,
  FetchLike,
  FetchTransportOptions,
  FormDataLike,
  RequestCredentialsMode,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  Transport,
  FileUploadRequest,
} from './transport';
export type { ApiResponse, ApiResult, BinaryBody, BinaryOperation, CallArgs, CallInit, Method, Operation, PathsWith, SuccessData } from './types';
export { isWeChatSessionStale, wechatDataBody, WECHAT_SESSION_STALE } from './wechatdata';
export type { GroupEnterInfo, OpenedWeChatData, ShareInfo, WeChatDataWatermark, WeRunData, WxOpenData, WxOpenDataSource } from './wechatdata';
export { pickTemplates, subscribeAnswers, wxRequestSubscribe } from './subscriptions';
export type { AskSubscribe, SubscribeOptions, SubscribeResult, WxSubscribeApi } from './subscriptions';
export { callContainerTransport, createCloudRunClient } from './cloudrun';
export { CONSOLE_CSRF_HEADER, createConsoleClient } from './console';
export type { ConsoleClient, ConsoleClientOptions } from './console';
export type { CallContainerOption, CallContainerTransportOptions, CloudRunClientOptions, WxCloudApi } from './cloudrun';
export { createWxClient, utf8, wxLoginCode, wxTransport } from './wx';
export type { WxApi, WxClientOptions, WxTransportOptions } from './wx';
export type * from './schema.gen';
