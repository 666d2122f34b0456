package argon2id

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

// TestHashesBeyondTheBoundWaitForATurn fills every slot by hand, so the
// next hash must wait: it gives up, unhashed, when its context ends or the
// wait bound passes, answering unavailable; once a slot frees, it runs.
func TestHashesBeyondTheBoundWaitForATurn(t *testing.T) {
	h, err := New(Config{Params: Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, Concurrency: 2, MaxWait: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	h.slots <- struct{}{}
	h.slots <- struct{}{}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = h.Hash(ctx, "waiter")
	if domain.ErrorCode(err) != domain.CodeUnavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: err = %v, want unavailable caused by the cancelled context", err)
	}
	_, _, err = h.Verify(context.Background(), h.DummyHash(), "waiter")
	var de *domain.Error
	if !errors.As(err, &de) || de.Code != domain.CodeUnavailable || de.RetryAfter <= 0 {
		t.Fatalf("waiter past MaxWait: err = %v, want unavailable with a retry hint", err)
	}
	if n := len(h.slots); n != 2 {
		t.Fatalf("%d slots taken after the refused waiters, want the 2 held", n)
	}

	h.maxWait = time.Hour // the patient hash waits as long as it takes
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "patient")
		done <- err
	}()
	<-h.slots // free one slot: the patient hash runs and gives it back
	if err := <-done; err != nil {
		t.Fatalf("hash after a slot freed: %v", err)
	}
	if n := len(h.slots); n != 1 {
		t.Errorf("%d slots taken after the hash, want the 1 still held", n)
	}
}
