package s3store_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/s3store"
	"github.com/miniback/miniback/adapters/s3store/s3test"
	"github.com/miniback/miniback/adapters/storagetest"
	"github.com/miniback/miniback/domain"
)

// These tests run against a real S3-compatible server (versitygw), which
// checks POST policies and SigV4 signatures as S3 does.

func newStore(t *testing.T, srv *s3test.Server) *s3store.Store {
	t.Helper()
	s, err := s3store.New(s3store.Config{
		Endpoint: srv.Endpoint, Region: srv.Region, Bucket: srv.Bucket,
		AccessKey: srv.AccessKey, SecretKey: srv.SecretKey, PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var hc = &http.Client{Timeout: 10 * time.Second}

func send(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	status, body, err := storagetest.Send(hc, req)
	if err != nil {
		t.Fatal(err)
	}
	return status, body
}

func ticket(t *testing.T, s *s3store.Store, spec domain.ObjectSpec, expires time.Time) domain.UploadTicket {
	t.Helper()
	tk, err := s.PresignUpload(context.Background(), spec, expires)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func with(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for a, b := range m {
		out[a] = b
	}
	out[k] = v
	return out
}

func TestPostPolicyStoresExactlyTheFileTheTicketDescribes(t *testing.T) {
	srv := s3test.Start(t)
	s := newStore(t, srv)
	ctx := context.Background()
	spec := domain.ObjectSpec{Key: "avatar/a.png", ContentType: "image/png", Size: 1000}
	tk := ticket(t, s, spec, time.Now().Add(10*time.Minute))

	// Refused first, so that nothing is stored before the good upload.
	refused := []struct {
		name   string
		fields map[string]string
		size   int
		status int
		code   string
	}{
		{"a file over the size", tk.Fields, 1001, http.StatusBadRequest, "EntityTooLarge"},
		{"a file under the size", tk.Fields, 999, http.StatusBadRequest, "EntityTooSmall"},
		{"another content type", with(tk.Fields, "Content-Type", "image/jpeg"), 1000, http.StatusForbidden, "AccessDenied"},
		{"another key", with(tk.Fields, "key", "avatar/other.png"), 1000, http.StatusForbidden, "AccessDenied"},
		{"a forged signature", with(tk.Fields, "x-amz-signature", strings.Repeat("0", 64)), 1000, http.StatusForbidden, "SignatureDoesNotMatch"},
	}
	for _, r := range refused {
		t.Run("refuses "+r.name, func(t *testing.T) {
			status, body := send(t, storagetest.WxUploadFile(tk.URL, r.fields, domain.FileField, "tmp.png", "image/png", storagetest.Bytes(r.size)))
			if status != r.status || !strings.Contains(body, r.code) {
				t.Errorf("got %d %s, want %d %s", status, body, r.status, r.code)
			}
		})
	}
	if _, err := s.StatObject(ctx, spec.Key); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("after refused uploads, stat = %v; want not_found", err)
	}
	if _, err := s.StatObject(ctx, "avatar/other.png"); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("a refused key was stored: %v", err)
	}

	// wx.uploadFile labels the file part from its extension; the policy's
	// Content-Type field is what the object gets.
	status, body := send(t, storagetest.WxUploadFile(tk.URL, tk.Fields, domain.FileField, "wxfile://tmp_1.png", "application/octet-stream", storagetest.Bytes(1000)))
	if status != http.StatusNoContent {
		t.Fatalf("upload: %d %s", status, body)
	}
	info, err := s.StatObject(ctx, spec.Key)
	if err != nil {
		t.Fatal(err)
	}
	if info != (domain.ObjectInfo{Size: 1000, ContentType: "image/png"}) {
		t.Errorf("stat = %+v", info)
	}
}

func TestPresignedPutSignsTheContentTypeAndTheSize(t *testing.T) {
	srv := s3test.Start(t)
	s := newStore(t, srv)
	ctx := context.Background()
	spec := domain.ObjectSpec{Key: "attachment/b.pdf", ContentType: "application/pdf", Size: 500}
	tk := ticket(t, s, spec, time.Now().Add(10*time.Minute))
	if tk.PutHeaders["Content-Type"] != "application/pdf" {
		t.Errorf("put headers = %v", tk.PutHeaders)
	}

	if status, body := send(t, storagetest.Put(tk.PutURL, tk.PutHeaders, storagetest.Bytes(501))); status != http.StatusForbidden {
		t.Errorf("PUT of a larger file: %d %s", status, body)
	}
	if status, body := send(t, storagetest.Put(tk.PutURL, map[string]string{"Content-Type": "text/plain"}, storagetest.Bytes(500))); status != http.StatusForbidden {
		t.Errorf("PUT with another content type: %d %s", status, body)
	}
	if _, err := s.StatObject(ctx, spec.Key); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("a refused PUT was stored: %v", err)
	}
	if status, body := send(t, storagetest.Put(tk.PutURL, tk.PutHeaders, storagetest.Bytes(500))); status != http.StatusOK {
		t.Fatalf("PUT: %d %s", status, body)
	}
	info, err := s.StatObject(ctx, spec.Key)
	if err != nil || info != (domain.ObjectInfo{Size: 500, ContentType: "application/pdf"}) {
		t.Errorf("stat = %+v, %v", info, err)
	}
}

func TestExpiredTicketsAreRefusedByTheStorage(t *testing.T) {
	srv := s3test.Start(t)
	s := newStore(t, srv)
	spec := domain.ObjectSpec{Key: "avatar/c.jpg", ContentType: "image/jpeg", Size: 10}

	t.Run("POST policy", func(t *testing.T) {
		tk := ticket(t, s, spec, time.Now().Add(-time.Minute))
		status, body := send(t, storagetest.WxUploadFile(tk.URL, tk.Fields, domain.FileField, "c.jpg", "image/jpeg", storagetest.Bytes(10)))
		if status != http.StatusForbidden || !strings.Contains(body, "AccessDenied") {
			t.Errorf("got %d %s", status, body)
		}
	})
	t.Run("presigned PUT", func(t *testing.T) {
		// SigV4 presigns last whole seconds from their signing time, so
		// the shortest ticket is one second: wait until it has passed.
		tk := ticket(t, s, spec, time.Now().Add(time.Second))
		time.Sleep(2100 * time.Millisecond)
		status, body := send(t, storagetest.Put(tk.PutURL, tk.PutHeaders, storagetest.Bytes(10)))
		if status != http.StatusForbidden {
			t.Errorf("got %d %s", status, body)
		}
	})
	if _, err := s.StatObject(context.Background(), spec.Key); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("an expired ticket stored the object: %v", err)
	}
}

