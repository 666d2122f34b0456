package httpapi

import (
	"context"
	"net/http"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// The caller's phone number (POST and DELETE /v1/me/phone): bound from a
// getPhoneNumber code of the mini-program the caller's session belongs to.

// BindMyPhone exchanges a getPhoneNumber code for the caller's number. The
// user and the mini-program come from the access token.
func (s *Server) BindMyPhone(ctx context.Context, req api.BindMyPhoneRequestObject) (api.BindMyPhoneResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.bindMyPhoneFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.bindMyPhoneFailure(ctx, errNoBody)
	}
	u, err := s.app.Phones.Bind(ctx, claims.UserID, claims.AppID, req.Body.Code)
	if err != nil {
		return s.bindMyPhoneFailure(ctx, err)
	}
	return (*userResponse)(&u), nil
}

// UnbindMyPhone forgets the caller's number.
func (s *Server) UnbindMyPhone(ctx context.Context, _ api.UnbindMyPhoneRequestObject) (api.UnbindMyPhoneResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.unbindMyPhoneFailure(ctx, errNoClaims)
	}
	u, err := s.app.Phones.Unbind(ctx, claims.UserID)
	if err != nil {
		return s.unbindMyPhoneFailure(ctx, err)
	}
	return (*userResponse)(&u), nil
}

func (r *userResponse) VisitBindMyPhoneResponse(w http.ResponseWriter) error   { return r.write(w) }
func (r *userResponse) VisitUnbindMyPhoneResponse(w http.ResponseWriter) error { return r.write(w) }

// toAPIPhone maps a bound number to the wire type; nil stays nil.
func toAPIPhone(p *domain.UserPhone) *api.Phone {
	if p == nil {
		return nil
	}
	return &api.Phone{
		PhoneNumber:     p.Number,
		PurePhoneNumber: p.PureNumber,
		CountryCode:     p.CountryCode,
		BoundAt:         p.BoundAt,
	}
}

// appendPhone appends p as encoding/json writes toAPIPhone's value, in
// api.Phone's field order.
func appendPhone(b []byte, p *domain.UserPhone) ([]byte, error) {
	b = append(b, `{"bound_at":`...)
	b, err := appendJSONTime(b, p.BoundAt)
	if err != nil {
		return b, err
	}
	b = append(b, `,"country_code":`...)
	b = appendJSONString(b, p.CountryCode)
	b = append(b, `,"phone_number":`...)
	b = appendJSONString(b, p.Number)
	b = append(b, `,"pure_phone_number":`...)
	b = appendJSONString(b, p.PureNumber)
	return append(b, '}'), nil
}
