package ratelimit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/ratelimit"
)

func TestParsePolicyOverridesOnlyWhatItNames(t *testing.T) {
	def := ratelimit.DefaultPolicy()
	for _, tc := range []struct {
		name string
		in   string
		// check returns what is wrong with the parsed policy, or "".
		check func(p ratelimit.Policy) string
	}{
		{"empty keeps the defaults", "  ", func(p ratelimit.Policy) string {
			return diff(p.String(), def.String())
		}},
		{"off limits nothing", "off", func(p ratelimit.Policy) string {
			if !p.Off() {
				return "not off: " + p.String()
			}
			return ""
		}},
		{"OFF in capitals too", "OFF", func(p ratelimit.Policy) string {
			if !p.Off() {
				return "not off"
			}
			return ""
		}},
		{"one scope of one group", "signup:ip=20/h", func(p ratelimit.Policy) string {
			if got := p.Rule(ratelimit.Signup, ratelimit.IP); got != (ratelimit.Rule{Count: 20, Period: time.Hour}) {
				return "signup ip " + got.String()
			}
			return diff(p.Rule(ratelimit.Auth, ratelimit.IP).String(), def.Rule(ratelimit.Auth, ratelimit.IP).String())
		}},
		{"several groups, spaces, a scope off", " write : user=300/m , ip=off ; wechat:app=3000/m;", func(p ratelimit.Policy) string {
			if p.Rule(ratelimit.Write, ratelimit.User) != (ratelimit.Rule{Count: 300, Period: time.Minute}) {
				return "write user"
			}
			if !p.Rule(ratelimit.Write, ratelimit.IP).Off() {
				return "write ip not off"
			}
			if p.Rule(ratelimit.WeChat, ratelimit.App).Count != 3000 || p.Rule(ratelimit.WeChat, ratelimit.User) != def.Rule(ratelimit.WeChat, ratelimit.User) {
				return "wechat"
			}
			return ""
		}},
		{"a whole group off", "read:off", func(p ratelimit.Policy) string {
			for _, s := range []ratelimit.Scope{ratelimit.IP, ratelimit.User, ratelimit.App} {
				if !p.Rule(ratelimit.Read, s).Off() {
					return "read " + s.String() + " not off"
				}
			}
			return ""
		}},
		{"Go durations as periods", "auth:ip=5/10s;upload:user=100/15m", func(p ratelimit.Policy) string {
			if p.Rule(ratelimit.Auth, ratelimit.IP) != (ratelimit.Rule{Count: 5, Period: 10 * time.Second}) {
				return "auth " + p.Rule(ratelimit.Auth, ratelimit.IP).String()
			}
			if p.Rule(ratelimit.Upload, ratelimit.User) != (ratelimit.Rule{Count: 100, Period: 15 * time.Minute}) {
				return "upload"
			}
			return ""
		}},
		{"a user scope where the default has none", "read:app=5000/m", func(p ratelimit.Policy) string {
			if p.Rule(ratelimit.Read, ratelimit.App).Count != 5000 {
				return "read app"
			}
			return ""
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ratelimit.ParsePolicy(tc.in)
			if err != nil {
				t.Fatalf("ParsePolicy(%q): %v", tc.in, err)
			}
			if msg := tc.check(p); msg != "" {
				t.Errorf("ParsePolicy(%q): %s", tc.in, msg)
			}
		})
	}
}

func diff(got, want string) string {
	if got != want {
		return "got " + got + ", want " + want
	}
	return ""
}

func TestParsePolicyNamesEveryMistake(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"login:ip=5/m", []string{`unknown group "login"`}},
		{"exempt:ip=5/m", []string{"exempt", "cannot be limited"}},
		{"auth", []string{`"auth"`, "group:scope=N/period"}},
		{"auth:", []string{`"auth:"`}},
		{"auth:user=5/m", []string{"auth: scope user needs an access token", "(scopes: ip, app)"}},
		{"signup:app=5/m", []string{"signup: scope app needs an AppID", "(scopes: ip)"}},
		{"signup:user=5/m", []string{"signup: scope user needs an access token", "(scopes: ip)"}},
		{"read:device=5/m", []string{`read: unknown scope "device"`}},
		{"read:ip", []string{`read: "ip"`}},
		{"read:ip=5", []string{`read:ip: "5": want "N/period"`}},
		{"read:ip=0/m", []string{"count must be a whole number from 1"}},
		{"read:ip=-3/m", []string{"count must be a whole number"}},
		{"read:ip=2000000/m", []string{"from 1 to 1000000"}},
		{"read:ip=five/m", []string{"count must be a whole number"}},
		{"read:ip=5/fortnight", []string{"period must be s, m, h or a duration"}},
		{"read:ip=5/500ms", []string{"whole seconds from 1s to 24h"}},
		{"read:ip=5/1500ms", []string{"whole seconds"}},
		{"read:ip=5/48h", []string{"from 1s to 24h"}},
		{"read:ip=5/m;read:user=5/m", []string{"group read is configured twice"}},
		{"read:ip=5/m,ip=6/m", []string{"read: scope ip is configured twice"}},
		// Every mistake at once, so one start-up shows them all.
		{"login:ip=5/m;auth:user=1/m;read:ip=0/m", []string{`unknown group "login"`, "auth: scope user", "read:ip"}},
	} {
		t.Run(tc.in, func(t *testing.T) {
			_, err := ratelimit.ParsePolicy(tc.in)
			if err == nil {
				t.Fatalf("ParsePolicy(%q) accepted it", tc.in)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ParsePolicy(%q) = %q, want it to say %q", tc.in, err, w)
				}
			}
		})
	}
}

