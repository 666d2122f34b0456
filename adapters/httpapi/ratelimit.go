package httpapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/ratelimit"
	"github.com/miniback/miniback/domain"
)

// rateGroups puts every operation of the spec in its rate limit group:
// the one table, which NewHandler and a test hold to the spec (an
// operation missing here fails both), and which the README's table
// mirrors. Each group's budgets are configured together
// (MINIBACK_RATE_LIMITS; ratelimit.DefaultPolicy).
var rateGroups = map[string]ratelimit.Group{
	// Logins and refresh, no access token: each costs a WeChat call, an
	// Argon2id hash or a session write.
	"loginWithWeChat":   ratelimit.Auth,
	"loginWithCloudRun": ratelimit.Auth,
	"loginWithPassword": ratelimit.Auth,
	"refreshTokens":     ratelimit.Auth,
	// The console's sign-in, refresh and sign-out (console.go): the same
	// password check and session writes.
	"createConsoleSession":  ratelimit.Auth,
	"refreshConsoleSession": ratelimit.Auth,
	"endConsoleSession":     ratelimit.Auth,
	// An account and an Argon2id hash each: the tightest budget.
	"registerWithPassword": ratelimit.Signup,
	// WeChat on the user's behalf, under WeChat's per-AppID quotas
	// (getuserphonenumber is paid per call), or the stored session_key.
	"bindMyPhone":       ratelimit.WeChat,
	"bindMyWeChat":      ratelimit.WeChat,
	"decryptWeChatData": ratelimit.WeChat,
	"createWxaCode":     ratelimit.WeChat,
	// Signed-in writes.
	"logout":            ratelimit.Write,
	"endOtherSessions":  ratelimit.Write,
	"endSession":        ratelimit.Write,
	"updateMe":          ratelimit.Write,
	"deleteMe":          ratelimit.Write,
	"unbindMyPhone":     ratelimit.Write,
	"setMyPassword":     ratelimit.Write,
	"createTodo":        ratelimit.Write,
	"updateTodo":        ratelimit.Write,
	"deleteTodo":        ratelimit.Write,
	"attachToTodo":      ratelimit.Write,
	"detachFromTodo":    ratelimit.Write,
	"resolveModeration": ratelimit.Write,
	"retryAdminJob":     ratelimit.Write,
	"cancelAdminJob":    ratelimit.Write,
	// Reads, and the signed links to files (avatars, local downloads).
	"listSessions":        ratelimit.Read,
	"getMe":               ratelimit.Read,
	"listTodos":           ratelimit.Read,
	"getTodo":             ratelimit.Read,
	"listTodoAttachments": ratelimit.Read,
	"getUpload":           ratelimit.Read,
	"getAvatar":           ratelimit.Read,
	"localStorageGet":     ratelimit.Read,
	"listModeration":      ratelimit.Read,
	"listUsers":           ratelimit.Read,
	// Subscribe messages: the user's answers to the popup, and what is
	// left of them.
	"recordMySubscription": ratelimit.Write,
	"listMySubscriptions":  ratelimit.Read,
	"getAdminHealth":       ratelimit.Read,
	"getAdminJobs":         ratelimit.Read,
	// Upload tickets, their completion, and the files the local storage
	// receives (signed by the ticket, not by an access token).
	"createUpload":     ratelimit.Upload,
	"completeUpload":   ratelimit.Upload,
	"localStoragePost": ratelimit.Upload,
	"localStoragePut":  ratelimit.Upload,
	// Never limited: load balancers' and orchestrators' probes, the keys
	// other services verify our tokens with, and WeChat's servers calling
	// the push URL (a handful of addresses for every app, authenticated
	// by signature).
	"getHealth":           ratelimit.Exempt,
	"getReady":            ratelimit.Exempt,
	"getJWKS":             ratelimit.Exempt,
	"verifyWeChatPushURL": ratelimit.Exempt,
	"receiveWeChatPush":   ratelimit.Exempt,
}

// routeGroups maps gin's method and route pattern ("GET",
// "/v1/todos/:id") to the operation's rate limit group: the middleware
// looks a request's group up by the strings gin already holds, with no key
// to build.
type routeGroups map[string]map[string]ratelimit.Group

