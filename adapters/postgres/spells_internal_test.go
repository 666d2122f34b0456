package postgres

import (
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestSpellsAcceptsOnlyTheCanonicalStringOfTheUUID(t *testing.T) {
	u := uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
	other := uuid.MustParse("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c")
	for _, tc := range []struct {
		s    string
		u    uuid.UUID
		want bool
	}{
		{u.String(), u, true},
		{uuid.Nil.String(), uuid.Nil, true},
		{"ffffffff-ffff-ffff-ffff-ffffffffffff", uuid.Max, true},
		{strings.ToUpper(u.String()), u, false}, // parses, but is not what the row would say
		{"{" + u.String() + "}", u, false},
		{"urn:uuid:" + u.String(), u, false},
		{strings.ReplaceAll(u.String(), "-", ""), u, false},
		{"0190a1b2c-3d4-7e5f-8a9b-0c1d2e3f4a5b", u, false}, // dash moved
		{u.String(), other, false},
		{"", u, false},
	} {
		if got := spells(tc.s, tc.u); got != tc.want {
			t.Errorf("spells(%q, %s) = %v, want %v", tc.s, tc.u, got, tc.want)
		}
	}
}
