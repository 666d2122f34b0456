// The one SDK client of the app: wx.request transport, the session in wx
// storage, wx.login (or the simulator's dev code) for sign-in and silent
// renewal when the access token expires.
import { createWxClient, type MinibackClient } from './lib/miniback-sdk/index';
import { config } from './config';

let client: MinibackClient | undefined;

export function api(): MinibackClient {
  if (!client) {
    client = createWxClient({
      baseUrl: config.apiBaseUrl,
      wx,
      loginCode: config.devLoginName ? async () => `dev-${config.devLoginName}` : undefined,
      onSessionEnd: () => {
        void wx.reLaunch({ url: '/pages/login/login' });
      },
    });
  }
  return client;
}
