package wechat

// This file is WeChat's content security for mini-programs: msgSecCheck v2
// (text, answered at once) and mediaCheckAsync v2 (images: a trace_id now,
// the verdict later by message push, event wxa_media_check).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Paths and API names of content security.
const (
	msgSecCheckPath     = "/wxa/msg_sec_check"
	mediaCheckAsyncPath = "/wxa/media_check_async"
	apiMsgSecCheck      = "msg_sec_check"
	apiMediaCheckAsync  = "media_check_async"
)

// mediaTypeImage is mediaCheckAsync's media_type of an image (1 is audio).
const mediaTypeImage = 2

// ContentSecurity checks user content with WeChat. It is safe for
// concurrent use.
type ContentSecurity struct{ api *API }

var _ ports.ContentChecker = ContentSecurity{}

// NewContentSecurity returns the content checker that calls WeChat with
// api's tokens.
func NewContentSecurity(api *API) ContentSecurity { return ContentSecurity{api: api} }

// msgSecCheckRequest is msgSecCheck v2's body. The access token goes in the
// URL (in the body WeChat answers 47001).
type msgSecCheckRequest struct {
	Version int    `json:"version"`
	OpenID  string `json:"openid"`
	Scene   int    `json:"scene"`
	Content string `json:"content"`
}

// msgSecCheckReply is its success: result.suggest is the verdict.
type msgSecCheckReply struct {
	TraceID string `json:"trace_id"`
	Result  struct {
		Suggest string    `json:"suggest"`
		Label   flexLabel `json:"label"`
	} `json:"result"`
}

// flexLabel is a label WeChat sends as a number (as documented) or as a
// string of digits (as some replies and pushes carry it).
type flexLabel int

func (l *flexLabel) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			return nil
		}
		n, err := strconv.Atoi(s)
		if err != nil {
			return fmt.Errorf("label %q is not a number", s)
		}
		*l = flexLabel(n)
		return nil
	}
	var n int
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*l = flexLabel(n)
	return nil
}

// CheckText calls msgSecCheck v2. Failures are *domain.Error with a
// wechat_* code, or the wrapped context error when the caller gave up.
func (c ContentSecurity) CheckText(ctx context.Context, in domain.TextCheck) (domain.TextVerdict, error) {
	var out msgSecCheckReply
	err := c.api.PostJSON(ctx, in.App, apiMsgSecCheck, msgSecCheckPath, msgSecCheckRequest{
		Version: 2, OpenID: string(in.OpenID), Scene: in.Scene, Content: in.Content,
	}, &out)
	if err != nil {
		return domain.TextVerdict{}, securityError(err)
	}
	v := domain.TextVerdict{Suggest: domain.Suggest(out.Result.Suggest), Label: int(out.Result.Label), TraceID: out.TraceID}
	if !v.Suggest.Valid() {
		return domain.TextVerdict{}, badResponse(fmt.Errorf("wechat %s: result.suggest %q is not pass, review or risky", apiMsgSecCheck, out.Result.Suggest))
	}
	return v, nil
}

// mediaCheckRequest is mediaCheckAsync v2's body.
type mediaCheckRequest struct {
	MediaURL  string `json:"media_url"`
	MediaType int    `json:"media_type"`
	Version   int    `json:"version"`
	Scene     int    `json:"scene"`
	OpenID    string `json:"openid"`
}

// CheckMedia calls mediaCheckAsync v2 for an image and returns its
// trace_id. WeChat downloads in.URL itself, later: it must be reachable
// from the Internet until then.
func (c ContentSecurity) CheckMedia(ctx context.Context, in domain.MediaCheck) (string, error) {
	var out struct {
		TraceID string `json:"trace_id"`
	}
	err := c.api.PostJSON(ctx, in.App, apiMediaCheckAsync, mediaCheckAsyncPath, mediaCheckRequest{
		MediaURL: in.URL, MediaType: mediaTypeImage, Version: 2, Scene: in.Scene, OpenID: string(in.OpenID),
	}, &out)
	if err != nil {
		return "", securityError(err)
	}
	if out.TraceID == "" {
		return "", badResponse(fmt.Errorf("wechat %s: no trace_id in the reply", apiMediaCheckAsync))
	}
	return out.TraceID, nil
}

// securityError maps content security's own errcodes, and the shared ones
// through DomainError. The errcode stays in the cause for the log.
func securityError(err error) error {
	ec, ok := apiErrcode(err)
	if !ok {
		return err
	}
	d := ec.DomainError()
	switch ec.Code {
	case 40003:
		d.Message = "WeChat does not know the user's openid in this mini-program (errcode 40003)."
	case 43104:
		d.Message = "WeChat says the openid does not belong to this mini-program, or the mini-program may not use content security (errcode 43104)."
	case 61010:
		// Community reports: the user has not opened the mini-program in
		// the last 2 hours, which content security requires.
		d.Message = "WeChat refused the check: the user has not opened the mini-program in the last 2 hours (errcode 61010)."
	case 40129:
		d.Message = "WeChat refused the content security scene (errcode 40129)."
	case 48001:
		d.Code = domain.CodeWeChatMisconfigured
		d.Message = "The mini-program may not call content security (errcode 48001, api unauthorized)."
	}
	return d
}
