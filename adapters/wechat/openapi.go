package wechat

import (
	"context"
	"fmt"

	"github.com/miniback/miniback/domain"
)

// WeChat Cloud Hosting's open-API service (开放接口服务) is a sidecar of
// the container: a plain-HTTP request to api.weixin.qq.com with no
// access_token reaches WeChat with the app's credentials added by the
// platform (the answer carries an x-openapi-seqid header). There is then
// no token to fetch, store or refresh, and stable_token is never called.
// Each API must be on the environment's allow-list (微信令牌权限配置),
// else WeChat answers 48001. On resource sharing, a call made for another
// mini-program than the environment's own carries ?from_appid=.

// OpenAPITokens is the TokenSource behind the open-API service: it hands
// out no token.
type OpenAPITokens struct{}

var _ TokenSource = OpenAPITokens{}

// Token returns "": send no access_token.
func (OpenAPITokens) Token(context.Context, domain.AppID) (string, error) { return "", nil }

// Renew fails: a token errcode through the open-API service means the
// request did not go through the service (it is off, or the base URL is
// not its plain-HTTP api.weixin.qq.com), and no token of ours would help.
func (OpenAPITokens) Renew(_ context.Context, app domain.AppID, _ string) (string, error) {
	return "", &domain.Error{Code: domain.CodeWeChatMisconfigured,
		Message: "WeChat refused a call made without an access token: on Cloud Hosting, switch on the open-API service (开放接口服务) and call http://api.weixin.qq.com.",
		Err:     fmt.Errorf("wechat: token errcode for %s through the open-API service", app)}
}

// OpenAPI returns the caller of token-bearing APIs for a container behind
// Cloud Hosting's open-API service. home is the app whose environment the
// container runs in; calls for any other served app (resource sharing)
// carry from_appid, so WeChat answers as that app.
func (c *Client) OpenAPI(home domain.AppID) *API {
	return &API{c: c, tokens: OpenAPITokens{}, home: home}
}
