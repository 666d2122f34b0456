package httpapi

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
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
	"endUserSessions":   ratelimit.Write,
	"endUserSession":    ratelimit.Write,
	"disableUser":       ratelimit.Write,
	"enableUser":        ratelimit.Write,
	"grantAdmin":        ratelimit.Write,
	"revokeAdmin":       ratelimit.Write,
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
	"getAdminHealth":      ratelimit.Read,
	"getUser":             ratelimit.Read,
	"listUserSessions":    ratelimit.Read,
	"listUserUploads":     ratelimit.Read,
	"listAuditLog":        ratelimit.Read,
	// Subscribe messages: the user's answers to the popup, and what is
	// left of them.
	"recordMySubscription": ratelimit.Write,
	"listMySubscriptions":  ratelimit.Read,
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

// codeExchanges are the operations that exchange a wx.login code at
// WeChat (code2Session) for the mini-program their body names
// (WeChatLoginRequest's appid, or the only one served): that AppID's
// quota is the one the call spends, so their group's app budget counts
// against it, not against the access token's AppID (the login has no
// token; a password account binding WeChat has an empty one).
// limitCodeExchange checks it once the body is valid and the AppID known
// to be served here.
var codeExchanges = map[string]bool{
	"loginWithWeChat": true,
	"bindMyWeChat":    true,
}

// rateRoute is what the middleware needs of an operation: its rate limit
// group, and whether it is a code exchange.
type rateRoute struct {
	group        ratelimit.Group
	codeExchange bool
}

// routeGroups maps gin's method and route pattern ("GET",
// "/v1/todos/:id") to the operation's rate limit group: the middleware
// looks a request's group up by the strings gin already holds, with no key
// to build.
type routeGroups map[string]map[string]rateRoute

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
			out[op.Method] = map[string]rateRoute{}
		}
		out[op.Method][specToGin(op.Path)] = rateRoute{group: g, codeExchange: codeExchanges[id]}
	}
	return out, nil
}

// route returns the rate limit group of the operation gin matched for c
// (Exempt for none), and whether it is a code exchange.
func (rg routeGroups) route(c *gin.Context) rateRoute {
	return rg[c.Request.Method][c.FullPath()]
}

// group returns the rate limit group of the operation gin matched for c;
// Exempt for none.
func (rg routeGroups) group(c *gin.Context) ratelimit.Group { return rg.route(c).group }

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
// A code exchange's app budget is limitCodeExchange's.
func (h *handler) limitCaller(c *gin.Context) {
	if h.limiter == nil {
		return
	}
	ctx := c.Request.Context()
	claims, ok := claimsFrom(ctx)
	if !ok {
		return
	}
	r := h.rateGroups.route(c)
	g := r.group
	if g == ratelimit.Exempt {
		return
	}
	if d := h.limiter.Allow(ctx, g, ratelimit.User, string(claims.UserID)); !d.Allowed {
		h.rateLimited(c, g, ratelimit.User, d)
		return
	}
	if r.codeExchange {
		return
	}
	if d := h.limiter.Allow(ctx, g, ratelimit.App, string(claims.AppID)); !d.Allowed {
		h.rateLimited(c, g, ratelimit.App, d)
	}
}

// limitCodeExchange runs after validation, for the operations that
// exchange a wx.login code (codeExchanges): their group's app budget,
// keyed by the AppID the code is for, resolved as the use-case resolves
// it (the body's appid, or the only mini-program served). It is checked
// only for an AppID this deployment serves: an unknown one, or none when
// several are served, makes no budget key (so a client cannot fill the
// limiter with made-up AppIDs) and the operation refuses it, without
// calling WeChat. The address budget came first (limitClient), so one
// client cannot spend a mini-program's budget alone.
func (h *handler) limitCodeExchange(c *gin.Context) {
	if h.limiter == nil {
		return
	}
	r := h.rateGroups.route(c)
	if !r.codeExchange || h.limiter.Policy().Rule(r.group, ratelimit.App).Off() {
		return
	}
	app, ok := h.codeExchangeApp(c)
	if !ok {
		return
	}
	if d := h.limiter.Allow(c.Request.Context(), r.group, ratelimit.App, string(app)); !d.Allowed {
		h.rateLimited(c, r.group, ratelimit.App, d)
	}
}

// codeExchangeApp returns the served AppID a code exchange's (validated)
// body is for; false when it names none this deployment serves. The body
// is decoded as the strict handler will decode it (the same type, the
// same decoder), from the copy validate kept.
func (h *handler) codeExchangeApp(c *gin.Context) (domain.AppID, bool) {
	if c.Request.GetBody == nil {
		return "", false
	}
	body, err := c.Request.GetBody()
	if err != nil {
		return "", false
	}
	var req api.WeChatLoginRequest
	if err := json.NewDecoder(body).Decode(&req); err != nil {
		return "", false
	}
	var requested domain.AppID
	if req.Appid != nil {
		requested = domain.AppID(*req.Appid)
	}
	app, err := h.apps.Resolve(requested)
	return app, err == nil
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
