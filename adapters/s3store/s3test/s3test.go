// Package s3test starts a real S3-compatible server for tests: versitygw
// (Apache-2.0) with its POSIX backend in a temporary directory, on a free
// loopback port, with a fresh bucket. versitygw enforces POST policies
// (key, content type, size range, expiry) and SigV4 signatures as S3 does.
//
// The binary is found in $MINIBACK_VERSITYGW, then ./.bin/versitygw at the
// module root (where `go tool task tools:versitygw` installs it), then on
// PATH. Without it the test fails under CI=true and is skipped otherwise,
// with the command that installs it.
package s3test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Version is the versitygw release the tests are written against.
const Version = "v1.8.0"

// InstallHint is the command that installs versitygw where Start finds it.
const InstallHint = "go tool task tools:versitygw  (or: GOBIN=$PWD/.bin go install github.com/versity/versitygw/cmd/versitygw@" + Version + ")"

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// Client is a minio-go client of the server, for checks.
	Client *minio.Client
}

const (
	accessKey = "minibacktest"
	secretKey = "minibacktest-secret-key-0123456789"
	region    = "us-east-1"
	bucket    = "miniback-test"
)

// Start runs a versitygw for the test, stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("s3test: %v; CI must install it: %s", err, InstallHint)
		}
		t.Skipf("s3test: %v; install it with: %s", err, InstallHint)
	}
	dir := t.TempDir()
	data, meta := filepath.Join(dir, "data"), filepath.Join(dir, "meta")
	for _, d := range []string{data, meta} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		s, err := start(t, bin, data, meta)
		if err == nil {
			return s
		}
		lastErr = err
	}
	t.Fatalf("s3test: start versitygw: %v", lastErr)
	return nil
}

// Binary finds the versitygw executable.
func Binary() (string, error) {
	if p := os.Getenv("MINIBACK_VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("MINIBACK_VERSITYGW=%s: %w", p, err)
		}
		return p, nil
	}
	if root, ok := moduleRoot(); ok {
		p := filepath.Join(root, ".bin", "versitygw")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", errors.New("versitygw is not installed (not in $MINIBACK_VERSITYGW, ./.bin or PATH)")
}

func moduleRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func start(t testing.TB, bin, data, meta string) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", addr, "--region", region, "--quiet", "posix", "--sidecar", meta, data)
	// Only what versitygw needs: no VGW_* setting of the developer's may
	// change what the tests prove.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"ROOT_ACCESS_KEY=" + accessKey, "ROOT_SECRET_KEY=" + secretKey}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}

	client, err := minio.New(addr, &minio.Options{
		Creds: credentials.NewStaticV4(accessKey, secretKey, ""), Region: region, BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		stop()
		return nil, err
	}
	// Ready when it creates the bucket; give it 30 s on a busy machine.
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-exited:
			return nil, fmt.Errorf("versitygw exited: %s", out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = client.MakeBucket(ctx, bucket, minio.MakeBucketOptions{Region: region})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("versitygw did not answer on %s: %v\n%s", addr, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Cleanup(stop)
	return &Server{
		Endpoint: "http://" + addr, Region: region, Bucket: bucket,
		AccessKey: accessKey, SecretKey: secretKey, Client: client,
	}, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

type lockedBuffer struct {
	mu sync.Mutex
	sb strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sb.String()
}
