package pgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

func TestReapOrphanClustersRemovesOnlyDirsOfDeadProcesses(t *testing.T) {
	// A finished child's pid names a dead process.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatalf("cannot run a child process: %v", err)
	}
	dead := cmd.Process.Pid

	orphan, err := os.MkdirTemp("", clusterDirPrefix+strconv.Itoa(dead)+"-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(orphan)
	live, err := os.MkdirTemp("", clusterDirPrefix+strconv.Itoa(os.Getpid())+"-*")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(live)
	if err := os.WriteFile(filepath.Join(orphan, "PG_VERSION"), []byte("15\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	reapOrphanClusters()

	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("orphan dir of dead pid %d survived: %v", dead, err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("dir of this live process was removed: %v", err)
	}
}
