package ratelimit

import "time"

// gcra decides one request under r at instant now, given the key's
// theoretical arrival time tat (zero for a key never seen), all in
// nanoseconds on one monotonic scale. It returns the decision and, when
// the request is allowed, the key's new tat (a refused request changes
// nothing). It is the arithmetic of redis_rate's script with the burst
// equal to the count, so the two backends answer alike.
func gcra(tat, now int64, r Rule) (Decision, int64) {
	interval := int64(r.Period) / int64(r.Count) // the emission interval
	if interval < 1 {
		interval = 1
	}
	burst := interval * int64(r.Count)
	tat = max(tat, now)
	next := tat + interval
	// diff is how far now is past the instant the request would have
	// been allowed at; negative: too early.
	diff := now - (next - burst)
	if diff < 0 {
		return Decision{RetryAfter: time.Duration(-diff)}, tat
	}
	return Decision{Allowed: true, Remaining: int(diff / interval)}, next
}
