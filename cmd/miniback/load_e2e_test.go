package main_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sort"
	"strings"
	"sync"
	"time"
)

// steadyLoad is a few clients that each send GET /v1/me through the load
// balancer one after the other, as fast as answers come, recording every
// request: the scale-out tests' "traffic that must not notice".
type steadyLoad struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	results []loadResult
}

// loadResult is one request of the load: when it was sent and answered,
// its status (0 for a transport error), which replica answered it
// (X-Served-By, set by the load balancer), and how many times the client
// sent it. Go's client sends a GET again, once, when the keep-alive
// connection it went on closes without an answer, which is what HAProxy
// does to a request the replica it was forwarded to dropped (so that the
// client may retry): such a request succeeds but was cut once.
type loadResult struct {
	worker     int
	start, end time.Time
	status     int
	err        error
	servedBy   string
	attempts   int
}

// failed reports whether the request counts as failed: anything but a
// 2xx answer, a transport error included.
func (r loadResult) failed() bool { return r.err != nil || r.status < 200 || r.status > 299 }

// cut reports whether a replica dropped the request at least once: it
// failed, or the client had to send it again.
func (r loadResult) cut() bool { return r.failed() || r.attempts > 1 }

func (r loadResult) String() string {
	what := fmt.Sprint(r.status)
	if r.err != nil {
		what = r.err.Error()
	}
	return fmt.Sprintf("worker %d: %s from %q after %d attempt(s), sent %s, %s long", r.worker, what, r.servedBy,
		r.attempts, r.start.Format("15:04:05.000"), r.end.Sub(r.start).Round(time.Millisecond))
}

// startLoad starts workers clients, each with a keep-alive connection of
// its own to the load balancer. Stop ends them.
func startLoad(baseURL, accessToken string, workers int) *steadyLoad {
	ctx, cancel := context.WithCancel(context.Background())
	l := &steadyLoad{cancel: cancel}
	for w := range workers {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			transport := &http.Transport{MaxIdleConnsPerHost: 1}
			defer transport.CloseIdleConnections()
			client := &http.Client{Transport: transport, Timeout: 15 * time.Second}
			for ctx.Err() == nil {
				l.record(l.send(client, w, baseURL+"/v1/me", accessToken))
			}
		}()
	}
	return l
}

func (l *steadyLoad) send(client *http.Client, worker int, url, accessToken string) loadResult {
	r := loadResult{worker: worker, start: time.Now()}
	// GotConn runs once per attempt.
	trace := &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { r.attempts++ }}
	req, err := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), http.MethodGet, url, nil)
	if err != nil {
		r.err = err
		return r
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	res, err := client.Do(req)
	if err != nil {
		r.err, r.end = err, time.Now()
		return r
	}
	_, err = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	r.end, r.status, r.err, r.servedBy = time.Now(), res.StatusCode, err, res.Header.Get("X-Served-By")
	return r
}

func (l *steadyLoad) record(r loadResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.results = append(l.results, r)
}

// servedSince returns how many requests sent at or after since each
// replica answered successfully.
func (l *steadyLoad) servedSince(since time.Time) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := map[string]int{}
	for _, r := range l.results {
		if !r.start.Before(since) && !r.failed() {
			n[r.servedBy]++
		}
	}
	return n
}

// Stop ends the load, waits for the requests in flight, and returns every
// request in the order they were answered.
func (l *steadyLoad) Stop() loadReport {
	l.cancel()
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return loadReport(l.results)
}

// loadReport is the record of a load run.
type loadReport []loadResult

// failures are the requests that failed.
func (rep loadReport) failures() []loadResult {
	var out []loadResult
	for _, r := range rep {
		if r.failed() {
			out = append(out, r)
		}
	}
	return out
}

// cuts are the requests a replica dropped, whether they failed or the
// client's second attempt succeeded.
func (rep loadReport) cuts() []loadResult {
	var out []loadResult
	for _, r := range rep {
		if r.cut() {
			out = append(out, r)
		}
	}
	return out
}

// servedBy counts the successful answers per replica.
func (rep loadReport) servedBy() map[string]int {
	n := map[string]int{}
	for _, r := range rep {
		if !r.failed() {
			n[r.servedBy]++
		}
	}
	return n
}

// lastAnswerFrom is when the last successful answer from replica arrived.
func (rep loadReport) lastAnswerFrom(replica string) time.Time {
	var last time.Time
	for _, r := range rep {
		if r.servedBy == replica && !r.failed() && r.end.After(last) {
			last = r.end
		}
	}
	return last
}

// summary is one line for the test log: requests, failures, per replica.
func (rep loadReport) summary() string {
	served := rep.servedBy()
	names := make([]string, 0, len(served))
	for name := range served {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, name := range names {
		parts[i] = fmt.Sprintf("%s %d", name, served[name])
	}
	var span time.Duration
	if len(rep) > 0 {
		span = rep[len(rep)-1].end.Sub(rep[0].start)
	}
	return fmt.Sprintf("%d requests in %s, %d failed, %d cut (failed or sent twice); answered by %s", len(rep), span.Round(time.Millisecond),
		len(rep.failures()), len(rep.cuts()), strings.Join(parts, ", "))
}
