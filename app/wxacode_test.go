package app_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// fakeMaker is WeChat's getwxacodeunlimit: it counts calls, and make (when
// set) decides each answer.
type fakeMaker struct {
	calls atomic.Int64
	make  func(ctx context.Context, app domain.AppID, c domain.WxaCode) (domain.WxaCodeImage, error)
}

func (f *fakeMaker) WxaCodeUnlimited(ctx context.Context, app domain.AppID, c domain.WxaCode) (domain.WxaCodeImage, error) {
	f.calls.Add(1)
	if f.make != nil {
		return f.make(ctx, app, c)
	}
	return domain.WxaCodeImage{ContentType: "image/jpeg", Data: []byte("jpeg:" + string(app) + ":" + c.Scene)}, nil
}

// memObjects is object storage in memory; getErr and putErr make it fail.
type memObjects struct {
	mu      sync.Mutex
	objects map[string]memObject
	getErr  error
	putErr  error
}

type memObject struct {
	ct   string
	data []byte
}

func newMemObjects() *memObjects { return &memObjects{objects: map[string]memObject{}} }

func (m *memObjects) PutObject(_ context.Context, key, ct string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.putErr != nil {
		return m.putErr
	}
	m.objects[key] = memObject{ct, append([]byte(nil), data...)}
	return nil
}

func (m *memObjects) GetObject(_ context.Context, key string, _ int64) ([]byte, domain.ObjectInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErr != nil {
		return nil, domain.ObjectInfo{}, m.getErr
	}
	o, ok := m.objects[key]
	if !ok {
		return nil, domain.ObjectInfo{}, &domain.Error{Code: domain.CodeNotFound}
	}
	return o.data, domain.ObjectInfo{Size: int64(len(o.data)), ContentType: o.ct}, nil
}

func (m *memObjects) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objects)
}

// syncThrottle counts in memory, safely for concurrent requests, with
// one window that never ends.
type syncThrottle struct {
	mu     sync.Mutex
	counts map[domain.ThrottleKey]int
}

func (s *syncThrottle) CountAttempt(_ context.Context, k domain.ThrottleKey, now time.Time, _ time.Duration) (domain.AttemptWindow, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.counts == nil {
		s.counts = map[domain.ThrottleKey]int{}
	}
	s.counts[k]++
	return domain.AttemptWindow{Start: now, Count: s.counts[k]}, nil
}
func (s *syncThrottle) Forget(context.Context, domain.ThrottleKey) error { panic("not used") }
func (s *syncThrottle) Refund(context.Context, domain.ThrottleKey) error { panic("not used") }

var (
	_ ports.WxaCodeMaker    = (*fakeMaker)(nil)
	_ ports.ObjectBytes     = (*memObjects)(nil)
	_ ports.AttemptThrottle = (*syncThrottle)(nil)
)

var (
	sharer  = app.WxaCodeCaller{User: "u-alice", Role: domain.RoleUser, App: "wx00000000000000a1"}
	wxaNow  = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	invite  = domain.WxaCodeInput{Scene: "invite=u42"}
	noLimit = domain.ThrottleRule{}
)

func newWxaCodes(maker *fakeMaker, cache ports.ObjectBytes, limit domain.ThrottleRule) *app.WxaCodes {
	return &app.WxaCodes{WeChat: maker, Cache: cache, Throttle: &syncThrottle{}, UserLimit: limit, Clock: fixedClock{wxaNow}}
}

func TestWxaCodes_ABrokenRuleNeverReachesWeChat(t *testing.T) {
	maker := &fakeMaker{}
	uc := newWxaCodes(maker, newMemObjects(), noLimit)
	_, err := uc.Get(context.Background(), sharer, domain.WxaCodeInput{Scene: "a%20b"})
	if domain.ErrorCode(err) != domain.CodeInvalid || maker.calls.Load() != 0 {
		t.Fatalf("err %v, %d calls", err, maker.calls.Load())
	}
}

