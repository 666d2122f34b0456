package main

import (
	"errors"
	"net/url"
	"strings"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// The WeChat Cloud Hosting (微信云托管) mode, MINIBACK_CLOUDRUN.
//
// On Cloud Hosting a mini-program calls the container with
// wx.cloud.callContainer; the platform's gateway verifies the caller and
// adds its identity as X-WX-OPENID, X-WX-APPID, ... headers, which
// POST /v1/auth/cloudrun then turns into a session. Those headers are
// proof of nothing by themselves: the gateway sets them, but so can anyone
// who reaches the container another way (its public domain, a load
// balancer, a port opened for debugging), and then they log in as whoever
// they name. So the mode is off by default, and in production it also
// needs MINIBACK_CLOUDRUN_TRUST_GATEWAY=true, a second, explicit statement
// that the service is reachable only through that gateway. Any combination
// that does not add up stops the server at start rather than running
// half-configured.

const (
	// publicWeChatBaseURL is WeChat's API for everyone else.
	publicWeChatBaseURL = "https://api.weixin.qq.com"
	// openAPIBaseURL is how a container reaches Cloud Hosting's open-API
	// service (开放接口服务): a sidecar that takes plain-HTTP requests for
	// api.weixin.qq.com and adds the app's credentials itself, so no
	// access_token is sent (its answers carry an x-openapi-seqid header).
	openAPIBaseURL = "http://api.weixin.qq.com"
)

// WeChatAPIBaseURL is WeChat's API root: MINIBACK_WECHAT_BASE_URL, or by
// default the open-API service in Cloud Hosting mode and the public API
// otherwise.
func (c Config) WeChatAPIBaseURL() string {
	switch {
	case c.WeChatBaseURL != "":
		return c.WeChatBaseURL
	case c.CloudRun:
		return openAPIBaseURL
	default:
		return publicWeChatBaseURL
	}
}

// validateCloudRun checks the Cloud Hosting settings.
func (c Config) validateCloudRun() []error {
	var errs []error
	if c.CloudRunTrustGateway && !c.CloudRun {
		errs = append(errs, errors.New("MINIBACK_CLOUDRUN_TRUST_GATEWAY=true acknowledges the Cloud Hosting mode, "+
			"which is off: set MINIBACK_CLOUDRUN=true as well, or remove it"))
	}
	if !c.CloudRun {
		return errs
	}
	if c.Production() && !c.CloudRunTrustGateway {
		errs = append(errs, errors.New("MINIBACK_CLOUDRUN=true in production also needs MINIBACK_CLOUDRUN_TRUST_GATEWAY=true: "+
			"the mode logs in whoever the X-WX-OPENID header names, which only WeChat Cloud Hosting's gateway can be trusted to set; "+
			"set it only where the service is reachable through that gateway alone (public network access off)"))
	}
	if u, err := url.Parse(c.WeChatBaseURL); c.WeChatBaseURL != "" && err == nil && u.Scheme == "https" {
		errs = append(errs, errors.New("MINIBACK_WECHAT_BASE_URL must be http:// (or unset) with MINIBACK_CLOUDRUN=true: "+
			"Cloud Hosting's open-API service answers plain HTTP only, and over https WeChat asks for an access token"))
	}
	return errs
}

// logCloudRun says at start whether the Cloud Hosting mode is on, loudly:
// the mode changes who may log in.
func (m *Main) logCloudRun() {
	if !m.Config.CloudRun {
		return
	}
	if m.Config.CloudRunTrustGateway {
		m.Logger.Warn("WeChat Cloud Hosting mode: POST /v1/auth/cloudrun logs in the caller named by the gateway's X-WX-* headers; "+
			"keep the service reachable through the gateway only (public network access off)",
			"wechat_base_url", m.Config.WeChatAPIBaseURL())
		return
	}
	m.Logger.Warn("WeChat Cloud Hosting mode WITHOUT MINIBACK_CLOUDRUN_TRUST_GATEWAY (development only): "+
		"anyone who reaches this server can log in as anyone by sending X-WX-* headers to POST /v1/auth/cloudrun",
		"wechat_base_url", m.Config.WeChatAPIBaseURL())
}

// HomeApp is, in Cloud Hosting mode, the mini-program whose environment
// the container runs in: the first app of MINIBACK_WECHAT_APPS (the
// simulator's with none). WeChat APIs for it go through the open-API
// service as they are; those for the other apps (resource sharing) carry
// from_appid.
func (c Config) HomeApp() domain.AppID {
	first, _, _ := strings.Cut(strings.TrimSpace(c.WeChatApps), ",")
	id, _, _ := strings.Cut(strings.TrimSpace(first), ":")
	if id == "" {
		return wechatsim.DefaultAppID
	}
	return domain.AppID(id)
}

// simulatorOpenAPIHome makes the development simulator play the open-API
// service too in Cloud Hosting mode.
func (c Config) simulatorOpenAPIHome() string {
	if !c.CloudRun {
		return ""
	}
	return string(c.HomeApp())
}

// openAPI is the caller of WeChat's token-bearing APIs in Cloud Hosting
// mode: through the open-API service, with no access token, so no
// stable_token call and no token kept anywhere.
func (m *Main) openAPI(client *wechat.Client) *wechat.API {
	m.Logger.Info("wechat: Cloud Hosting open-API service, no access token (stable_token is never called)",
		"base_url", m.Config.WeChatAPIBaseURL(), "home_app", m.Config.HomeApp())
	return client.OpenAPI(m.Config.HomeApp())
}
