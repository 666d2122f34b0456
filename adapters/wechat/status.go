package wechat

import (
	"sync/atomic"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// The health page's view of the client: each (AppID, API)'s breaker and
// the last errcode WeChat answered, as this process saw them.

var _ ports.WeChatStatus = (*Client)(nil)

// lastErrcode is the last non-zero errcode of one guard's API.
type lastErrcode struct {
	atomic.Pointer[domain.WeChatErrcodeAt]
}

// noteReply keeps the errcode of a reply, if it has a non-zero one.
func (g *guard) noteReply(x exchange, err error) {
	if err != nil {
		return
	}
	if code, ok := replyErrcode(x); ok && code != 0 {
		g.last.Store(&domain.WeChatErrcodeAt{API: g.api, Errcode: code, At: g.cfg.Now()})
	}
}

// WeChatBreakers returns the breaker state of each API this client has
// called (or asked about) for app; none when breakers are off.
func (c *Client) WeChatBreakers(app domain.AppID) []domain.WeChatBreaker {
	var out []domain.WeChatBreaker
	for _, g := range c.guards.of(app) {
		if g.breaker != nil {
			out = append(out, domain.WeChatBreaker{API: g.api, State: g.breaker.State().String()})
		}
	}
	domain.SortBreakers(out)
	return out
}

// WeChatLastErrcode returns the latest non-zero errcode WeChat answered
// this client for app, of any API.
func (c *Client) WeChatLastErrcode(app domain.AppID) (domain.WeChatErrcodeAt, bool) {
	var latest *domain.WeChatErrcodeAt
	for _, g := range c.guards.of(app) {
		if e := g.last.Load(); e != nil && (latest == nil || e.At.After(latest.At)) {
			latest = e
		}
	}
	if latest == nil {
		return domain.WeChatErrcodeAt{}, false
	}
	return *latest, true
}

// of returns app's guards.
func (gs *guards) of(app domain.AppID) []*guard {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	var out []*guard
	for k, g := range gs.by {
		if k.app == app {
			out = append(out, g)
		}
	}
	return out
}
