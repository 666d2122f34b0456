package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Phones binds the phone number WeChat verified to the signed-in user
// (the mini-program's getPhoneNumber button) and forgets it. The user and
// the mini-program come from the verified access token, never from the
// request.
type Phones struct {
	WeChat ports.WeChatPhone
	Store  ports.PhoneStore
	Clock  ports.Clock
}

// Bind exchanges code at WeChat with the access token of app, the
// mini-program of the caller's session, checks that WeChat's watermark
// names that mini-program, and stores the number on the user in place of
// any earlier one. Every check that can fail without WeChat runs first:
// a successful exchange is paid for, and a code works once.
//
// Another user may hold the same number: it is bound all the same (one
// number can belong to several WeChat accounts, and one person to a WeChat
// account and a password account here).
func (uc Phones) Bind(ctx context.Context, user domain.UserID, app domain.AppID, code string) (domain.User, error) {
	code, err := domain.NormalizePhoneCode(code)
	if err != nil {
		return domain.User{}, err
	}
	if app == "" {
		return domain.User{}, domain.ErrWeChatSessionRequired()
	}
	if uc.WeChat == nil || uc.Store == nil {
		return domain.User{}, errors.New("phones: WeChat or the store is not wired")
	}
	got, err := uc.WeChat.PhoneNumber(ctx, app, code)
	if err != nil {
		return domain.User{}, fmt.Errorf("get phone number: %w", err)
	}
	phone, err := got.BindTo(app, uc.Clock.Now().UTC())
	if err != nil {
		return domain.User{}, err
	}
	u, err := uc.Store.SetUserPhone(ctx, user, &phone)
	if err != nil {
		return domain.User{}, fmt.Errorf("set user phone: %w", err)
	}
	return u, nil
}

// Unbind forgets the user's number; without one it changes nothing but
// the user's updated_at.
func (uc Phones) Unbind(ctx context.Context, user domain.UserID) (domain.User, error) {
	if uc.Store == nil {
		return domain.User{}, errors.New("phones: the store is not wired")
	}
	u, err := uc.Store.SetUserPhone(ctx, user, nil)
	if err != nil {
		return domain.User{}, fmt.Errorf("clear user phone: %w", err)
	}
	return u, nil
}
