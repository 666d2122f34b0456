// Proves that the mini-program's real `wx` (as miniprogram-api-typings
// declares it) fits the SDK's WxApi, so createWxClient() works with it and
// every wx call the SDK makes is one wx has. Type-checked by
// `npm run typecheck` (tsconfig.wx.json); never emitted.
import type { CallContainerOption, WxCloudApi } from '../src/cloudrun';
import type { WxApi } from '../src/wx';

export const realWxFitsTheSdk: WxApi = wx;

// Each option the SDK builds is a valid option of the real call.
export function optionsFit(o: Parameters<WxApi['request']>[0], u: Parameters<WxApi['uploadFile']>[0], l: Parameters<WxApi['login']>[0]): void {
  const request: WechatMiniprogram.RequestOption = o;
  const upload: WechatMiniprogram.UploadFileOption = u;
  const login: WechatMiniprogram.LoginOption = l;
  void [request, upload, login];
}

// The same for wx.cloud.callContainer (callContainerTransport).
export const realCloudFitsTheSdk: WxCloudApi = wx.cloud;

export function callContainerOptionFits(o: CallContainerOption): void {
  const param: ICloud.CallContainerParam = o;
  void param;
}
