package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// WxaCodeMaker asks WeChat for mini-program codes.
type WxaCodeMaker interface {
	// WxaCodeUnlimited calls getwxacodeunlimit for app with c and returns
	// the image as WeChat sent it (image/jpeg or image/png). Failures are
	// *domain.Error: CodeWxaCodeSceneInvalid (40169),
	// CodeWxaCodePageNotFound (41030), CodeWeChatRateLimited (45009), or
	// the wechat_* codes every WeChat API shares.
	WxaCodeUnlimited(ctx context.Context, app domain.AppID, c domain.WxaCode) (domain.WxaCodeImage, error)
}

// ObjectBytes stores and reads small objects whole, from the server's
// side, in the storage that keeps uploads (cached mini-program codes).
type ObjectBytes interface {
	// PutObject stores data under key with its content type, replacing
	// any object there.
	PutObject(ctx context.Context, key, contentType string, data []byte) error
	// GetObject returns the object's bytes, size and content type, or
	// CodeNotFound when there is none. An object over maxBytes is an
	// error, not read.
	GetObject(ctx context.Context, key string, maxBytes int64) ([]byte, domain.ObjectInfo, error)
}
