package httpapi

import (
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gin-gonic/gin"
)

// clientIP returns the client's address, for throttling: the peer's
// address, or what X-Forwarded-For / X-Real-IP say when the peer is one
// of Deps.TrustedProxies (gin's ClientIP); with no trusted proxies those
// headers are ignored, so a client cannot pick its own address.
//
// gin's ClientIP parses the peer's address and prints it again, an
// allocation per request. With no trusted proxies, and a peer address
// already in the form gin would print, the answer is that address as it
// stands; in every other case gin decides.
func (h *handler) clientIP(c *gin.Context) string {
	if h.trustsProxies {
		return c.ClientIP()
	}
	if ip, ok := canonicalPeerIP(c.Request); ok {
		return ip
	}
	return c.ClientIP()
}

// canonicalPeerIP returns the host of r.RemoteAddr when it is an IP
// address without a zone written exactly as net.IP.String writes it (the
// form net/http gives it for TCP peers) and the request did not come
// through a unix socket (gin trusts those, and reads the forwarding
// headers).
func canonicalPeerIP(r *http.Request) (string, bool) {
	if local, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && strings.HasPrefix(local.Network(), "unix") {
		return "", false
	}
	host, _, err := net.SplitHostPort(strings.TrimSpace(r.RemoteAddr))
	if err != nil {
		return "", false
	}
	addr, err := netip.ParseAddr(host)
	// net.IP.String prints an IPv4-mapped IPv6 address as IPv4, netip as
	// IPv6: leave those to gin.
	if err != nil || addr.Zone() != "" || addr.Is4In6() {
		return "", false
	}
	var buf [len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]byte
	if string(addr.AppendTo(buf[:0])) != host {
		return "", false
	}
	return host, true
}
