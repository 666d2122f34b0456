package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// WeChatPhone exchanges a getPhoneNumber code for the user's phone number
// (POST /wxa/business/getuserphonenumber, with app's access token).
// WeChat charges for each successful call past a free allowance, so the
// use-case calls it only for a request it would otherwise accept.
type WeChatPhone interface {
	// PhoneNumber returns the number and its watermark. Failures are
	// *domain.Error: CodePhoneCodeInvalid (40029: invalid, expired or
	// used), CodePhoneCodeUsed (40163), or the wechat_* codes every
	// WeChat API shares (busy, rate limited, timeout, bad reply…).
	PhoneNumber(ctx context.Context, app domain.AppID, code string) (domain.WeChatPhone, error)
}
