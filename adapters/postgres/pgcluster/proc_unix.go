//go:build unix

package pgcluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// state is what a postmaster.pid's process is known to be.
type state int

const (
	unknown state = iota // cannot tell: leave the pid file to the server
	running              // a server is running on the data dir
	gone                 // no such process, or one that is not this data dir's server
)

// serverState tells whether process pid is the server of dataDir. On Linux
// a postmaster's working directory is its data dir, which tells it apart
// from an unrelated process that reused the pid.
func serverState(pid int, dataDir string) state {
	if real, err := filepath.EvalSymlinks(dataDir); err == nil {
		dataDir = real
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	switch {
	case err == nil && cwd == dataDir:
		return running
	case err == nil:
		return gone
	case errors.Is(err, fs.ErrNotExist) && procMounted():
		return gone
	}
	return unknown
}

// procMounted reports whether /proc describes processes (Linux).
func procMounted() bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", os.Getpid()))
	return err == nil
}

// ownerOf returns the uid owning path.
func ownerOf(path string) (int, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// tryLock takes an exclusive flock on f without waiting, reporting false
// when another open file (another process, or another Cluster of this one)
// holds it. The kernel drops a flock when its holder exits, however it
// exits; os.OpenFile's close-on-exec keeps the server pg_ctl starts from
// inheriting it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}
