package httpapi

import (
	"slices"
	"testing"

	"github.com/miniback/miniback/adapters/ratelimit"
)

// Every operation of openapi.yaml has its rate limit group, and only
// those: a new operation cannot be forgotten (NewHandler also refuses to
// start without one).
func TestEveryOperationHasARateLimitGroup(t *testing.T) {
	routes := specRoutes(t)
	for id := range routes {
		if _, ok := rateGroups[id]; !ok {
			t.Errorf("operation %s has no rate limit group in rateGroups", id)
		}
	}
	for id := range rateGroups {
		if _, ok := routes[id]; !ok {
			t.Errorf("rateGroups lists %s, which openapi.yaml does not have", id)
		}
	}
	ops, err := loadOperations()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rateGroupsOf(ops); err != nil {
		t.Errorf("the embedded spec: %v", err)
	}
}

// Every operation that can be limited declares the 429 the limiter
// answers, with its headers (the shared TooManyRequests response).
func TestEveryLimitedOperationDeclaresTooManyRequests(t *testing.T) {
	for id, r := range specRoutes(t) {
		g := rateGroups[id]
		resp := r.Operation.Responses.Value("429")
		if g == ratelimit.Exempt {
			continue
		}
		if resp == nil || resp.Ref != "#/components/responses/TooManyRequests" {
			t.Errorf("%s (group %s) does not declare 429 as #/components/responses/TooManyRequests", id, g)
			continue
		}
		for _, h := range []string{"Retry-After", "RateLimit-Policy", "RateLimit"} {
			if resp.Value.Headers[h] == nil {
				t.Errorf("%s: its 429 does not declare %s", id, h)
			}
		}
	}
}

// The user scope is configurable exactly in the groups that have
// operations taking an access token (its key comes from it), the app
// scope in those and in the groups of the wx.login code exchanges (whose
// key is the AppID their body names).
func TestGroupsTakeTokensAsTheirOperationsDo(t *testing.T) {
	secured := map[ratelimit.Group][]string{}
	open := map[ratelimit.Group][]string{}
	exchanges := map[ratelimit.Group][]string{}
	for id, r := range specRoutes(t) {
		g := rateGroups[id]
		if requiresBearer(r) {
			secured[g] = append(secured[g], id)
		} else {
			open[g] = append(open[g], id)
		}
		if codeExchanges[id] {
			exchanges[g] = append(exchanges[g], id)
		}
	}
	for _, g := range ratelimit.Groups() {
		if len(secured[g])+len(open[g]) == 0 {
			t.Errorf("group %s has no operations", g)
		}
		if g.Authenticated() != (len(secured[g]) > 0) {
			slices.Sort(secured[g])
			t.Errorf("group %s: Authenticated() is %v, its operations taking a token: %v", g, g.Authenticated(), secured[g])
		}
		if g.Has(ratelimit.User) != (len(secured[g]) > 0) {
			t.Errorf("group %s: Has(user) is %v, its operations taking a token: %v", g, g.Has(ratelimit.User), secured[g])
		}
		if want := len(secured[g])+len(exchanges[g]) > 0; g.Has(ratelimit.App) != want {
			t.Errorf("group %s: Has(app) is %v, want %v (operations taking a token: %v; code exchanges: %v)",
				g, g.Has(ratelimit.App), want, secured[g], exchanges[g])
		}
	}
}

// The code exchanges are operations of the spec whose body is the
// WeChatLoginRequest limitCodeExchange decodes, and they are the only
// operations whose body names an AppID: a new one cannot call WeChat for
// a body's AppID without its budget. loginWithWeChat is one of them.
func TestCodeExchangesAreTheOperationsWhoseBodyNamesAnAppID(t *testing.T) {
	routes := specRoutes(t)
	if !codeExchanges["loginWithWeChat"] {
		t.Error("loginWithWeChat is not a code exchange")
	}
	for id := range codeExchanges {
		r, ok := routes[id]
		if !ok {
			t.Errorf("codeExchanges lists %s, which openapi.yaml does not have", id)
			continue
		}
		rb := r.Operation.RequestBody
		if rb == nil || rb.Value.Content.Get("application/json") == nil ||
			rb.Value.Content.Get("application/json").Schema.Ref != "#/components/schemas/WeChatLoginRequest" {
			t.Errorf("%s: its body is not a WeChatLoginRequest", id)
		}
	}
	for id, r := range routes {
		rb := r.Operation.RequestBody
		if rb == nil || rb.Value == nil || codeExchanges[id] {
			continue
		}
		for _, mt := range rb.Value.Content {
			if mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Properties["appid"] != nil {
				t.Errorf("%s: its body names an appid but it is not in codeExchanges", id)
			}
		}
	}
}

func TestAddressBucket(t *testing.T) {
	for in, want := range map[string]string{
		"203.0.113.7":           "203.0.113.7",
		"2001:db8:1:2::1":       "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::9":  "2001:db8:1:2::/64",
		"::ffff:203.0.113.7":    "203.0.113.7",
		"":                      "",
		"2001:db8:1:3:a:b:c:d":  "2001:db8:1:3::/64",
		"fe80::1%eth0":          "fe80::/64",
		"not-an-address:really": "unknown",
	} {
		if got := addressBucket(in); got != want {
			t.Errorf("addressBucket(%q) = %q, want %q", in, got, want)
		}
	}
}
