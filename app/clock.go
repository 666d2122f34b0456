package app

import "time"

// SystemClock is the wall clock: the ports.Clock of a running server.
// Tests pin time with a clock of their own.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }
