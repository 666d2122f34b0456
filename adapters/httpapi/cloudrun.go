package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// LoginWithCloudRun logs in the caller WeChat Cloud Hosting's gateway names
// in its X-WX-* headers. This is the one place those headers are read: the
// use-case refuses them unless the deployment's Cloud Hosting mode is on,
// and no other operation declares them, so they reach nothing else.
func (s *Server) LoginWithCloudRun(ctx context.Context, req api.LoginWithCloudRunRequestObject) (api.LoginWithCloudRunResponseObject, error) {
	p := req.Params
	caller := domain.CloudRunCaller{
		AppID: headerValue(p.XWXAPPID), OpenID: headerValue(p.XWXOPENID), UnionID: headerValue(p.XWXUNIONID),
		FromAppID: headerValue(p.XWXFROMAPPID), FromOpenID: headerValue(p.XWXFROMOPENID), FromUnionID: headerValue(p.XWXFROMUNIONID),
		Source: headerValue(p.XWXSOURCE), Env: headerValue(p.XWXENV),
	}
	login, err := s.app.Login.LoginCloudRun(ctx, caller, userAgentFrom(ctx))
	if err != nil {
		return s.loginWithCloudRunFailure(ctx, err)
	}
	body, err := toLoginResponse(login)
	if err != nil {
		return nil, err
	}
	return api.LoginWithCloudRun200JSONResponse(body), nil
}

// headerValue is an optional header parameter's value, "" when absent.
func headerValue(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