func TestDownloadURLServesTheObjectAndDeleteRemovesIt(t *testing.T) {
	srv := s3test.Start(t)
	s := newStore(t, srv)
	ctx := context.Background()
	spec := domain.ObjectSpec{Key: "attachment/d.txt", ContentType: "text/plain", Size: 26}
	tk := ticket(t, s, spec, time.Now().Add(time.Minute))
	if status, body := send(t, storagetest.Put(tk.PutURL, tk.PutHeaders, storagetest.Bytes(26))); status != http.StatusOK {
		t.Fatalf("PUT: %d %s", status, body)
	}

	dl, err := s.DownloadURL(ctx, spec.Key, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	res, err := hc.Get(dl)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || string(got) != string(storagetest.Bytes(26)) || res.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("download: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), got)
	}
	tampered := strings.Replace(dl, "d.txt", "e.txt", 1)
	if res, err := hc.Get(tampered); err != nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("download with a URL signed for another key: %v %v", res.StatusCode, err)
	}

	if err := s.DeleteObject(ctx, spec.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StatObject(ctx, spec.Key); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("stat after delete = %v", err)
	}
	if err := s.DeleteObject(ctx, spec.Key); err != nil {
		t.Errorf("deleting a missing object: %v", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("check: %v", err)
	}
}

// TestVirtualHostStyleTicketsNameTheBucketDomain shows the URLs a Tencent
// COS configuration gives clients: the bucket domain the mini-program
// console must whitelist. Presigning makes no request.
func TestVirtualHostStyleTicketsNameTheBucketDomain(t *testing.T) {
	s, err := s3store.New(s3store.Config{
		Endpoint: "https://cos.ap-shanghai.myqcloud.com", Region: "ap-shanghai", Bucket: "photos-1250000000",
		AccessKey: "AKIDEXAMPLE", SecretKey: "secret",
	})
	if err != nil {
		t.Fatal(err)
	}
	tk := ticket(t, s, domain.ObjectSpec{Key: "avatar/f.jpg", ContentType: "image/jpeg", Size: 1}, time.Now().Add(time.Minute))
	for name, raw := range map[string]string{"POST url": tk.URL, "PUT url": tk.PutURL} {
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Host != "photos-1250000000.cos.ap-shanghai.myqcloud.com" {
			t.Errorf("%s = %s", name, raw)
		}
	}
	if !strings.HasPrefix(tk.Fields["x-amz-credential"], "AKIDEXAMPLE/") || !strings.Contains(tk.Fields["x-amz-credential"], "/ap-shanghai/s3/") {
		t.Errorf("credential field = %q", tk.Fields["x-amz-credential"])
	}
	for _, secret := range []string{"secret"} {
		for k, v := range tk.Fields {
			if v == secret {
				t.Errorf("field %s carries the secret key", k)
			}
		}
	}
}

func TestPublicBaseURLMakesPlainDownloadURLs(t *testing.T) {
	s, err := s3store.New(s3store.Config{
		Endpoint: "cos.ap-guangzhou.myqcloud.com", Region: "ap-guangzhou", Bucket: "b-1", AccessKey: "a", SecretKey: "s",
		PublicBaseURL: "https://cdn.example.com/",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.DownloadURL(context.Background(), "attachment/a b.pdf", time.Now().Add(time.Minute))
	if err != nil || got != "https://cdn.example.com/attachment/a%20b.pdf" {
		t.Errorf("download url = %q, %v", got, err)
	}
}

func TestUnreachableStorageIsUnavailable(t *testing.T) {
	s, err := s3store.New(s3store.Config{
		Endpoint: "http://127.0.0.1:1", Region: "us-east-1", Bucket: "bucket", AccessKey: "a", SecretKey: "s", PathStyle: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StatObject(context.Background(), "k"); domain.ErrorCode(err) != domain.CodeUnavailable {
		t.Errorf("stat = %v; want unavailable", err)
	}
}

func TestNewRefusesIncompleteConfiguration(t *testing.T) {
	base := s3store.Config{Endpoint: "https://s3.example.com", Region: "r", Bucket: "b", AccessKey: "a", SecretKey: "s"}
	tests := map[string]func(*s3store.Config){
		"endpoint with a path": func(c *s3store.Config) { c.Endpoint = "https://s3.example.com/bucket" },
		"ftp endpoint":         func(c *s3store.Config) { c.Endpoint = "ftp://s3.example.com" },
		"no region":            func(c *s3store.Config) { c.Region = "" },
		"no bucket":            func(c *s3store.Config) { c.Bucket = "" },
		"no secret key":        func(c *s3store.Config) { c.SecretKey = "" },
		"relative public URL":  func(c *s3store.Config) { c.PublicBaseURL = "cdn.example.com" },
	}
	for name, change := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := base
			change(&cfg)
			if _, err := s3store.New(cfg); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// BenchmarkPresignUpload measures a ticket (a POST policy and a presigned
// PUT): pure signing, no request to the storage.
func BenchmarkPresignUpload(b *testing.B) {
	s, err := s3store.New(s3store.Config{
		Endpoint: "https://cos.ap-shanghai.myqcloud.com", Region: "ap-shanghai", Bucket: "photos-1250000000",
		AccessKey: "AKIDEXAMPLE", SecretKey: "secret",
	})
	if err != nil {
		b.Fatal(err)
	}
	spec := domain.ObjectSpec{Key: "avatar/0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f.jpg", ContentType: "image/jpeg", Size: 48213}
	ctx := context.Background()
	expires := time.Now().Add(15 * time.Minute)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.PresignUpload(ctx, spec, expires); err != nil {
			b.Fatal(err)
		}
	}
}

func TestServerSideObjectsRoundTripInTheBucket(t *testing.T) {
	srv := s3test.Start(t)
	storagetest.ObjectBytesSuite(t, newStore(t, srv))
}
