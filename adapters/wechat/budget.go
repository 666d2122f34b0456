package wechat

import (
	"sync"
	"time"
)

// budgetSlots is how many slots a retry budget's window is cut into: the
// window slides by a tenth of itself.
const budgetSlots = 10

// retryBudget bounds the retries of one (AppID, API) to min + ratio ×
// calls over a sliding window (after Finagle's RetryBudget). Retries are
// what turns an outage into a storm: with 3 attempts per call, a failing
// WeChat would get three times the load just when it is least able to
// take it. The minimum lets a quiet app retry its rare transient
// failures. It is safe for concurrent use.
type retryBudget struct {
	ratio float64
	min   int
	slot  time.Duration

	mu    sync.Mutex
	slots [budgetSlots]budgetSlot
}

// budgetSlot counts the calls and retries of one slot of time.
type budgetSlot struct {
	n       int64 // which slot of time (now / slot length) it counts
	calls   int
	retries int
}

func newRetryBudget(ratio float64, min int, window time.Duration) *retryBudget {
	return &retryBudget{ratio: ratio, min: min, slot: max(window/budgetSlots, time.Nanosecond)}
}

// call counts a call (its first attempt).
func (b *retryBudget) call(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.at(now).calls++
}

// retry takes one retry from the budget and reports whether there was one.
func (b *retryBudget) retry(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	calls, retries := b.totals(now)
	if float64(retries) >= float64(b.min)+b.ratio*float64(calls) {
		return false
	}
	b.at(now).retries++
	return true
}

// at returns now's slot, emptied if it last counted an older one. The
// caller holds mu.
func (b *retryBudget) at(now time.Time) *budgetSlot {
	n := now.UnixNano() / int64(b.slot)
	s := &b.slots[n%budgetSlots]
	if s.n != n {
		*s = budgetSlot{n: n}
	}
	return s
}

// totals sums the window's slots. The caller holds mu.
func (b *retryBudget) totals(now time.Time) (calls, retries int) {
	n := now.UnixNano() / int64(b.slot)
	for _, s := range b.slots {
		if s.n > n-budgetSlots && s.n <= n {
			calls += s.calls
			retries += s.retries
		}
	}
	return calls, retries
}