// rateGroupsOf maps each operation's route to its group, for the
// middleware.
func rateGroupsOf(ops operations) (routeGroups, error) {
	out := routeGroups{}
	for key, op := range ops {
		// The embedded spec's operationIds are capitalized (oapi-codegen
		// does it); the table spells them as openapi.yaml does.
		id := op.Operation.OperationID
		id = strings.ToLower(id[:1]) + id[1:]
		g, ok := rateGroups[id]
		if !ok {
			return nil, fmt.Errorf("operation %s (%s) has no rate limit group: add it to rateGroups", id, key)
		}
		if out[op.Method] == nil {
			out[op.Method] = map[string]ratelimit.Group{}
		}
		out[op.Method][specToGin(op.Path)] = g
	}
	return out, nil
}

// group returns the rate limit group of the operation gin matched for c;
// Exempt for none.
func (rg routeGroups) group(c *gin.Context) ratelimit.Group {
	return rg[c.Request.Method][c.FullPath()]
}

// limitClient is the first per-operation middleware: the operation
// group's budget per client address, before anything costs: the token's
// verification, the body's parsing and validation, a password hash. The
// address is the one requestContext took from the trusted-proxy rules
// (clientip.go), so a client cannot pick its own bucket with
// X-Forwarded-For. An IPv6 client is counted by its /64.
func (h *handler) limitClient(c *gin.Context) {
	if h.limiter == nil {
		return
	}
	g := h.rateGroups.group(c)
	if g == ratelimit.Exempt {
		return
	}
	ctx := c.Request.Context()
	if d := h.limiter.Allow(ctx, g, ratelimit.IP, addressBucket(clientIPFrom(ctx))); !d.Allowed {
		h.rateLimited(c, g, ratelimit.IP, d)
	}
}

// limitCaller runs after authentication: the group's budgets per user and
// per mini-program, keyed by the verified token's subject and AppID (never
// by anything the body says). An operation without a token has neither.
func (h *handler) limitCaller(c *gin.Context) {
	if h.limiter == nil {
		return
	}
	ctx := c.Request.Context()
	claims, ok := claimsFrom(ctx)
	if !ok {
		return
	}
	g := h.rateGroups.group(c)
	if g == ratelimit.Exempt {
		return
	}
	if d := h.limiter.Allow(ctx, g, ratelimit.User, string(claims.UserID)); !d.Allowed {
		h.rateLimited(c, g, ratelimit.User, d)
		return
	}
	if d := h.limiter.Allow(ctx, g, ratelimit.App, string(claims.AppID)); !d.Allowed {
		h.rateLimited(c, g, ratelimit.App, d)
	}
}

// addressBucket is the budget key of a client address: an IPv4 address
// as it stands (no allocation on the hot path), an IPv6 address by its
// /64, which one subscriber usually holds whole.
func addressBucket(ip string) string {
	if strings.IndexByte(ip, ':') < 0 {
		return ip
	}
	return domain.IPThrottleKey(ip).Key
}

// rateLimited answers 429 rate_limited with Retry-After and the budget
// that was exceeded, in the fields of draft-ietf-httpapi-ratelimit-headers-10
// (September 2025): RateLimit-Policy names it with its quota q and window w
// (seconds), RateLimit gives the remaining quota r (0) and t, the seconds
// until one more request is accepted. Names are "<group>-<scope>".
func (h *handler) rateLimited(c *gin.Context, g ratelimit.Group, s ratelimit.Scope, d ratelimit.Decision) {
	secs := max(1, int(math.Ceil(d.RetryAfter.Seconds())))
	p := problemFor(c.Request.Context(), domain.RateLimited(time.Duration(secs)*time.Second))
	r := h.limiter.Policy().Rule(g, s)
	name := `"` + g.String() + "-" + s.String() + `"`
	policy := name + ";q=" + strconv.Itoa(r.Count) + ";w=" + strconv.Itoa(int(r.Period/time.Second))
	state := name + ";r=0;t=" + strconv.Itoa(secs)
	p.rateLimitPolicy, p.rateLimit = &policy, &state
	p.write(c.Writer)
	c.Abort()
}
