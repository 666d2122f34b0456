package app

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// WxaCodes makes mini-program codes (小程序码) with WeChat's
// getwxacodeunlimit, and keeps each one in object storage: a code never
// expires and identical parameters always give the same image, so a
// popular share card costs WeChat's quota once.
//
// A request is served, in order: from the storage (no WeChat call); by
// joining a WeChat call this instance already makes for the same key
// (concurrent identical misses share one call); or by a new call, whose
// image is stored. Failures are never stored. Storage failures never fail
// a request: the code is made by WeChat instead, and reported in
// WxaCodeResult.CacheErr for the log.
//
// Entries are kept forever (a code stays valid, and a share card printed
// years ago still scans to the same image); each is tens to a few hundred
// KiB, so a million distinct codes can hold tens to hundreds of GiB. A
// bucket lifecycle rule on the wxacode/ prefix bounds that if needed: an
// expired entry is simply made again.
type WxaCodes struct {
	WeChat ports.WxaCodeMaker
	// Cache keeps the images; nil makes every request call WeChat.
	Cache ports.ObjectBytes
	// Throttle counts each user's misses against UserLimit (shared by
	// every replica); nil or a zero limit leaves them uncounted.
	Throttle  ports.AttemptThrottle
	UserLimit domain.ThrottleRule
	Clock     ports.Clock

	// flights are this instance's WeChat calls under way, by key. Use
	// WxaCodes by pointer: every request must see the same ones.
	flights flights
}

// WxaCodeCaller is who asks for a code: from the access token.
type WxaCodeCaller struct {
	User domain.UserID
	Role domain.Role
	App  domain.AppID // empty for a password login
}

// WxaCodeResult is a code and how it was obtained.
type WxaCodeResult struct {
	Image domain.WxaCodeImage
	// Cached: read from the storage; WeChat was not called for it.
	Cached bool
	// CacheErr is a failure of the storage that did not stop the request
	// (for the log).
	CacheErr error
}

// Get returns the code for the caller's mini-program and in. The request
// is checked before anything else: a broken rule never reaches WeChat.
func (uc *WxaCodes) Get(ctx context.Context, caller WxaCodeCaller, in domain.WxaCodeInput) (WxaCodeResult, error) {
	code, err := domain.NewWxaCode(in)
	if err != nil {
		return WxaCodeResult{}, err
	}
	if caller.App == "" {
		return WxaCodeResult{}, domain.ErrWxaCodeNeedsWeChatSession()
	}
	if uc.WeChat == nil {
		return WxaCodeResult{}, errors.New("wxacode: no WeChat API is wired")
	}
	key := code.CacheKey(caller.App)
	img, hit, cacheErr := uc.lookup(ctx, key)
	if hit {
		return WxaCodeResult{Image: img, Cached: true}, nil
	}
	if err := uc.countMiss(ctx, caller); err != nil {
		return WxaCodeResult{}, err
	}
	res, err := uc.flights.do(ctx, key, func(ctx context.Context) (WxaCodeResult, error) {
		// A call that ended just before this one began may have stored
		// the image already.
		if img, hit, _ := uc.lookup(ctx, key); hit {
			return WxaCodeResult{Image: img, Cached: true}, nil
		}
		img, err := uc.WeChat.WxaCodeUnlimited(ctx, caller.App, code)
		if err != nil {
			return WxaCodeResult{}, fmt.Errorf("wxacode: %w", err)
		}
		r := WxaCodeResult{Image: img}
		if uc.Cache != nil {
			if err := uc.Cache.PutObject(ctx, key, img.ContentType, img.Data); err != nil {
				r.CacheErr = fmt.Errorf("store mini-program code %s: %w", key, err)
			}
		}
		return r, nil
	})
	if err != nil {
		return WxaCodeResult{}, err
	}
	if res.CacheErr == nil {
		res.CacheErr = cacheErr
	}
	return res, nil
}

// lookup reads key from the cache. Not found is a plain miss; any other
// failure is a miss too, returned for the log.
func (uc *WxaCodes) lookup(ctx context.Context, key string) (domain.WxaCodeImage, bool, error) {
	if uc.Cache == nil {
		return domain.WxaCodeImage{}, false, nil
	}
	data, info, err := uc.Cache.GetObject(ctx, key, domain.WxaCodeMaxBytes)
	switch {
	case err == nil && domain.IsWxaCodeImageType(info.ContentType):
		return domain.WxaCodeImage{ContentType: info.ContentType, Data: data}, true, nil
	case err == nil:
		return domain.WxaCodeImage{}, false, fmt.Errorf("cached mini-program code %s has type %q", key, info.ContentType)
	case domain.ErrorCode(err) == domain.CodeNotFound:
		return domain.WxaCodeImage{}, false, nil
	default:
		return domain.WxaCodeImage{}, false, fmt.Errorf("read cached mini-program code %s: %w", key, err)
	}
}

// countMiss counts a request that WeChat may have to serve against its
// user's limit. Administrators are not counted: they pre-generate codes
// for campaigns.
func (uc *WxaCodes) countMiss(ctx context.Context, caller WxaCodeCaller) error {
	if uc.Throttle == nil || uc.UserLimit.Limit <= 0 || caller.Role.CanAdminister() {
		return nil
	}
	now := uc.Clock.Now()
	w, err := uc.Throttle.CountAttempt(ctx, domain.WxaCodeThrottleKey(caller.User), now, uc.UserLimit.Window)
	if err != nil {
		return fmt.Errorf("count mini-program code: %w", err)
	}
	if wait := uc.UserLimit.RetryAfter(w, now); wait > 0 {
		return domain.ErrWxaCodeUserLimit(wait)
	}
	return nil
}

// flights runs one call per key at a time and hands its result to every
// caller that asked for the key meanwhile (a small singleflight: app/
// imports nothing outside the standard library).
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done chan struct{}
	res  WxaCodeResult
	err  error
}

// flightTimeout bounds one shared call: WeChat (a token renewal and a
// retry included) and the storage.
const flightTimeout = 30 * time.Second

// do runs fn for key unless a call for key is under way, whose result it
// then waits for. fn runs detached from the first caller's cancellation
// (the others still wait for it), within flightTimeout; each caller stops
// waiting when its own ctx ends.
func (f *flights) do(ctx context.Context, key string, fn func(context.Context) (WxaCodeResult, error)) (WxaCodeResult, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = make(map[string]*flight)
	}
	fl, running := f.m[key]
	if !running {
		fl = &flight{done: make(chan struct{})}
		f.m[key] = fl
		go func() {
			defer func() {
				f.mu.Lock()
				delete(f.m, key)
				f.mu.Unlock()
				close(fl.done)
			}()
			defer func() {
				// Off the request's goroutine, a panic would end the
				// process: make it this flight's error instead.
				if p := recover(); p != nil {
					fl.err = fmt.Errorf("wxacode: panic: %v", p)
				}
			}()
			callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flightTimeout)
			defer cancel()
			fl.res, fl.err = fn(callCtx)
		}()
	}
	f.mu.Unlock()
	select {
	case <-fl.done:
		res := fl.res
		if running {
			res.CacheErr = nil // logged once, by the caller that started the call
		}
		return res, fl.err
	case <-ctx.Done():
		return WxaCodeResult{}, fmt.Errorf("wxacode: %w", ctx.Err())
	}
}
