package wechat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// The phone number API: POST /wxa/business/getuserphonenumber with the
// code of a mini-program's getPhoneNumber button. WeChat charges for each
// successful call past a free allowance (since 2023-08).

const (
	phoneAPI  = "getuserphonenumber"
	phonePath = "/wxa/business/getuserphonenumber"
)

var _ ports.WeChatPhone = (*API)(nil)

// phoneRequest is the body; WeChat's optional openid is not sent.
type phoneRequest struct {
	Code string `json:"code"`
}

// phoneReply is the success reply (errcode 0; errcodes never get here).
type phoneReply struct {
	PhoneInfo *struct {
		PhoneNumber     string     `json:"phoneNumber"`
		PurePhoneNumber string     `json:"purePhoneNumber"`
		CountryCode     flexString `json:"countryCode"`
		Watermark       struct {
			Timestamp flexString `json:"timestamp"`
			AppID     string     `json:"appid"`
		} `json:"watermark"`
	} `json:"phone_info"`
}

// flexString decodes a JSON string or a JSON number into its text:
// WeChat documents countryCode as a string ("86") but its own example
// sends a number (86), and SDKs that picked one type broke on the other.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*f = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("neither a string nor a number")
	}
	*f = flexString(n.String())
	return nil
}

// PhoneNumber exchanges a getPhoneNumber code with app's access token and
// returns the number with its watermark, as ports.WeChatPhone says.
// 40029 (an invalid, expired or used code) and 40163 get phone codes of
// their own; the other errcodes map as every token-bearing API's do. A
// reply without a well-formed number is wechat_bad_response. Neither the
// number nor the code appears in an error text.
func (a *API) PhoneNumber(ctx context.Context, app domain.AppID, code string) (domain.WeChatPhone, error) {
	var r phoneReply
	if err := a.PostJSON(ctx, app, phoneAPI, phonePath, phoneRequest{Code: code}, &r); err != nil {
		return domain.WeChatPhone{}, phoneError(err)
	}
	return decodePhone(r)
}

// decodePhone checks a success reply and turns it into the domain's.
func decodePhone(r phoneReply) (domain.WeChatPhone, error) {
	p := r.PhoneInfo
	if p == nil {
		return domain.WeChatPhone{}, badResponse(errors.New("getuserphonenumber: reply has no phone_info"))
	}
	num, err := domain.NewPhoneNumber(string(p.CountryCode), p.PurePhoneNumber, p.PhoneNumber)
	if err != nil {
		return domain.WeChatPhone{}, badResponse(fmt.Errorf("getuserphonenumber: %w", err))
	}
	if p.Watermark.AppID == "" {
		return domain.WeChatPhone{}, badResponse(errors.New("getuserphonenumber: reply has no watermark appid"))
	}
	out := domain.WeChatPhone{PhoneNumber: num, WatermarkAppID: domain.AppID(p.Watermark.AppID)}
	if ts, err := strconv.ParseInt(string(p.Watermark.Timestamp), 10, 64); err == nil && ts > 0 {
		out.WatermarkTime = time.Unix(ts, 0).UTC()
	}
	return out, nil
}

// phoneError maps the API's own errcodes; anything else keeps its
// mapping (token, transport and shared errcodes).
func phoneError(err error) error {
	ee, ok := apiErrcode(err)
	if !ok {
		return err
	}
	switch ee.Code {
	case 40029:
		return &domain.Error{Code: domain.CodePhoneCodeInvalid, Err: ee,
			Message: "WeChat refused the phone number code (errcode 40029): it is invalid, expired or already used. Ask the user to tap the getPhoneNumber button again."}
	case 40163:
		return &domain.Error{Code: domain.CodePhoneCodeUsed, Err: ee,
			Message: "This phone number code was already used (WeChat errcode 40163). Ask the user to tap the getPhoneNumber button again."}
	}
	return ee.DomainError()
}