func TestWxaCodes_APasswordSessionHasNoMiniProgram(t *testing.T) {
	maker := &fakeMaker{}
	uc := newWxaCodes(maker, newMemObjects(), noLimit)
	_, err := uc.Get(context.Background(), app.WxaCodeCaller{User: "u-bob", Role: domain.RoleUser}, invite)
	if domain.ErrorCode(err) != domain.CodeWeChatLoginRequired || maker.calls.Load() != 0 {
		t.Fatalf("err %v, %d calls", err, maker.calls.Load())
	}
}

func TestWxaCodes_ASecondIdenticalRequestIsServedFromStorage(t *testing.T) {
	maker, cache := &fakeMaker{}, newMemObjects()
	uc := newWxaCodes(maker, cache, noLimit)
	ctx := context.Background()
	first, err := uc.Get(ctx, sharer, invite)
	if err != nil || first.Cached {
		t.Fatalf("first: %+v %v", first, err)
	}
	// The same request with the defaults spelled out.
	width := 430
	second, err := uc.Get(ctx, sharer, domain.WxaCodeInput{Scene: "invite=u42", Width: &width})
	if err != nil || !second.Cached || string(second.Image.Data) != string(first.Image.Data) || second.Image.ContentType != "image/jpeg" {
		t.Fatalf("second: %+v %v", second, err)
	}
	if n := maker.calls.Load(); n != 1 {
		t.Fatalf("WeChat called %d times, want 1", n)
	}
	code, _ := domain.NewWxaCode(invite)
	if _, ok := cache.objects[code.CacheKey(sharer.App)]; !ok {
		t.Fatal("not stored under the request's key")
	}
}

func TestWxaCodes_AnotherMiniProgramGetsItsOwnCode(t *testing.T) {
	maker := &fakeMaker{}
	uc := newWxaCodes(maker, newMemObjects(), noLimit)
	ctx := context.Background()
	other := sharer
	other.App = "wx00000000000000b2"
	a, _ := uc.Get(ctx, sharer, invite)
	b, err := uc.Get(ctx, other, invite)
	if err != nil || b.Cached || string(a.Image.Data) == string(b.Image.Data) || maker.calls.Load() != 2 {
		t.Fatalf("b %+v %v, %d calls", b, err, maker.calls.Load())
	}
}

func TestWxaCodes_ConcurrentIdenticalMissesShareOneWeChatCall(t *testing.T) {
	release := make(chan struct{})
	maker := &fakeMaker{}
	maker.make = func(_ context.Context, app domain.AppID, c domain.WxaCode) (domain.WxaCodeImage, error) {
		<-release
		return domain.WxaCodeImage{ContentType: "image/png", Data: []byte("png:" + c.Scene)}, nil
	}
	cache := newMemObjects()
	uc := newWxaCodes(maker, cache, noLimit)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			res, err := uc.Get(context.Background(), sharer, invite)
			if err == nil && string(res.Image.Data) != "png:invite=u42" {
				err = errors.New("wrong image " + string(res.Image.Data))
			}
			errs <- err
		})
	}
	// Let the callers pile up on the one call, then answer it.
	for maker.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c := maker.calls.Load(); c != 1 {
		t.Fatalf("WeChat called %d times for %d identical requests, want 1", c, n)
	}
	if cache.len() != 1 {
		t.Fatalf("%d objects stored, want 1", cache.len())
	}
}

func TestWxaCodes_TheFirstCallersCancellationDoesNotFailTheOthers(t *testing.T) {
	release := make(chan struct{})
	maker := &fakeMaker{}
	maker.make = func(ctx context.Context, _ domain.AppID, c domain.WxaCode) (domain.WxaCodeImage, error) {
		<-release
		if err := ctx.Err(); err != nil {
			return domain.WxaCodeImage{}, err
		}
		return domain.WxaCodeImage{ContentType: "image/jpeg", Data: []byte(c.Scene)}, nil
	}
	uc := newWxaCodes(maker, newMemObjects(), noLimit)
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := uc.Get(first, sharer, invite)
		firstErr <- err
	}()
	for maker.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() {
		_, err := uc.Get(context.Background(), sharer, invite)
		second <- err
	}()
	cancel()
	if err := <-firstErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v, want canceled", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatalf("second caller: %v", err)
	}
	if c := maker.calls.Load(); c != 1 {
		t.Fatalf("%d calls, want 1", c)
	}
}

