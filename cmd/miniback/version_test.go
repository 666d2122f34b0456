package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/postgres/pgtest"
)

func TestVersionAnswersWithoutReadingTheConfiguration(t *testing.T) {
	for _, arg := range []string{"--version", "-version", "version"} {
		var out bytes.Buffer
		// An environment LoadConfig refuses: --version must not care.
		err := run(context.Background(), []string{arg}, []string{"MINIBACK_ENV=staging"}, &out)
		if err != nil {
			t.Fatalf("%s: %v", arg, err)
		}
		line := strings.TrimSpace(out.String())
		if !strings.HasPrefix(line, "miniback ") || !strings.HasSuffix(line, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) {
			t.Errorf("%s printed %q, want \"miniback <version> ... %s %s/%s\"", arg, line, runtime.Version(), runtime.GOOS, runtime.GOARCH)
		}
	}
}

func TestVersionComesFromTheLinkerFlagTheImageBuildSets(t *testing.T) {
	pgtest.SkipIfShort(t, "builds the binary")
	bin := filepath.Join(t.TempDir(), "miniback")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version=v9.8.7-test", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--version")
	cmd.Env = []string{} // nothing configured, as in a bare container
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("miniback --version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "miniback v9.8.7-test ") {
		t.Errorf("miniback --version printed %q, want it to start with \"miniback v9.8.7-test \"", out)
	}
}
