package postgres_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/postgres"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/domain"
)

func userPhone(cc, pure, full string, at time.Time) *domain.UserPhone {
	return &domain.UserPhone{
		PhoneNumber: domain.PhoneNumber{CountryCode: cc, PureNumber: pure, Number: full},
		AppID:       "wxapp",
		BoundAt:     at,
	}
}

func TestSetUserPhoneBindsReplacesAndClearsTheNumber(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)
	ctx := context.Background()
	u, _ := upsert(t, s, identity("wxapp", "open-1", "", "key-1"))
	if u.Phone != nil {
		t.Fatalf("a new user has phone %+v", u.Phone)
	}
	at := time.Date(2024, 5, 1, 8, 0, 0, 123456000, time.UTC)

	bound, err := s.SetUserPhone(ctx, u.ID, userPhone("86", "13800138000", "13800138000", at))
	if err != nil {
		t.Fatal(err)
	}
	want := userPhone("86", "13800138000", "13800138000", at)
	if bound.Phone == nil || *bound.Phone != *want {
		t.Fatalf("bound %+v, want %+v", bound.Phone, want)
	}
	if !bound.UpdatedAt.After(u.UpdatedAt) && !bound.UpdatedAt.Equal(u.UpdatedAt) {
		t.Errorf("updated_at went back")
	}
	// Every read of the user carries it.
	got, err := s.GetUser(ctx, u.ID)
	if err != nil || got.Phone == nil || *got.Phone != *want {
		t.Fatalf("GetUser: %+v, %v", got.Phone, err)
	}
	again, _ := upsert(t, s, identity("wxapp", "open-1", "", "key-2"))
	if again.Phone == nil || *again.Phone != *want {
		t.Fatalf("the next login's user: %+v", again.Phone)
	}

	replaced, err := s.SetUserPhone(ctx, u.ID, userPhone("1", "2025550123", "+1 2025550123", at.Add(time.Hour)))
	if err != nil || replaced.Phone == nil || replaced.Phone.PureNumber != "2025550123" || replaced.Phone.CountryCode != "1" {
		t.Fatalf("replaced: %+v, %v", replaced.Phone, err)
	}

	cleared, err := s.SetUserPhone(ctx, u.ID, nil)
	if err != nil || cleared.Phone != nil {
		t.Fatalf("cleared: %+v, %v", cleared.Phone, err)
	}
	var n int
	if err := db.Pool().QueryRow(ctx, `SELECT count(*) FROM users WHERE id = $1 AND phone_country_code IS NULL
		AND phone_pure_number IS NULL AND phone_number IS NULL AND phone_app_id IS NULL AND phone_bound_at IS NULL`,
		string(u.ID)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("the cleared row keeps phone columns (%d, %v)", n, err)
	}
}

func TestSetUserPhoneAllowsTheSameNumberOnSeveralUsers(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)
	ctx := context.Background()
	a, _ := upsert(t, s, identity("wxapp", "open-a", "", "k"))
	b, _ := upsert(t, s, identity("wxother", "open-b", "", "k"))
	for _, u := range []domain.User{a, b} {
		if _, err := s.SetUserPhone(ctx, u.ID, userPhone("86", "13800138000", "13800138000", time.Now())); err != nil {
			t.Fatalf("bind on %s: %v", u.ID, err)
		}
	}
}

func TestSetUserPhoneOfNoUserIsNotFound(t *testing.T) {
	s := postgres.NewUserStore(pgtest.NewDB(t))
	_, err := s.SetUserPhone(context.Background(), "6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b", userPhone("86", "1", "1", time.Now()))
	wantCode(t, err, domain.CodeNotFound)
	_, err = s.SetUserPhone(context.Background(), "not-a-uuid", nil)
	wantCode(t, err, domain.CodeNotFound)
}

func TestPhoneColumnsAreSetAndClearedTogether(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)
	u, _ := upsert(t, s, identity("wxapp", "open-1", "", "k"))
	tests := []struct{ name, sql string }{
		{"a number without its country code", `UPDATE users SET phone_pure_number = '1' WHERE id = $1`},
		{"a country code of letters", `UPDATE users SET phone_country_code = 'x', phone_pure_number = '1', phone_number = '1',
			phone_app_id = 'a', phone_bound_at = now() WHERE id = $1`},
		{"a pure number with a hyphen", `UPDATE users SET phone_country_code = '86', phone_pure_number = '138-1', phone_number = '1',
			phone_app_id = 'a', phone_bound_at = now() WHERE id = $1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Pool().Exec(context.Background(), tt.sql, string(u.ID)); err == nil {
				t.Fatal("the database accepted it")
			}
		})
	}
}

func TestListUsersFindsAUserByPhone(t *testing.T) {
	db := pgtest.NewDB(t)
	s := postgres.NewUserStore(db)
	ctx := context.Background()
	cn, _ := upsert(t, s, identity("wxapp", "open-cn", "", "k"))
	us, _ := upsert(t, s, identity("wxapp", "open-us", "", "k"))
	upsert(t, s, identity("wxapp", "open-none", "", "k"))
	if _, err := s.SetUserPhone(ctx, cn.ID, userPhone("86", "13800138000", "13800138000", time.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetUserPhone(ctx, us.ID, userPhone("1", "2025550123", "+1 2025550123", time.Now())); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		search string
		want   []domain.UserID
	}{
		{"13800138000", []domain.UserID{cn.ID}},
		{"+86 138-0013-8000", []domain.UserID{cn.ID}},
		{"8613800138000", []domain.UserID{cn.ID}},
		{"2025550123", []domain.UserID{us.ID}},
		{"+1 (202) 555-0123", []domain.UserID{us.ID}},
		{"1380013", nil},     // part of a number is not a number
		{"13800138001", nil}, // another number
	}
	for _, tt := range tests {
		t.Run(tt.search, func(t *testing.T) {
			q, err := domain.UserQuery{Search: tt.search}.Normalize()
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.ListUsers(ctx, q, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []domain.UserID
			for _, u := range got {
				ids = append(ids, u.ID)
				if u.Phone == nil {
					t.Errorf("found user %s without its phone", u.ID)
				}
			}
			if len(ids) != len(tt.want) || (len(ids) == 1 && ids[0] != tt.want[0]) {
				t.Fatalf("found %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestListUsersByPhoneUsesThePhoneIndexes(t *testing.T) {
	db := pgtest.NewDB(t)
	ctx := context.Background()
	// Enough users that a sequential scan is not free, most without a phone.
	if _, err := db.Pool().Exec(ctx, `INSERT INTO users (nickname) SELECT 'user ' || g FROM generate_series(1, 20000) g`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE users SET phone_country_code = '86', phone_pure_number = (13800000000 + (random() * 1e6)::int)::text,
		phone_number = 'x', phone_app_id = 'wxapp', phone_bound_at = now() WHERE random() < 0.1`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `ANALYZE users`); err != nil {
		t.Fatal(err)
	}
	// The phone half of the search on its own, as the planner sees it.
	for _, cond := range []string{
		`phone_pure_number = '13800138000'`,
		`phone_country_code || phone_pure_number = '8613800138000'`,
	} {
		var plan string
		rows, err := db.Pool().Query(ctx, `EXPLAIN SELECT id FROM users WHERE `+cond)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			plan += line + "\n"
		}
		rows.Close()
		if !containsAny(plan, "users_phone_pure_number_idx", "users_phone_full_number_idx") {
			t.Errorf("%s: the plan uses no phone index:\n%s", cond, plan)
		}
	}
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
