package postgres

import (
	"context"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/miniback/miniback/adapters/postgres/internal/sqlcgen"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.PhoneStore = (*UserStore)(nil)

// SetUserPhone binds phone to the user in place of any earlier number, or
// clears the user's number when phone is nil, in one statement. Numbers
// are not unique (see migration 00007).
func (s *UserStore) SetUserPhone(ctx context.Context, id domain.UserID, phone *domain.UserPhone) (domain.User, error) {
	uid, err := parseUserID(id)
	if err != nil {
		return domain.User{}, err
	}
	p := sqlcgen.SetUserPhoneParams{ID: uid}
	if phone != nil {
		p.CountryCode = pgtype.Text{String: phone.CountryCode, Valid: true}
		p.PureNumber = pgtype.Text{String: phone.PureNumber, Valid: true}
		p.Number = pgtype.Text{String: phone.Number, Valid: true}
		p.AppID = pgtype.Text{String: string(phone.AppID), Valid: true}
		p.BoundAt = pgtype.Timestamptz{Time: phone.BoundAt, Valid: true}
	}
	row, err := s.q.SetUserPhone(ctx, p)
	if err != nil {
		return domain.User{}, interpretUserError(err)
	}
	return toUser(sqlcgen.GetUserRow(row)), nil
}

// toUserPhone reads the phone columns of a users row: nil when no number
// is bound (the columns are set and cleared together).
func toUserPhone(u sqlcgen.User) *domain.UserPhone {
	if !u.PhonePureNumber.Valid {
		return nil
	}
	return &domain.UserPhone{
		PhoneNumber: domain.PhoneNumber{
			CountryCode: u.PhoneCountryCode.String,
			PureNumber:  u.PhonePureNumber.String,
			Number:      u.PhoneNumber.String,
		},
		AppID:   domain.AppID(u.PhoneAppID.String),
		BoundAt: u.PhoneBoundAt.Time.UTC(),
	}
}