// The auth group, which holds the WeChat login, has a per-AppID budget as
// well as its address budget (on by default), configured like any other;
// signup still has only its address budget.
func TestParsePolicyGivesTheLoginGroupAnAppBudget(t *testing.T) {
	def := ratelimit.DefaultPolicy()
	perMinute := func(n int) ratelimit.Rule { return ratelimit.Rule{Count: n, Period: time.Minute} }
	for _, tc := range []struct {
		in      string
		ip, app ratelimit.Rule
	}{
		{"", perMinute(60), perMinute(1200)},
		{"auth:app=300/m", perMinute(60), perMinute(300)},
		{"auth:app=off", perMinute(60), ratelimit.Rule{}},
		{"auth:ip=5/m,app=50/10s", perMinute(5), ratelimit.Rule{Count: 50, Period: 10 * time.Second}},
		{" auth : app = 2000/h ; read:off", perMinute(60), ratelimit.Rule{Count: 2000, Period: time.Hour}},
		{"auth:off", ratelimit.Rule{}, ratelimit.Rule{}},
		{"auth:ip=off", ratelimit.Rule{}, perMinute(1200)},
	} {
		t.Run(tc.in, func(t *testing.T) {
			p, err := ratelimit.ParsePolicy(tc.in)
			if err != nil {
				t.Fatalf("ParsePolicy(%q): %v", tc.in, err)
			}
			if got := p.Rule(ratelimit.Auth, ratelimit.IP); got != tc.ip {
				t.Errorf("auth ip = %s, want %s", got, tc.ip)
			}
			if got := p.Rule(ratelimit.Auth, ratelimit.App); got != tc.app {
				t.Errorf("auth app = %s, want %s", got, tc.app)
			}
			if got := p.Rule(ratelimit.Auth, ratelimit.User); !got.Off() {
				t.Errorf("auth user = %s, want off (auth has no user scope)", got)
			}
			if got, want := p.Rule(ratelimit.Signup, ratelimit.App), def.Rule(ratelimit.Signup, ratelimit.App); got != want || !got.Off() {
				t.Errorf("signup app = %s, want off", got)
			}
			// The start-up log writes it, and reads back the same.
			if again, err := ratelimit.ParsePolicy(p.String()); err != nil || again != p {
				t.Errorf("%q read back as %q (%v)", p.String(), again.String(), err)
			}
			if !tc.ip.Off() || !tc.app.Off() {
				if want := "auth:ip=" + tc.ip.String() + ",app=" + tc.app.String() + ";"; !strings.HasPrefix(p.String(), want) {
					t.Errorf("String() = %q, want it to start %q", p.String(), want)
				}
			}
		})
	}
}

func TestGroupsHaveTheScopesTheirOperationsGiveKeys(t *testing.T) {
	for _, tc := range []struct {
		g             ratelimit.Group
		ip, user, app bool
	}{
		{ratelimit.Exempt, false, false, false},
		{ratelimit.Auth, true, false, true},
		{ratelimit.Signup, true, false, false},
		{ratelimit.WeChat, true, true, true},
		{ratelimit.Write, true, true, true},
		{ratelimit.Read, true, true, true},
		{ratelimit.Upload, true, true, true},
	} {
		for s, want := range map[ratelimit.Scope]bool{ratelimit.IP: tc.ip, ratelimit.User: tc.user, ratelimit.App: tc.app} {
			if got := tc.g.Has(s); got != want {
				t.Errorf("%s.Has(%s) = %v, want %v", tc.g, s, got, want)
			}
		}
	}
}

func TestPolicyStringReadsBackAsTheSamePolicy(t *testing.T) {
	for _, in := range []string{"", "write:user=300/m,ip=off;read:off;auth:ip=5/10s", "auth:app=off;signup:off"} {
		p, err := ratelimit.ParsePolicy(in)
		if err != nil {
			t.Fatal(err)
		}
		again, err := ratelimit.ParsePolicy(p.String())
		if err != nil {
			t.Fatalf("ParsePolicy(%q): %v", p.String(), err)
		}
		if again != p {
			t.Errorf("%q read back as %q", p.String(), again.String())
		}
	}
}

func TestDefaultPolicyLimitsEveryGroupByAddress(t *testing.T) {
	p := ratelimit.DefaultPolicy()
	for _, g := range ratelimit.Groups() {
		if p.Rule(g, ratelimit.IP).Off() {
			t.Errorf("group %s has no address budget by default", g)
		}
		if g.Authenticated() && p.Rule(g, ratelimit.User).Off() {
			t.Errorf("group %s takes tokens but has no user budget by default", g)
		}
	}
	if !p.Rule(ratelimit.Exempt, ratelimit.IP).Off() {
		t.Error("exempt has a budget")
	}
}
