package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/ratelimit"
)

// backend is a test double whose answer the test picks.
type backend struct {
	allow func(ctx context.Context, k ratelimit.Key, r ratelimit.Rule) (ratelimit.Decision, error)
	calls int
}

func (b *backend) Allow(ctx context.Context, k ratelimit.Key, r ratelimit.Rule) (ratelimit.Decision, error) {
	b.calls++
	return b.allow(ctx, k, r)
}

// observer records what the limiter reports.
type observer struct {
	mu         sync.Mutex
	rejected   []string
	failedOpen []string
	errs       []error
}

func (o *observer) FailedOpen(group string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failedOpen = append(o.failedOpen, group)
}

func (o *observer) Rejected(group string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.rejected = append(o.rejected, group)
}

func (o *observer) BackendError(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.errs = append(o.errs, err)
}

var (
	_ ratelimit.Observer      = (*observer)(nil)
	_ ratelimit.BackendErrors = (*observer)(nil)
)

func policy(t *testing.T, s string) ratelimit.Policy {
	t.Helper()
	p, err := ratelimit.ParsePolicy(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLimiterAppliesTheGroupsRuleAndReportsRejections(t *testing.T) {
	c := newClock()
	obs := &observer{}
	l := ratelimit.New(policy(t, "signup:ip=2/h;write:user=1/m"), ratelimit.Options{Now: c.Now, Observer: obs})
	ctx := context.Background()
	got := []bool{
		l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed,
		l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed,
		l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed,
		l.Allow(ctx, ratelimit.Write, ratelimit.User, "u1").Allowed,
		l.Allow(ctx, ratelimit.Write, ratelimit.User, "u1").Allowed,
		// No rule: app is off in write by default.
		l.Allow(ctx, ratelimit.Write, ratelimit.App, "wx1").Allowed,
		l.Allow(ctx, ratelimit.Write, ratelimit.App, "wx1").Allowed,
		// No value (a login without an AppID): nothing to count.
		l.Allow(ctx, ratelimit.Write, ratelimit.User, "").Allowed,
		// Exempt is never limited.
		l.Allow(ctx, ratelimit.Exempt, ratelimit.IP, "203.0.113.7").Allowed,
	}
	want := []bool{true, true, false, true, false, true, true, true, true}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("request %d: allowed %v, want %v", i+1, got[i], want[i])
		}
	}
	if strings.Join(obs.rejected, ",") != "signup,write" {
		t.Errorf("rejections reported: %v, want signup, write", obs.rejected)
	}
	if d := l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7"); d.RetryAfter != 30*time.Minute {
		t.Errorf("retry after %s, want 30m (2/h gives one back every 30 minutes)", d.RetryAfter)
	}
}

