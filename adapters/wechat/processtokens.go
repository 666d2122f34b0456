package wechat

import (
	"context"
	"sync"

	"github.com/miniback/miniback/domain"
)

// ProcessTokens is a TokenSource that keeps tokens in this process only:
// for tests and single-process tools. It refreshes in normal mode, and
// forces a refresh only when normal mode hands back the very token WeChat
// refused. It keeps no budget and shares nothing between replicas: a
// deployment uses the shared source instead.
type ProcessTokens struct {
	c  *Client
	mu sync.Mutex
	by map[domain.AppID]string
}

var _ TokenSource = (*ProcessTokens)(nil)

// NewProcessTokens returns a ProcessTokens fetching from c.
func NewProcessTokens(c *Client) *ProcessTokens {
	return &ProcessTokens{c: c, by: make(map[domain.AppID]string)}
}

// Token returns the cached token, fetching one the first time.
func (p *ProcessTokens) Token(ctx context.Context, app domain.AppID) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.by[app]; t != "" {
		return t, nil
	}
	return p.fetch(ctx, app, false)
}

// Renew replaces stale: normal mode first, forced if that returns stale.
func (p *ProcessTokens) Renew(ctx context.Context, app domain.AppID, stale string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.by[app]; t != "" && t != stale {
		return t, nil
	}
	t, err := p.fetch(ctx, app, false)
	if err != nil || t != stale {
		return t, err
	}
	return p.fetch(ctx, app, true)
}

func (p *ProcessTokens) fetch(ctx context.Context, app domain.AppID, force bool) (string, error) {
	t, err := p.c.StableToken(ctx, app, force)
	if err != nil {
		return "", err
	}
	p.by[app] = t.Value
	return t.Value, nil
}
