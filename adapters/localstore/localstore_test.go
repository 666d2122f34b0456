package localstore_test

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/adapters/storagetest"
	"github.com/miniback/miniback/domain"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

var start = time.Date(2026, 4, 1, 10, 0, 0, 0, time.UTC)

func newStore(t *testing.T) (*localstore.Store, *clock) {
	t.Helper()
	c := &clock{t: start}
	s, err := localstore.New(localstore.Config{Dir: t.TempDir(), URL: "http://localhost:8080/v1/local-storage", Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, c
}

func signed(tk domain.UploadTicket) localstore.SignedUpload {
	f := tk.Fields
	return localstore.SignedUpload{Key: f["key"], ContentType: f["Content-Type"], SizeRange: f["size_range"], Expires: f["expires"], Signature: f["signature"]}
}

func presign(t *testing.T, s *localstore.Store, spec domain.ObjectSpec, expires time.Time) domain.UploadTicket {
	t.Helper()
	tk, err := s.PresignUpload(context.Background(), spec, expires)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestTicketFieldsAndPutQueryCarryTheSameSignedTicket(t *testing.T) {
	s, _ := newStore(t)
	spec := domain.ObjectSpec{Key: "avatar/a.png", ContentType: "image/png", Size: 10}
	tk := presign(t, s, spec, start.Add(time.Minute))
	if tk.URL != "http://localhost:8080/v1/local-storage" || tk.PutHeaders["Content-Type"] != "image/png" || !tk.ExpiresAt.Equal(start.Add(time.Minute)) {
		t.Errorf("ticket %+v", tk)
	}
	u, err := url.Parse(tk.PutURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	put := localstore.SignedUpload{Key: q.Get("key"), ContentType: q.Get("content_type"), SizeRange: q.Get("size_range"), Expires: q.Get("expires"), Signature: q.Get("signature")}
	if put != signed(tk) {
		t.Errorf("PUT query %+v differs from the POST fields %+v", put, signed(tk))
	}
}

func TestReceiveStoresOnlyWhatTheTicketAllows(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	spec := domain.ObjectSpec{Key: "attachment/b.txt", ContentType: "text/plain", Size: 5}
	tk := presign(t, s, spec, start.Add(time.Minute))
	good := signed(tk)

	tests := []struct {
		name string
		t    localstore.SignedUpload
		ct   string
		body io.Reader
		code domain.Code
	}{
		{"a longer body", good, "text/plain", strings.NewReader("123456"), domain.CodeUploadSizeMismatch},
		{"a shorter body", good, "text/plain", strings.NewReader("1234"), domain.CodeUploadSizeMismatch},
		{"another content type", good, "text/html", strings.NewReader("12345"), domain.CodeUploadTypeMismatch},
		{"a changed key", with(good, func(u *localstore.SignedUpload) { u.Key = "attachment/c.txt" }), "text/plain", strings.NewReader("12345"), domain.CodeUploadTicketBad},
		{"a widened size range", with(good, func(u *localstore.SignedUpload) { u.SizeRange = "1-100" }), "text/plain", strings.NewReader("12345"), domain.CodeUploadTicketBad},
		{"a later expiry", with(good, func(u *localstore.SignedUpload) { u.Expires = "99999999999" }), "text/plain", strings.NewReader("12345"), domain.CodeUploadTicketBad},
		{"a body cut short", good, "text/plain", iotest.ErrReader(io.ErrUnexpectedEOF), domain.CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Receive(ctx, tt.t, tt.ct, tt.body); domain.ErrorCode(err) != tt.code {
				t.Fatalf("Receive = %v, want %s", err, tt.code)
			}
		})
	}
	if _, err := s.StatObject(ctx, spec.Key); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("a refused body was stored: %v", err)
	}
	assertNoTemporaryFiles(t, s.Dir())

	c.t = start.Add(2 * time.Minute)
	if err := s.Receive(ctx, good, "text/plain", strings.NewReader("12345")); domain.ErrorCode(err) != domain.CodeUploadTicketOld {
		t.Fatalf("expired ticket: %v", err)
	}
	c.t = start
	if err := s.Receive(ctx, good, "text/plain; charset=utf-8", strings.NewReader("12345")); err != nil {
		t.Fatal(err)
	}
	info, err := s.StatObject(ctx, spec.Key)
	if err != nil || info != (domain.ObjectInfo{Size: 5, ContentType: "text/plain"}) {
		t.Errorf("stat = %+v, %v", info, err)
	}
}

func TestDownloadURLOpensOnlyItsObjectUntilItExpires(t *testing.T) {
	s, c := newStore(t)
	ctx := context.Background()
	for _, key := range []string{"attachment/d.txt", "attachment/e.txt"} {
		tk := presign(t, s, domain.ObjectSpec{Key: key, ContentType: "text/plain", Size: 3}, start.Add(time.Minute))
		if err := s.Receive(ctx, signed(tk), "text/plain", strings.NewReader(key[11:14])); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := s.DownloadURL(ctx, "attachment/d.txt", start.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(raw)
	q := u.Query()
	d := localstore.SignedDownload{Key: q.Get("key"), Expires: q.Get("expires"), Signature: q.Get("signature")}
	r, info, err := s.Open(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "d.t" || info.ContentType != "text/plain" {
		t.Errorf("opened %q %+v", got, info)
	}
	d.Key = "attachment/e.txt"
	if _, _, err := s.Open(ctx, d); domain.ErrorCode(err) != domain.CodeUploadTicketBad {
		t.Errorf("another key with this signature: %v", err)
	}
	d.Key = "attachment/d.txt"
	c.t = start.Add(2 * time.Minute)
	if _, _, err := s.Open(ctx, d); domain.ErrorCode(err) != domain.CodeUploadTicketOld {
		t.Errorf("expired download: %v", err)
	}
}

func TestDeleteRemovesTheObjectAndIgnoresAMissingOne(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	tk := presign(t, s, domain.ObjectSpec{Key: "avatar/f.png", ContentType: "image/png", Size: 1}, start.Add(time.Minute))
	if err := s.Receive(ctx, signed(tk), "image/png", bytes.NewReader([]byte{1})); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.DeleteObject(ctx, "avatar/f.png"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.StatObject(ctx, "avatar/f.png"); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("stat after delete: %v", err)
	}
}

func TestKeysCannotLeaveTheStorageDirectory(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, key := range []string{"../escape", "/etc/passwd", "a/../../b", "a//b", "", ".hidden", "a/.tmp-x", `a\b`} {
		if _, err := s.PresignUpload(ctx, domain.ObjectSpec{Key: key, ContentType: "text/plain", Size: 1}, start.Add(time.Minute)); err == nil {
			t.Errorf("presigned key %q", key)
		}
		if _, err := s.StatObject(ctx, key); err == nil || domain.ErrorCode(err) == domain.CodeNotFound {
			t.Errorf("stat of key %q: %v", key, err)
		}
	}
}

func TestNewRefusesABadURLOrAShortSecret(t *testing.T) {
	dir := t.TempDir()
	for _, cfg := range []localstore.Config{
		{Dir: dir, URL: "/v1/local-storage"},
		{Dir: dir, URL: "http://localhost/v1/local-storage?x=1"},
		{Dir: dir, URL: "http://localhost/v1/local-storage", Secret: []byte("short")},
	} {
		if _, err := localstore.New(cfg); err == nil {
			t.Errorf("accepted %+v", cfg)
		}
	}
}

func with(u localstore.SignedUpload, change func(*localstore.SignedUpload)) localstore.SignedUpload {
	change(&u)
	return u
}

func assertNoTemporaryFiles(t *testing.T, dir string) {
	t.Helper()
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasPrefix(info.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// BenchmarkReceive1MiB measures the local storage taking a 1 MiB file:
// signature check, streaming to a temporary file, fsync and rename.
func BenchmarkReceive1MiB(b *testing.B) {
	c := &clock{t: start}
	s, err := localstore.New(localstore.Config{Dir: b.TempDir(), URL: "http://localhost:8080/v1/local-storage", Clock: c})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	data := bytes.Repeat([]byte("x"), 1<<20)
	ctx := context.Background()
	tk, err := s.PresignUpload(ctx, domain.ObjectSpec{Key: "attachment/bench.txt", ContentType: "text/plain", Size: int64(len(data))}, start.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Receive(ctx, signed(tk), "text/plain", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestServerSideObjectsRoundTripOnDisk(t *testing.T) {
	s, _ := newStore(t)
	storagetest.ObjectBytesSuite(t, s)
}

func TestServerSideObjectsRefuseKeysOutsideTheDirectory(t *testing.T) {
	s, _ := newStore(t)
	for _, key := range []string{"../escape", "/abs", "a/../../b", ".hidden"} {
		if err := s.PutObject(context.Background(), key, "image/png", []byte("x")); err == nil {
			t.Errorf("PutObject(%q) succeeded", key)
		}
		if _, _, err := s.GetObject(context.Background(), key, 10); err == nil {
			t.Errorf("GetObject(%q) succeeded", key)
		}
	}
}
