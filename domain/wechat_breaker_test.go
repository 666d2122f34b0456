package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestErrWeChatUnavailableSaysWhenToRetryAndHintsAtLeastASecond(t *testing.T) {
	tests := []struct {
		open      time.Duration
		wantRetry time.Duration
		wantText  string
	}{
		{30 * time.Second, 30 * time.Second, "Try again in 30 seconds."},
		{29*time.Second + time.Millisecond, 29*time.Second + time.Millisecond, "Try again in 30 seconds."},
		{1500 * time.Millisecond, 1500 * time.Millisecond, "Try again in 2 seconds."},
		{time.Second, time.Second, "Try again in 1 second."},
		{10 * time.Millisecond, time.Second, "Try again in 1 second."},
		{-time.Second, time.Second, "Try again in 1 second."}, // the open time ran out as the call was refused
	}
	cause := errors.New("wechat code2session for wx1: breaker: circuit breaker is open")
	for _, tt := range tests {
		e := ErrWeChatUnavailable(tt.open, cause)
		if e.Code != CodeWeChatUnavailable || e.RetryAfter != tt.wantRetry || !strings.HasSuffix(e.Message, tt.wantText) {
			t.Errorf("open %s: code %s, retry %s, message %q; want %s, %q", tt.open, e.Code, e.RetryAfter, e.Message, tt.wantRetry, tt.wantText)
		}
		if !errors.Is(e, cause) || !strings.Contains(e.Message, "nothing was sent") {
			t.Errorf("open %s: %v", tt.open, e)
		}
	}
}
