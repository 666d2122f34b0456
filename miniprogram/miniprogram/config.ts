// Where the sample talks to. Change these two lines for your setup.
export const config = {
  // The miniback server. In WeChat DevTools, http://127.0.0.1:8080 works
  // with "Does not verify valid domain names" (project.config.json's
  // urlCheck: false). On a phone it must be an https domain listed under
  // "request合法域名" in the mini-program console.
  apiBaseUrl: 'http://127.0.0.1:8080',
  // With miniback's built-in WeChat simulator (no MINIBACK_WECHAT_APPS on
  // the server), wx.login's real codes are refused, so the sample logs in
  // as the simulator user `dev-<devLoginName>`. Set it to '' when the
  // server has your real AppID and secret: then wx.login's code is used.
  devLoginName: 'alice',
};
