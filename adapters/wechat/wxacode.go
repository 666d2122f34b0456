package wechat

import (
	"context"
	"fmt"
	"net/http"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// getwxacodeunlimit: mini-program codes (小程序码), unlimited in number.

var _ ports.WxaCodeMaker = (*API)(nil)

const (
	apiWxaCodeUnlimit  = "getwxacodeunlimit"
	pathWxaCodeUnlimit = "/wxa/getwxacodeunlimit"
)

// wxaCodeBody is getwxacodeunlimit's request. Every field is sent, with
// the defaults filled in, so WeChat and our cache key agree on them.
type wxaCodeBody struct {
	Scene      string    `json:"scene"`
	Page       string    `json:"page,omitempty"` // absent: the home page
	CheckPath  bool      `json:"check_path"`
	EnvVersion string    `json:"env_version"`
	Width      int       `json:"width"`
	AutoColor  bool      `json:"auto_color"`
	LineColor  *rgbColor `json:"line_color,omitempty"` // ignored with auto_color
	IsHyaline  bool      `json:"is_hyaline"`
}

type rgbColor struct {
	R uint8 `json:"r"`
	G uint8 `json:"g"`
	B uint8 `json:"b"`
}

// WxaCodeUnlimited asks WeChat for app's code for c. Success is an image
// (WeChat says image/jpeg, or image/png for a transparent one; the bytes
// are checked to be what the type says); failure is an errcode:
// 40169 bad scene, 41030 unknown page, 45009 quota, else the shared ones.
func (a *API) WxaCodeUnlimited(ctx context.Context, app domain.AppID, c domain.WxaCode) (domain.WxaCodeImage, error) {
	body := wxaCodeBody{
		Scene: c.Scene, Page: c.Page, CheckPath: c.CheckPath, EnvVersion: string(c.EnvVersion),
		Width: c.Width, AutoColor: c.AutoColor, IsHyaline: c.IsHyaline,
	}
	if !c.AutoColor {
		body.LineColor = &rgbColor{R: c.LineColor.R, G: c.LineColor.G, B: c.LineColor.B}
	}
	r, err := a.Post(ctx, app, apiWxaCodeUnlimit, pathWxaCodeUnlimit, body)
	if err != nil {
		e, ok := apiErrcode(err)
		if !ok {
			return domain.WxaCodeImage{}, err
		}
		switch e.Code {
		case 40169:
			return domain.WxaCodeImage{}, domain.ErrWxaCodeSceneInvalid(e)
		case 41030:
			return domain.WxaCodeImage{}, domain.ErrWxaCodePageNotFound(c.Page, e)
		case 45009:
			return domain.WxaCodeImage{}, domain.ErrWxaCodeQuota(e)
		}
		return domain.WxaCodeImage{}, e.DomainError()
	}
	if r.IsJSON() {
		// errcode 0 with no image: not an answer this API gives.
		return domain.WxaCodeImage{}, badResponse(fmt.Errorf("wechat %s: JSON without an errcode instead of an image", apiWxaCodeUnlimit))
	}
	// The bytes decide: a client shown image/png must get a PNG.
	sniffed := http.DetectContentType(r.Body)
	if !domain.IsWxaCodeImageType(sniffed) {
		return domain.WxaCodeImage{}, badResponse(fmt.Errorf("wechat %s: reply is %q (%d bytes, sniffed %q), not a JPEG or PNG",
			apiWxaCodeUnlimit, r.ContentType, len(r.Body), sniffed))
	}
	return domain.WxaCodeImage{ContentType: sniffed, Data: r.Body}, nil
}
