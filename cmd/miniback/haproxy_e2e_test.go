package main_test

import (
	"encoding/csv"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"
)

// The load balancer of the scale-out tests is Debian's HAProxy, configured
// as the README's "Scale-out" section tells a team to configure theirs:
// round robin over the replicas, a health check on GET /readyz every
// 500 ms so that a draining replica (whose /readyz answers 503 from its
// SIGTERM on) is taken out within about a second, connection failures
// (the request never reached a replica, so any method is safe to resend)
// retried on another replica, and the client's address in
// X-Forwarded-For for replicas started with MINIBACK_TRUSTED_PROXIES.

// haproxyCheck is the health check's timing, shared by the configuration
// and the tests that wait on it: a check every checkInter, and after a
// first failure every checkFastInter; checkFall failures in a row take a
// replica out, checkRise successes put it back. A draining replica is out
// within checkInter + (checkFall-1)×checkFastInter + a check's duration.
const (
	checkInter     = 500 * time.Millisecond
	checkFastInter = 250 * time.Millisecond
	checkFall      = 2
	checkRise      = 2
)

// haproxyConfig is the configuration the test writes. Every address is a
// free loopback port picked at run time, so two runs never collide.
var haproxyConfig = template.Must(template.New("haproxy.cfg").Parse(`global
    maxconn 256
    stats socket {{.Socket}} mode 600 level admin
    log stdout format raw local0 info

defaults
    mode http
    log global
    option httplog
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 1s
    # A request whose connection to a replica failed was never sent: any
    # method is safe to send again, to another replica (redispatch on
    # every retry). A request a replica received and did not answer is
    # not retried (retry-on stays conn-failure): it may have had effects.
    retries 3
    option redispatch 1
    retry-on conn-failure

frontend api
    bind {{.Listen}}
    # Appends the client's address to X-Forwarded-For (as a header line of
    # its own, after any the client sent): the replicas trust it from
    # this proxy only (MINIBACK_TRUSTED_PROXIES).
    option forwardfor
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server check inter {{.Inter}} fastinter {{.FastInter}} downinter {{.Inter}} fall {{.Fall}} rise {{.Rise}}
    # For the tests only: which replica answered (%s is the server's
    # name), and X-Test-Replica: <name> sends a request to that replica
    # while it is up, so a test knows where its slow request is.
    http-response set-header X-Served-By %s
{{- range .Servers}}
    use-server {{.Name}} if { req.hdr(x-test-replica) -m str {{.Name}} }
{{- end}}
{{- range .Servers}}
    server {{.Name}} {{.Addr}}
{{- end}}
`))

// haproxy is a running HAProxy in front of the replicas.
type haproxy struct {
	URL    string // http://127.0.0.1:port
	socket string // the admin socket, for the servers' states
	logs   *syncBuffer
	cmd    *exec.Cmd
}

// haproxyServer is one replica as HAProxy names it.
type haproxyServer struct{ Name, Addr string }