func TestLimiterWithThePolicyOffAllowsEverything(t *testing.T) {
	l := ratelimit.New(policy(t, "off"), ratelimit.Options{})
	for range 1000 {
		if !l.Allow(context.Background(), ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed {
			t.Fatal("refused with limits off")
		}
	}
}

func TestSharedBackendFailureFailsOpenAndIsReportedAndPaused(t *testing.T) {
	c := newClock()
	obs := &observer{}
	var logs bytes.Buffer
	down := errors.New("dial tcp 127.0.0.1:6379: connect: connection refused")
	b := &backend{allow: func(context.Context, ratelimit.Key, ratelimit.Rule) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, down
	}}
	l := ratelimit.New(policy(t, "signup:ip=1/h"), ratelimit.Options{Backend: b, Shared: true, Now: c.Now, Observer: obs,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))})
	ctx := context.Background()
	// One request a second for ten minutes, all while Redis is down.
	for i := range 600 {
		if !l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed {
			t.Fatalf("request %d refused while the backend is down; the policy is to fail open", i+1)
		}
		// Requests within the pause do not touch the backend.
		if !l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed {
			t.Fatal("refused during the pause")
		}
		c.Advance(time.Second)
	}
	if b.calls != 600 {
		t.Errorf("the backend was called %d times, want once a second (600): not during its pause", b.calls)
	}
	if len(obs.errs) != 600 || !errors.Is(obs.errs[0], down) {
		t.Errorf("the observer saw %d backend errors, want 600 of %v", len(obs.errs), down)
	}
	if len(obs.rejected) != 0 {
		t.Errorf("rejections reported: %v", obs.rejected)
	}
	// Every request let through unchecked counts, paused or not.
	if len(obs.failedOpen) != 1200 || obs.failedOpen[0] != "signup" {
		t.Errorf("failed open %d times, want 1200 (signup)", len(obs.failedOpen))
	}
	lines := strings.Count(logs.String(), "\n")
	// One at once, then one per 30 s.
	if lines < 1 || lines > 21 {
		t.Errorf("%d log lines for 600 failures in ten minutes, want at most 21:\n%s", lines, logs.String())
	}
	if !strings.Contains(logs.String(), `"policy":"open"`) || !strings.Contains(logs.String(), `"failures_not_logged":29`) {
		t.Errorf("the log lines do not say the policy and the count:\n%s", logs.String())
	}

	// Redis answers again: its budget counts from the next request on.
	b.allow = func(context.Context, ratelimit.Key, ratelimit.Rule) (ratelimit.Decision, error) {
		return ratelimit.Decision{Allowed: false, RetryAfter: time.Minute}, nil
	}
	c.Advance(time.Second)
	if l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed {
		t.Error("the backend's refusal was not applied once it answered again")
	}
}

func TestSharedBackendFailureWithPolicyLocalUsesThisReplicasMemory(t *testing.T) {
	c := newClock()
	obs := &observer{}
	b := &backend{allow: func(context.Context, ratelimit.Key, ratelimit.Rule) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, errors.New("i/o timeout")
	}}
	l := ratelimit.New(policy(t, "signup:ip=2/h"), ratelimit.Options{Backend: b, Shared: true, Failure: ratelimit.FailLocal, Now: c.Now, Observer: obs})
	ctx := context.Background()
	var got []bool
	for range 3 {
		got = append(got, l.Allow(ctx, ratelimit.Signup, ratelimit.IP, "203.0.113.7").Allowed)
	}
	if got[0] != true || got[1] != true || got[2] != false {
		t.Errorf("with Redis down and policy local: %v, want the local budget of 2 to hold", got)
	}
	if len(obs.failedOpen) != 0 || len(obs.errs) != 1 || strings.Join(obs.rejected, ",") != "signup" {
		t.Errorf("observed: failed open %v, errors %v, rejected %v; want none, one, signup", obs.failedOpen, obs.errs, obs.rejected)
	}
}

func TestAClientThatWentAwayIsNoBackendFailure(t *testing.T) {
	obs := &observer{}
	b := &backend{allow: func(ctx context.Context, _ ratelimit.Key, _ ratelimit.Rule) (ratelimit.Decision, error) {
		return ratelimit.Decision{}, ctx.Err()
	}}
	l := ratelimit.New(policy(t, ""), ratelimit.Options{Backend: b, Shared: true, Observer: obs})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if !l.Allow(ctx, ratelimit.Auth, ratelimit.IP, "203.0.113.7").Allowed || len(obs.errs) != 0 {
		t.Errorf("a cancelled request: reported %v", obs.errs)
	}
	// And the backend is not paused for it.
	l.Allow(context.Background(), ratelimit.Auth, ratelimit.IP, "203.0.113.7")
	if b.calls != 2 {
		t.Errorf("backend calls %d, want 2", b.calls)
	}
}

func TestParseFailure(t *testing.T) {
	for in, want := range map[string]ratelimit.Failure{"": ratelimit.FailOpen, "open": ratelimit.FailOpen, "local": ratelimit.FailLocal} {
		if got, err := ratelimit.ParseFailure(in); err != nil || got != want {
			t.Errorf("ParseFailure(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ratelimit.ParseFailure("closed"); err == nil {
		t.Error(`ParseFailure("closed") accepted it`)
	}
}
