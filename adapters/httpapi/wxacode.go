package httpapi

import (
	"bytes"
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// wxaCodeCacheControl lets the client keep a code: the same parameters
// always give the same image, and it never expires. Private: it was made
// for the caller's session.
const wxaCodeCacheControl = "private, max-age=86400"

// CreateWxaCode answers a mini-program code for the caller's mini-program
// (the AppID of the session), as the image WeChat made.
func (s *Server) CreateWxaCode(ctx context.Context, req api.CreateWxaCodeRequestObject) (api.CreateWxaCodeResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.createWxaCodeFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.createWxaCodeFailure(ctx, errNoBody)
	}
	caller := app.WxaCodeCaller{User: claims.UserID, Role: claims.Role, App: claims.AppID}
	res, err := s.app.WxaCodes.Get(ctx, caller, toWxaCodeInput(*req.Body))
	if err != nil {
		return s.createWxaCodeFailure(ctx, err)
	}
	if res.CacheErr != nil {
		s.log.WarnContext(ctx, "wxacode: the code cache failed; the code came from WeChat",
			"request_id", requestIDFrom(ctx), "error", res.CacheErr.Error())
	}
	img := res.Image
	cache, etag, control := "miss", img.ETag(), wxaCodeCacheControl
	if res.Cached {
		cache = "hit"
	}
	headers := api.CreateWxaCode200ResponseHeaders{CacheControl: &control, ETag: &etag, XWxacodeCache: &cache}
	body, size := bytes.NewReader(img.Data), int64(len(img.Data))
	if img.ContentType == "image/png" {
		return api.CreateWxaCode200ImagepngResponse{Body: body, ContentLength: size, Headers: headers}, nil
	}
	return api.CreateWxaCode200ImagejpegResponse{Body: body, ContentLength: size, Headers: headers}, nil
}

// toWxaCodeInput keeps what the client sent, absent fields absent.
func toWxaCodeInput(b api.WxaCodeRequest) domain.WxaCodeInput {
	in := domain.WxaCodeInput{
		Scene: b.Scene, Page: b.Page, Width: b.Width,
		CheckPath: b.CheckPath, AutoColor: b.AutoColor, IsHyaline: b.IsHyaline,
	}
	if b.EnvVersion != nil {
		v := string(*b.EnvVersion)
		in.EnvVersion = &v
	}
	if c := b.LineColor; c != nil {
		in.LineColor = &[3]int{c.R, c.G, c.B}
	}
	return in
}
