package main_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/jwx"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/s3store/s3test"
)

// TestProductionConfigurationWritesNothingToDisk starts the built binary
// configured as the Helm chart configures it (production: its own database,
// an S3 bucket, real WeChat credentials, keys and secrets from the
// environment) with every place it could write made unwritable, as in a
// container with a read-only root filesystem: the data directory and
// TMPDIR lie under a regular file (so even root gets ENOTDIR), and the
// working directory must still be empty when it has stopped.
func TestProductionConfigurationWritesNothingToDisk(t *testing.T) {
	pgtest.SkipIfShort(t, "builds and starts the binary")
	s3 := s3test.Start(t)
	bin := buildBinary(t)
	key, err := jwx.GenerateEd25519PEM()
	if err != nil {
		t.Fatal(err)
	}
	blocker := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	unwritable := filepath.Join(blocker, "below")
	workDir := t.TempDir()
	addr := freeAddr(t)

	cmd := exec.Command(bin)
	cmd.Dir = workDir
	cmd.Env = append(cleanEnv(),
		"TMPDIR="+unwritable,
		"MINIBACK_ENV=production",
		"MINIBACK_ADDR="+addr,
		"MINIBACK_METRICS_ADDR=127.0.0.1:0",
		"MINIBACK_DATA_DIR="+unwritable,
		"DATABASE_URL="+pgtest.NewURL(t),
		"MINIBACK_PUBLIC_URL=https://api.example.com",
		// Nothing listens there: start-up must not need WeChat.
		"MINIBACK_WECHAT_APPS=wx0123456789abcdef:an-app-secret",
		"MINIBACK_WECHAT_BASE_URL=http://127.0.0.1:1",
		"MINIBACK_JWT_PRIVATE_KEYS="+string(key),
		"MINIBACK_CURSOR_SECRET="+strings.Repeat("c", 32),
		"MINIBACK_STORAGE=s3",
		"MINIBACK_S3_ENDPOINT="+s3.Endpoint,
		"MINIBACK_S3_REGION="+s3.Region,
		"MINIBACK_S3_BUCKET="+s3.Bucket,
		"MINIBACK_S3_ACCESS_KEY="+s3.AccessKey,
		"MINIBACK_S3_SECRET_KEY="+s3.SecretKey,
		"MINIBACK_S3_PATH_STYLE=true",
	)
	logs := startAndWait(t, cmd, "miniback is ready")
	if strings.Contains(logs.String(), "embedded default") {
		t.Errorf("production start-up used an embedded default:\n%s", logs.String())
	}
	for _, path := range []string{"/healthz", "/readyz", "/.well-known/jwks.json", "/openapi.yaml"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, resp.StatusCode)
		}
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := waitExit(cmd, 20*time.Second); err != nil {
		t.Fatalf("exit: %v\n%s", err, logs.String())
	}
	entries, err := os.ReadDir(workDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("miniback wrote %s into its working directory", e.Name())
	}
}
