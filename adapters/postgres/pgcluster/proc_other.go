//go:build !unix

package pgcluster

import "os"

// state is what a postmaster.pid's process is known to be.
type state int

const (
	unknown state = iota // cannot tell: leave the pid file to the server
	running              // a server is running on the data dir
	gone                 // no such process, or one that is not this data dir's server
)

// serverState cannot inspect processes here; the server checks its pid
// file itself.
func serverState(int, string) state { return unknown }

// ownerOf is only needed when running as root on Unix.
func ownerOf(string) (int, bool) { return 0, false }

// tryLock cannot lock here: every process owns the data dir, as before
// ownership existed, and the server's own pid-file check refuses a second
// server.
func tryLock(*os.File) (bool, error) { return true, nil }
