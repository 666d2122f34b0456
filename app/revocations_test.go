package app_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// feedLog is an in-memory revocation feed: the cursor is an index into it.
type feedLog struct {
	mu    sync.Mutex
	revs  []domain.Revocation
	reads int
	err   error
}

func (f *feedLog) add(r ...domain.Revocation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.revs = append(f.revs, r...)
}

func (f *feedLog) feed() fakeFeed {
	return fakeFeed{since: func(_ context.Context, c ports.RevocationCursor, notBefore time.Time) ([]domain.Revocation, ports.RevocationCursor, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.reads++
		if f.err != nil {
			return nil, c, f.err
		}
		var out []domain.Revocation
		for _, r := range f.revs[c.Position:] {
			if r.RevokedAt.After(notBefore) {
				out = append(out, r)
			}
		}
		return out, ports.RevocationCursor{Position: uint64(len(f.revs))}, nil
	}}
}

func claims(user domain.UserID, sid domain.SessionID, iat time.Time) ports.AccessClaims {
	return ports.AccessClaims{UserID: user, SessionID: sid, IssuedAt: iat}
}

func TestRevocationsRefuseWhatTheFeedRevoked(t *testing.T) {
	log := &feedLog{}
	clock := &movingClock{t: now}
	revs := app.NewRevocations(log.feed(), clock, 16*time.Minute)
	log.add(domain.Revocation{SessionID: "s-1", UserID: "u-1", RevokedAt: now})
	log.add(domain.Revocation{UserID: "u-gone", RevokedAt: now})

	if revs.Revoked(claims("u-1", "s-1", now)) {
		t.Fatal("revoked before the feed was read")
	}
	if err := revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    ports.AccessClaims
		want bool
	}{
		{"a token of the revoked session", claims("u-1", "s-1", now.Add(-time.Minute)), true},
		{"another session of the same user", claims("u-1", "s-2", now), false},
		{"a token of a deleted user issued before the deletion", claims("u-gone", "s-9", now.Add(-time.Minute)), true},
		{"a token of a deleted user issued in the same second", claims("u-gone", "s-9", now), true},
		{"a token issued after a user-wide revocation", claims("u-gone", "s-10", now.Add(time.Second)), false},
	} {
		if got := revs.Revoked(tc.c); got != tc.want {
			t.Errorf("%s: revoked = %t, want %t", tc.name, got, tc.want)
		}
	}
}

func TestRevocationsReadTheFeedOnlyFromWhereTheyStopped(t *testing.T) {
	log := &feedLog{}
	var positions []uint64
	feed := log.feed()
	inner := feed.since
	feed.since = func(ctx context.Context, c ports.RevocationCursor, nb time.Time) ([]domain.Revocation, ports.RevocationCursor, error) {
		positions = append(positions, c.Position)
		return inner(ctx, c, nb)
	}
	revs := app.NewRevocations(feed, fixedClock{now}, time.Hour)
	for i := range 3 {
		log.add(domain.Revocation{SessionID: domain.SessionID(fmt.Sprint("s-", i)), UserID: "u", RevokedAt: now})
		if err := revs.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(positions) != "[0 1 2]" {
		t.Errorf("read from %v, want [0 1 2]", positions)
	}
	if s, _ := revs.Len(); s != 3 {
		t.Errorf("holds %d sessions, want 3", s)
	}
}

func TestRevocationsDropEntriesOnceNoTokenTheyCoverCanBeAlive(t *testing.T) {
	log := &feedLog{}
	clock := &movingClock{t: now}
	retain := 15*time.Minute + 30*time.Second
	revs := app.NewRevocations(log.feed(), clock, retain)
	revs.Note(domain.Revocation{SessionID: "s-1", UserID: "u-1", RevokedAt: now})
	revs.Note(domain.Revocation{UserID: "u-2", RevokedAt: now})

	clock.Advance(retain)
	if err := revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, u := revs.Len(); s != 1 || u != 1 {
		t.Fatalf("dropped too early: %d sessions, %d users", s, u)
	}
	clock.Advance(time.Second)
	if err := revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s, u := revs.Len(); s != 0 || u != 0 {
		t.Errorf("kept %d sessions, %d users past the retention", s, u)
	}
}

func TestRevocationsKeepTheirSetWhenTheFeedFails(t *testing.T) {
	log := &feedLog{}
	revs := app.NewRevocations(log.feed(), fixedClock{now}, time.Hour)
	log.add(domain.Revocation{SessionID: "s-1", UserID: "u-1", RevokedAt: now})
	if err := revs.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	read := revs.LastRead()
	log.err = errors.New("connection refused")
	if err := revs.Refresh(context.Background()); err == nil {
		t.Fatal("a failed read reported success")
	}
	if !revs.Revoked(claims("u-1", "s-1", now)) || !revs.LastRead().Equal(read) {
		t.Error("a failed read changed the set or its read time")
	}
}

func TestRevocationsRunReadsWhenWokenAndStopsWithItsContext(t *testing.T) {
	log := &feedLog{}
	revs := app.NewRevocations(log.feed(), fixedClock{now}, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		revs.Run(ctx, time.Hour, nil) // the tick never comes: only Wake reads
	}()
	log.add(domain.Revocation{SessionID: "s-1", UserID: "u-1", RevokedAt: now})
	revs.Wake()
	for !revs.Revoked(claims("u-1", "s-1", now)) {
		revs.Wake() // Wake never blocks, so calling it while a read runs is fine
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
}

func TestRevocationsReportFailedReadsWhileRunning(t *testing.T) {
	log := &feedLog{err: errors.New("database down")}
	revs := app.NewRevocations(log.feed(), fixedClock{now}, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 10)
	go revs.Run(ctx, time.Millisecond, func(err error) {
		select {
		case errs <- err:
		default:
		}
	})
	if err := <-errs; !errors.Is(err, log.err) {
		t.Errorf("reported %v, want the feed's error", err)
	}
}

func TestNoteOnANilSetDoesNothing(t *testing.T) {
	var revs *app.Revocations
	revs.Note(domain.Revocation{SessionID: "s", UserID: "u", RevokedAt: now}) // must not panic
}

func TestRevocationsRunReadsTheFeedEveryInterval(t *testing.T) {
	log := &feedLog{}
	revs := app.NewRevocations(log.feed(), fixedClock{now}, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		revs.Run(ctx, time.Millisecond, nil) // never woken: only the ticker reads
	}()
	for {
		log.mu.Lock()
		reads := log.reads
		log.mu.Unlock()
		if reads >= 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if revs.LastRead().IsZero() {
		t.Error("no read recorded")
	}
}