// startHAProxy writes a configuration for the servers into a temporary
// directory, starts HAProxy in the foreground listening on listen, and
// waits until it reports every server up. Without haproxy the test fails
// under CI and is skipped elsewhere.
func startHAProxy(t *testing.T, listen string, servers []haproxyServer) *haproxy {
	t.Helper()
	bin := requireTool(t, "haproxy", "apt-get install haproxy")
	dir := t.TempDir()
	h := &haproxy{URL: "http://" + listen, socket: filepath.Join(dir, "admin.sock"), logs: &syncBuffer{}}
	cfg := filepath.Join(dir, "haproxy.cfg")
	f, err := os.Create(cfg)
	if err != nil {
		t.Fatal(err)
	}
	err = haproxyConfig.Execute(f, map[string]any{
		"Socket": h.socket, "Listen": listen, "Servers": servers,
		"Inter": ms(checkInter), "FastInter": ms(checkFastInter), "Fall": checkFall, "Rise": checkRise,
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	// -db: in the foreground, without a master process: the process the
	// test starts is the one that serves, and killing it stops HAProxy.
	h.cmd = exec.Command(bin, "-db", "-f", cfg)
	h.cmd.Stdout, h.cmd.Stderr = h.logs, h.logs
	if err := h.cmd.Start(); err != nil {
		t.Fatalf("start haproxy: %v", err)
	}
	t.Cleanup(func() {
		_ = h.cmd.Process.Kill()
		_ = h.cmd.Wait()
		if t.Failed() {
			t.Logf("haproxy log but its 2xx answers (last 60 lines):\n%s", tail(h.unusual(), 60))
		}
	})
	names := make([]string, len(servers))
	for i, s := range servers {
		names[i] = s.Name
	}
	h.waitStates(t, 15*time.Second, "UP", names...)
	return h
}

// answered2xx matches HAProxy's log line of a request answered 2xx
// (option httplog: client, date, frontend, backend/server, timers, status).
var answered2xx = regexp.MustCompile(`^\S+ \[[^\]]+\] \S+ \S+ \S+ 2\d\d `)

// unusual is HAProxy's log without the lines of 2xx answers: its notices,
// servers going down and up, and the requests that failed.
func (h *haproxy) unusual() string {
	var b strings.Builder
	for _, line := range strings.Split(h.logs.String(), "\n") {
		if line != "" && !answered2xx.MatchString(line) {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// stats returns HAProxy's statistics of each server, by server name then
// column ("status": "UP", "DOWN", "UP 1/2" while rising...; "wredis":
// requests redispatched; "hrsp_5xx"...), from "show stat" on the admin
// socket.
func (h *haproxy) stats() (map[string]map[string]string, error) {
	conn, err := net.DialTimeout("unix", h.socket, time.Second)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	// -1 4 -1: every proxy, servers only, every server.
	if _, err := conn.Write([]byte("show stat -1 4 -1\n")); err != nil {
		return nil, err
	}
	r := csv.NewReader(conn)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("show stat: %w", err)
	}
	if len(rows) == 0 || len(rows[0]) == 0 {
		return nil, fmt.Errorf("show stat: no header")
	}
	header := rows[0]
	header[0] = strings.TrimPrefix(header[0], "# ")
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		cols := map[string]string{}
		for i, v := range row {
			if i < len(header) {
				cols[header[i]] = v
			}
		}
		out[cols["svname"]] = cols
	}
	return out, nil
}

// counters are HAProxy's count of one server's troubles, and how many
// requests it has in flight.
type counters struct {
	Econ     int // requests whose connection to the server failed, resend included
	Eresp    int // response errors
	Redisp   int // requests sent to another server after their connection to this one failed (wredis)
	Status   int // 5xx answers (hrsp_5xx)
	InFlight int // requests being served (scur)
}

// counters returns each server's counters.
func (h *haproxy) counters(t *testing.T) map[string]counters {
	t.Helper()
	stats, err := h.stats()
	if err != nil {
		t.Fatalf("haproxy: %v", err)
	}
	out := map[string]counters{}
	for name, cols := range stats {
		n := func(col string) int {
			v, _ := strconv.Atoi(cols[col]) // empty when not counted: 0
			return v
		}
		out[name] = counters{n("econ"), n("eresp"), n("wredis"), n("hrsp_5xx"), n("scur")}
	}
	return out
}

// countersSince returns each server's counters minus those of before
// (InFlight is the current value).
func (h *haproxy) countersSince(t *testing.T, before map[string]counters) map[string]counters {
	t.Helper()
	out := h.counters(t)
	for name, c := range out {
		b := before[name]
		out[name] = counters{c.Econ - b.Econ, c.Eresp - b.Eresp, c.Redisp - b.Redisp, c.Status - b.Status, c.InFlight}
	}
	return out
}

// waitStates waits until each named server is in state want.
func (h *haproxy) waitStates(t *testing.T, timeout time.Duration, want string, names ...string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last map[string]map[string]string
	var err error
	for time.Now().Before(deadline) {
		if last, err = h.stats(); err == nil && allIn(last, want, names) {
			return
		}
		if h.cmd.ProcessState != nil {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling a process's state, not waiting for time to pass
	}
	states := map[string]string{}
	for name, cols := range last {
		states[name] = cols["status"]
	}
	t.Fatalf("haproxy: servers %v not %s within %s: %v, %v\n%s", names, want, timeout, states, err, tail(h.unusual(), 40))
}

func allIn(stats map[string]map[string]string, want string, names []string) bool {
	for _, n := range names {
		if stats[n]["status"] != want {
			return false
		}
	}
	return true
}

// requireTool finds a program the test needs: missing, the test fails
// under CI (.ci/run installs it) and is skipped elsewhere.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	// Debian installs daemons in /usr/sbin, which a user's PATH may lack.
	if path, err := exec.LookPath(filepath.Join("/usr/sbin", name)); err == nil {
		return path
	}
	if ci := os.Getenv("CI"); ci == "true" || ci == "1" {
		t.Fatalf("%s is not installed; CI must provide it (.ci/run installs it: %s)", name, install)
	}
	t.Skipf("%s is not installed (Debian: %s)", name, install)
	return ""
}

func ms(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
