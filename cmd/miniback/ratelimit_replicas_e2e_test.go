package main_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
)

// The budgets of the scale-out test (MINIBACK_RATE_LIMITS): the steady
// load reads without limit; writes have a small per-user budget, and
// logins a per-address one, both per hour so that no refill happens
// within the test: whatever is admitted above the budget is overshoot.
const (
	userBudget    = 20
	addressBudget = 30
)

var clusterRateLimits = fmt.Sprintf("read:off; write:ip=off,user=%d/h; auth:ip=%d/h", userBudget, addressBudget)

// testSharedUserBudget sends a user's writes through the load balancer,
// several at once, so that round robin spreads them over the replicas:
// together the replicas admit the user's budget and no more.
func testSharedUserBudget(t *testing.T, c *cluster, lb *apitest.Client) {
	login := lb.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-replica-carol"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)

	const requests, senders = 3 * userBudget, 6
	var mu sync.Mutex
	admitted, refused := map[string]int{}, map[string]int{}
	var other []string
	var wg sync.WaitGroup
	next := make(chan int)
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				status, servedBy, err := send(http.DefaultClient, http.MethodPost, c.lb.URL+"/v1/todos",
					fmt.Sprintf(`{"title":"budget %d"}`, i), "Authorization", "Bearer "+lr.AccessToken)
				mu.Lock()
				switch {
				case err == nil && status == http.StatusCreated:
					admitted[servedBy]++
				case err == nil && status == http.StatusTooManyRequests:
					refused[servedBy]++
				default:
					other = append(other, fmt.Sprintf("%d %v from %q", status, err, servedBy))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range requests {
		next <- i
	}
	close(next)
	wg.Wait()

	total := 0
	for _, n := range admitted {
		total += n
	}
	t.Logf("per-user budget %d/h across %d replicas: %d writes sent %d at a time, %d admitted (overshoot %d), by replica: admitted %v, refused %v",
		userBudget, len(c.replicas), requests, senders, total, total-userBudget, admitted, refused)
	for _, o := range other {
		t.Errorf("a write answered neither 201 nor 429: %s", o)
	}
	if total > userBudget {
		t.Errorf("the replicas admitted %d writes of one user against a budget of %d: overshoot %d", total, userBudget, total-userBudget)
	}
	if total < userBudget {
		t.Errorf("the replicas admitted %d writes of one user, fewer than the budget of %d", total, userBudget)
	}
	for _, r := range c.replicas {
		if refused[r.name] == 0 {
			t.Errorf("replica %s refused none of the user's writes past the budget: %v", r.name, refused)
		}
	}
	// The refusal, through the load balancer, as the spec says it.
	res := lb.JSON("POST", "/v1/todos", map[string]string{"title": "one more"}, "Authorization: Bearer "+lr.AccessToken)
	if res.Status != http.StatusTooManyRequests || res.Problem().Code != "rate_limited" || res.Header.Get("Retry-After") == "" {
		t.Errorf("a write past the budget: %s", res)
	}
}

// testAddressBudgetThroughTheProxy logs in from two client addresses
// (127.0.0.2 and 127.0.0.3; HAProxy is on 127.0.0.1, the one trusted
// proxy): each address has a budget of its own, shared by the replicas,
// which take it from the X-Forwarded-For HAProxy appends, and a client
// that sends its own X-Forwarded-For does not get a fresh one.
func testAddressBudgetThroughTheProxy(t *testing.T, c *cluster) {
	from := func(ip string) *http.Client {
		dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		return &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext}}
	}
	login := func(client *http.Client, headers ...string) (int, string) {
		status, servedBy, err := send(client, http.MethodPost, c.lb.URL+"/v1/auth/wechat", `{"code":"dev-replica-dave"}`, headers...)
		if err != nil {
			t.Fatalf("login: %v", err)
		}
		return status, servedBy
	}
	a := from("127.0.0.2")
	admitted, refusedBy := 0, map[string]int{}
	for range addressBudget + 6 {
		switch status, servedBy := login(a); status {
		case http.StatusOK:
			admitted++
		case http.StatusTooManyRequests:
			refusedBy[servedBy]++
		default:
			t.Fatalf("login from 127.0.0.2: status %d from %s", status, servedBy)
		}
	}
	t.Logf("per-address budget %d/h across %d replicas: %d logins from 127.0.0.2, %d admitted (overshoot %d), refused by %v",
		addressBudget, len(c.replicas), addressBudget+6, admitted, admitted-addressBudget, refusedBy)
	if admitted != addressBudget {
		t.Errorf("the replicas admitted %d logins from one address against a budget of %d", admitted, addressBudget)
	}
	// The same client, naming another address: HAProxy appends the
	// real one, and the replicas read the header from the right.
	for _, forged := range [][]string{
		{"X-Forwarded-For", "203.0.113.7"},
		{"X-Forwarded-For", "not-an-address"},
		{"X-Real-IP", "203.0.113.8"},
	} {
		if status, servedBy := login(a, forged...); status != http.StatusTooManyRequests {
			t.Errorf("a client past its budget sending %s: %s got %d from %s, want 429: it picked its own address", forged[0], forged[1], status, servedBy)
		}
	}
	// Another client behind the same proxy has its own budget.
	if status, servedBy := login(from("127.0.0.3")); status != http.StatusOK {
		t.Errorf("a login from 127.0.0.3 after 127.0.0.2 spent its budget: %d from %s; the replicas see the proxy's address, not the client's", status, servedBy)
	}
}

// send sends a JSON request and returns its status and the replica that
// answered (X-Served-By). headers are name, value pairs.
func send(client *http.Client, method, url, body string, headers ...string) (int, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Header.Get("X-Served-By"), err
}
