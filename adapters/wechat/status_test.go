package wechat_test

import (
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

func TestStatus_BreakersAndTheLastErrcodeArePerApp(t *testing.T) {
	r, s := newRig(t), &sleeps{}
	clock := &frozenClock{now: time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC)}
	c := r.client(t, withBreaker(guarded(s, clock), 3, time.Hour), 0, nil)
	if bs := c.WeChatBreakers(appA); len(bs) != 0 {
		t.Fatalf("before any call: %+v", bs)
	}
	if _, ok := c.WeChatLastErrcode(appA); ok {
		t.Fatal("an errcode before any call")
	}

	// An invalid code: errcode 40029, not a failure of WeChat.
	if _, err := login(t, c, appA, "err-40029"); domain.ErrorCode(err) != domain.CodeWeChatCodeInvalid {
		t.Fatalf("err %v", err)
	}
	clock.Advance(time.Minute)
	// WeChat busy until the breaker opens.
	r.sim.InjectError(wechatsim.APICode2Session, string(appA), -1, 100)
	for range 2 {
		_, _ = login(t, c, appA, "dev-alice")
	}
	bs := c.WeChatBreakers(appA)
	if len(bs) != 1 || bs[0].API != "code2session" || bs[0].State != domain.BreakerOpen {
		t.Fatalf("appA breakers %+v, want code2session open", bs)
	}
	e, ok := c.WeChatLastErrcode(appA)
	if !ok || e.Errcode != -1 || e.API != "code2session" || !e.At.Equal(clock.Now()) {
		t.Fatalf("appA last errcode %+v %v, want -1 of code2session now", e, ok)
	}
	if bs := c.WeChatBreakers(appB); len(bs) != 0 {
		t.Fatalf("appB breakers %+v, want none", bs)
	}
	if _, ok := c.WeChatLastErrcode(appB); ok {
		t.Fatal("appB has appA's errcode")
	}
}
