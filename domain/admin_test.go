package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestDisableReasonIsTrimmedAndBounded(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		code     string // the field error's code; "" for a valid reason
	}{
		{"  spam  ", "spam", ""},
		{"广告 " + strings.Repeat("多", 495), "广告 " + strings.Repeat("多", 495), ""},
		{"", "", "required"},
		{" \t ", "", "required"},
		{strings.Repeat("a", 501), "", "too_long"},
		{"bad\x07bell", "", "invalid_characters"},
	} {
		got, err := domain.NormalizeDisableReason(tc.in)
		if tc.code == "" {
			if err != nil || got != tc.want {
				t.Errorf("%q: %q, %v; want %q", tc.in, got, err, tc.want)
			}
			continue
		}
		var de *domain.Error
		if !asError(err, &de) || de.Code != domain.CodeInvalid || len(de.Fields) != 1 || de.Fields[0].Code != tc.code || de.Fields[0].Field != "reason" {
			t.Errorf("%q: %v, want reason %s", tc.in, err, tc.code)
		}
	}
}

func asError(err error, de **domain.Error) bool {
	e, ok := err.(*domain.Error)
	*de = e
	return ok
}

func TestAdminCursorRoundTripsAndRefusesAnythingElse(t *testing.T) {
	c := domain.AdminCursor{At: time.Date(2026, 3, 1, 8, 0, 0, 123456000, time.UTC), ID: "42"}
	back, err := domain.DecodeAdminCursor(c.Encode())
	if err != nil || !back.At.Equal(c.At) || back.ID != c.ID {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	for _, bad := range []string{"", "!!", "e30", domain.AdminCursor{ID: "x"}.Encode(), domain.AdminCursor{At: c.At}.Encode(),
		domain.AdminCursor{At: c.At, ID: strings.Repeat("x", 65)}.Encode()} {
		if _, err := domain.DecodeAdminCursor(bad); domain.ErrorCode(err) != domain.CodeInvalid {
			t.Errorf("%q: %v, want validation_failed", bad, err)
		}
	}
}

func TestAdminQueriesAreChecked(t *testing.T) {
	for name, tc := range map[string]struct {
		err   error
		field string // "" for valid
	}{
		"sessions default": {err: func() error {
			q, err := (domain.SessionQuery{}).Normalize()
			return want(q.State == domain.SessionsAll && q.Page.Limit == 20, err)
		}()},
		"sessions state": {err: func() error { _, err := (domain.SessionQuery{State: "zombie"}).Normalize(); return err }(), field: "query.state"},
		"sessions limit": {err: func() error {
			_, err := (domain.SessionQuery{Page: domain.AdminPage{Limit: 101}}).Normalize()
			return err
		}(), field: "query.limit"},
		"sessions cursor": {err: func() error {
			_, err := (domain.SessionQuery{Page: domain.AdminPage{Cursor: "nope"}}).Normalize()
			return err
		}(), field: "query.cursor"},
		"audit default":      {err: func() error { q, err := (domain.AuditQuery{}).Normalize(); return want(q.Page.Limit == 20, err) }()},
		"audit target kind":  {err: func() error { _, err := (domain.AuditQuery{TargetKind: "planet"}).Normalize(); return err }(), field: "query.target_kind"},
		"audit action":       {err: func() error { _, err := (domain.AuditQuery{Action: "DROP TABLE"}).Normalize(); return err }(), field: "query.action"},
		"audit known action": {err: func() error { _, err := (domain.AuditQuery{Action: domain.AuditJobRetry}).Normalize(); return err }()},
		"audit long target":  {err: func() error { _, err := (domain.AuditQuery{TargetID: strings.Repeat("x", 65)}).Normalize(); return err }(), field: "query.target_id"},
		"users app too long": {err: func() error {
			_, err := (domain.UserQuery{App: domain.AppID(strings.Repeat("x", 65))}).Normalize()
			return err
		}(), field: "query.app_id"},
		"users app": {err: func() error { _, err := (domain.UserQuery{App: "wx0123456789abcdef"}).Normalize(); return err }()},
	} {
		if tc.field == "" {
			if tc.err != nil {
				t.Errorf("%s: %v", name, tc.err)
			}
			continue
		}
		var de *domain.Error
		if !asError(tc.err, &de) || de.Code != domain.CodeInvalid || len(de.Fields) == 0 || de.Fields[0].Field != tc.field {
			t.Errorf("%s: %v, want a field error on %s", name, tc.err, tc.field)
		}
	}
}

// want turns a failed expectation into an error.
func want(ok bool, err error) error {
	if err != nil {
		return err
	}
	if !ok {
		return domain.Errorf(domain.CodeInternal, "unexpected normalised query")
	}
	return nil
}

func TestAuditEntriesCarryTheActorsAddressAndNeverNilDetails(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	e := domain.NewAuditEntry(domain.Actor{User: "u-1", Role: domain.RoleAdmin, Address: "203.0.113.7", RequestID: "r-1"},
		at, domain.AuditUserDisable, domain.AuditTargetUser, "u-2", nil)
	if e.Actor != "u-1" || e.Address != "203.0.113.7" || e.RequestID != "r-1" || e.Details == nil || !e.At.Equal(at) {
		t.Errorf("entry %+v", e)
	}
	if (domain.Actor{}).CanAdminister() || !(domain.Actor{Role: domain.RoleAdmin}).CanAdminister() {
		t.Error("only an admin actor may administer")
	}
}
