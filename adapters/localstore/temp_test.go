package localstore_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/domain"
)

// writeAged writes a file under dir last modified at mtime.
func writeAged(t *testing.T, dir, rel string, mtime time.Time) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("partial"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	return p
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestRemoveStaleTempRemovesOnlyTemporaryFilesOlderThanTheCutoff: the
// clean-up at start removes the temporary files a killed process left,
// at any depth, and nothing else: not a fresh one (a write in progress),
// not an object however old.
func TestRemoveStaleTempRemovesOnlyTemporaryFilesOlderThanTheCutoff(t *testing.T) {
	s, _ := newStore(t)
	now := time.Now()
	cutoff := now.Add(-time.Hour)
	stale := []string{
		writeAged(t, s.Dir(), "objects/attachment/u1/.tmp-left-by-a-kill", now.Add(-2*time.Hour)),
		writeAged(t, s.Dir(), "meta/avatar/u2/.tmp-meta", now.Add(-25*time.Hour)),
	}
	kept := []string{
		writeAged(t, s.Dir(), "objects/attachment/u1/.tmp-being-written", now.Add(-time.Minute)),
		writeAged(t, s.Dir(), "objects/attachment/u1/an-old-object", now.Add(-48*time.Hour)),
		writeAged(t, s.Dir(), "meta/attachment/u1/an-old-object.json", now.Add(-48*time.Hour)),
	}

	n, err := s.RemoveStaleTemp(cutoff)
	if err != nil || n != len(stale) {
		t.Fatalf("RemoveStaleTemp = %d, %v; want %d, nil", n, err, len(stale))
	}
	for _, p := range stale {
		if exists(p) {
			t.Errorf("stale temporary file kept: %s", p)
		}
	}
	for _, p := range kept {
		if !exists(p) {
			t.Errorf("removed: %s", p)
		}
	}
}

// stalledBody hands out part of a file, then blocks until released, as a
// client's slow upload does.
type stalledBody struct {
	first   []byte
	rest    []byte
	stalled chan struct{} // closed when the first part has been read
	release chan struct{}
}

func newStalledBody(data []byte, at int) *stalledBody {
	return &stalledBody{first: data[:at], rest: data[at:], stalled: make(chan struct{}), release: make(chan struct{})}
}

func (b *stalledBody) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	select {
	case <-b.stalled:
	default:
		close(b.stalled)
	}
	<-b.release
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), ".tmp-") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestASecondProcessOnTheDirectoryLeavesAnUploadInProgressAlone: a second
// store opened on the same directory (another process starting) runs the
// start-up clean-up while the first is halfway through an upload; the
// upload's temporary file is fresh, so it stays, and the upload completes.
func TestASecondProcessOnTheDirectoryLeavesAnUploadInProgressAlone(t *testing.T) {
	first, _ := newStore(t)
	data := []byte("0123456789")
	tk := presign(t, first, domain.ObjectSpec{Key: "attachment/u1/slow.txt", ContentType: "text/plain", Size: int64(len(data))}, start.Add(time.Hour))
	body := newStalledBody(data, 4)
	done := make(chan error, 1)
	go func() { done <- first.Receive(context.Background(), signed(tk), "text/plain", body) }()
	<-body.stalled
	if got := tempFiles(t, first.Dir()); len(got) != 1 {
		t.Fatalf("temporary files during the upload: %v; want one", got)
	}

	second, err := localstore.New(localstore.Config{Dir: first.Dir(), URL: "http://localhost:8080/v1/local-storage"})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	// The cut-off a process passes: the longest an upload may last.
	if n, err := second.RemoveStaleTemp(time.Now().Add(-5 * time.Minute)); err != nil || n != 0 {
		t.Fatalf("the second process removed %d files (%v) during the first one's upload", n, err)
	}

	close(body.release)
	if err := <-done; err != nil {
		t.Fatalf("the first process's upload: %v", err)
	}
	if info, err := first.StatObject(context.Background(), "attachment/u1/slow.txt"); err != nil || info.Size != int64(len(data)) {
		t.Fatalf("stat after the upload: %+v, %v", info, err)
	}
	assertNoTemporaryFiles(t, first.Dir())
}

// abortingBody hands out part of a file, then fails as a client that hung
// up does.
type abortingBody struct{ first []byte }

func (b *abortingBody) Read(p []byte) (int, error) {
	if len(b.first) == 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, b.first)
	b.first = b.first[n:]
	return n, nil
}

// lateBody hands out part of a file, then the rest only once ctx has
// ended: the request's deadline passes while the file is on its way.
type lateBody struct {
	ctx   context.Context
	parts [][]byte
}

func (b *lateBody) Read(p []byte) (int, error) {
	if len(b.parts) == 0 {
		return 0, io.EOF
	}
	if len(b.parts) == 1 {
		<-b.ctx.Done()
	}
	n := copy(p, b.parts[0])
	b.parts = b.parts[1:]
	return n, nil
}

// TestAFailedUploadLeavesNoTemporaryFile: every way a write can fail
// after its temporary file exists (the client hanging up, the request's
// deadline passing, the disk refusing) removes the file, and stores no
// object.
func TestAFailedUploadLeavesNoTemporaryFile(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, s *localstore.Store, u localstore.SignedUpload) error
		code domain.Code
	}{
		{"the client hangs up", func(t *testing.T, s *localstore.Store, u localstore.SignedUpload) error {
			return s.Receive(context.Background(), u, "text/plain", &abortingBody{first: []byte("0123")})
		}, domain.CodeInvalid},
		{"the deadline passes", func(t *testing.T, s *localstore.Store, u localstore.SignedUpload) error {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			err := s.Receive(ctx, u, "text/plain", &lateBody{ctx: ctx, parts: [][]byte{[]byte("0123"), []byte("456789")}})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("the error does not say the deadline passed: %v", err)
			}
			return err
		}, domain.CodeInvalid},
		{"the disk refuses the metadata", func(t *testing.T, s *localstore.Store, u localstore.SignedUpload) error {
			// A directory where the metadata file goes: the rename onto it
			// fails after both temporary files were written.
			if err := os.MkdirAll(filepath.Join(s.Dir(), "meta", "attachment", "u1", "f.txt.json", "x"), 0o750); err != nil {
				t.Fatal(err)
			}
			return s.Receive(context.Background(), u, "text/plain", strings.NewReader("0123456789"))
		}, domain.CodeInternal},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := newStore(t)
			tk := presign(t, s, domain.ObjectSpec{Key: "attachment/u1/f.txt", ContentType: "text/plain", Size: 10}, start.Add(time.Hour))
			err := tc.run(t, s, signed(tk))
			if err == nil || domain.ErrorCode(err) != tc.code {
				t.Fatalf("Receive = %v, want %s", err, tc.code)
			}
			assertNoTemporaryFiles(t, s.Dir())
			if _, err := s.StatObject(context.Background(), "attachment/u1/f.txt"); domain.ErrorCode(err) != domain.CodeNotFound {
				t.Errorf("an object was stored: %v", err)
			}
		})
	}
}