func TestWxaCodes_FailuresAreNeverCached(t *testing.T) {
	fail := true
	maker := &fakeMaker{}
	maker.make = func(_ context.Context, _ domain.AppID, c domain.WxaCode) (domain.WxaCodeImage, error) {
		if fail {
			return domain.WxaCodeImage{}, domain.ErrWxaCodeQuota(nil)
		}
		return domain.WxaCodeImage{ContentType: "image/jpeg", Data: []byte(c.Scene)}, nil
	}
	cache := newMemObjects()
	uc := newWxaCodes(maker, cache, noLimit)
	ctx := context.Background()
	if _, err := uc.Get(ctx, sharer, invite); domain.ErrorCode(err) != domain.CodeWeChatRateLimited {
		t.Fatalf("err %v", err)
	}
	if cache.len() != 0 {
		t.Fatal("a failure was stored")
	}
	fail = false
	if res, err := uc.Get(ctx, sharer, invite); err != nil || res.Cached {
		t.Fatalf("after the failure: %+v %v", res, err)
	}
	if c := maker.calls.Load(); c != 2 {
		t.Fatalf("%d calls, want 2", c)
	}
}

func TestWxaCodes_AStorageFailureDoesNotFailTheRequest(t *testing.T) {
	ctx := context.Background()
	t.Run("reading", func(t *testing.T) {
		maker, cache := &fakeMaker{}, newMemObjects()
		cache.getErr = &domain.Error{Code: domain.CodeUnavailable}
		res, err := newWxaCodes(maker, cache, noLimit).Get(ctx, sharer, invite)
		if err != nil || res.Cached || res.CacheErr == nil || maker.calls.Load() != 1 {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("writing", func(t *testing.T) {
		maker, cache := &fakeMaker{}, newMemObjects()
		cache.putErr = errors.New("disk full")
		res, err := newWxaCodes(maker, cache, noLimit).Get(ctx, sharer, invite)
		if err != nil || len(res.Image.Data) == 0 || res.CacheErr == nil {
			t.Fatalf("%+v %v", res, err)
		}
	})
	t.Run("no storage at all", func(t *testing.T) {
		maker := &fakeMaker{}
		uc := &app.WxaCodes{WeChat: maker, Clock: fixedClock{wxaNow}}
		for range 2 {
			if _, err := uc.Get(ctx, sharer, invite); err != nil {
				t.Fatal(err)
			}
		}
		if maker.calls.Load() != 2 {
			t.Fatalf("%d calls, want 2", maker.calls.Load())
		}
	})
}

func TestWxaCodes_EachUsersNewCodesAreLimited(t *testing.T) {
	maker := &fakeMaker{}
	uc := newWxaCodes(maker, newMemObjects(), domain.ThrottleRule{Limit: 2, Window: time.Hour})
	ctx := context.Background()
	get := func(c app.WxaCodeCaller, scene string) error {
		_, err := uc.Get(ctx, c, domain.WxaCodeInput{Scene: scene})
		return err
	}
	for _, s := range []string{"a", "b"} {
		if err := get(sharer, s); err != nil {
			t.Fatal(err)
		}
	}
	var de *domain.Error
	if err := get(sharer, "c"); !errors.As(err, &de) || de.Code != domain.CodeWxaCodeRateLimited || de.RetryAfter <= 0 {
		t.Fatalf("third new code: %v", err)
	}
	if err := get(sharer, "a"); err != nil {
		t.Fatalf("a cached code is not counted: %v", err)
	}
	bob := sharer
	bob.User = "u-bob"
	if err := get(bob, "c"); err != nil {
		t.Fatalf("another user has a limit of their own: %v", err)
	}
	admin := sharer
	admin.Role = domain.RoleAdmin
	for _, s := range []string{"d", "e", "f"} {
		if err := get(admin, s); err != nil {
			t.Fatalf("admins are not limited: %v", err)
		}
	}
	if c := maker.calls.Load(); c != 6 {
		t.Fatalf("%d calls, want 6 (a, b, bob's c, d, e, f)", c)
	}
}
