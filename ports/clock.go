package ports

import "time"

// Clock tells the time; tests pin it.
type Clock interface {
	Now() time.Time
}
