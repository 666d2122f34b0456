package httpapi

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
)

// TestClientIPAnswersAsGinDoes: the shortcut that spares gin's parse and
// print of the peer's address gives gin's answer for every form of
// address, trusted proxies or not, and through a unix socket (which gin
// trusts, reading X-Forwarded-For).
func TestClientIPAnswersAsGinDoes(t *testing.T) {
	addrs := []string{
		"192.0.2.1:1234", " 192.0.2.1:1234 ", "[2001:db8::1]:80", "[2001:DB8::1]:80", "[2001:db8:0:0:0:0:0:1]:80",
		"[::ffff:192.0.2.1]:1", "[::ffff:c000:201]:1", "[fe80::1%eth0]:1", "[::]:1", "[::1]:443", "0.0.0.0:1",
		"192.0.2.1", "192.000.002.001:1", "host.example:1", "", "[2001:db8::1]",
	}
	unix := &net.UnixAddr{Name: "/run/miniback.sock", Net: "unix"}
	for _, proxies := range [][]string{nil, {"192.0.2.0/24", "2001:db8::/32"}} {
		e := gin.New()
		if err := e.SetTrustedProxies(proxies); err != nil {
			t.Fatal(err)
		}
		h := &handler{trustsProxies: len(proxies) > 0}
		for _, viaUnix := range []bool{false, true} {
			for _, addr := range addrs {
				r := httptest.NewRequest(http.MethodGet, "/", nil)
				r.RemoteAddr = addr
				r.Header.Set("X-Forwarded-For", "203.0.113.7")
				if viaUnix {
					r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, unix))
				}
				c := gin.CreateTestContextOnly(httptest.NewRecorder(), e)
				c.Request = r
				if got, want := h.clientIP(c), c.ClientIP(); got != want {
					t.Errorf("proxies %v, unix %v, RemoteAddr %q: %q, gin says %q", proxies, viaUnix, addr, got, want)
				}
			}
		}
	}
}
