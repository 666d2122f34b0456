package domain_test

import (
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

func TestIPThrottleKeyGroupsAnIPv6SubscriberByItsSlash64(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                 "192.0.2.7",
		"::ffff:192.0.2.7":          "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":      "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1":      "2001:db8:1:2::/64",
		"fe80::1%eth0":              "fe80::/64",
		"not an address":            "unknown",
		"":                          "unknown",
		"2001:db8:1:3:3:4:5:6":      "2001:db8:1:3::/64",
		"2001:0db8:0001:0002::0001": "2001:db8:1:2::/64",
	} {
		got := domain.IPThrottleKey(in)
		if got.Scope != domain.ThrottleIP || got.Key != want {
			t.Errorf("IPThrottleKey(%q) = %+v, want ip %q", in, got, want)
		}
	}
}

func TestAccountThrottleKeysDoNotCollide(t *testing.T) {
	byName := domain.LoginNameThrottleKey(domain.ParseLoginName("u-1"))
	byUser := domain.UserThrottleKey("u-1")
	if byName == byUser || byName.Scope != domain.ThrottleAccount || byUser.Scope != domain.ThrottleAccount {
		t.Errorf("%+v and %+v", byName, byUser)
	}
	if domain.LoginNameThrottleKey(domain.ParseLoginName(" ALICE ")) != domain.LoginNameThrottleKey(domain.ParseLoginName("alice")) {
		t.Error("one name typed two ways has two counters")
	}
}

func TestThrottleRuleRetryAfter(t *testing.T) {
	rule := domain.ThrottleRule{Limit: 3, Window: time.Minute}
	start := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		count int
		now   time.Time
		want  time.Duration
	}{
		{"within the limit", 3, start.Add(10 * time.Second), 0},
		{"past the limit: the rest of the window", 4, start.Add(10 * time.Second), 50 * time.Second},
		{"at the window's end: at least a second", 9, start.Add(time.Minute), time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := rule.RetryAfter(domain.AttemptWindow{Start: start, Count: tc.count}, tc.now); got != tc.want {
				t.Errorf("RetryAfter = %s, want %s", got, tc.want)
			}
		})
	}
}
