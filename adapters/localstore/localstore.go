// Package localstore keeps uploaded files on the local disk, the
// development default. Its tickets point at the API server itself (the
// /v1/local-storage endpoint), which checks an HMAC signature over the key,
// the content type, the size range and the expiry before it writes a byte,
// so the client code written for S3 POST policies works unchanged.
//
// Objects live under <dir>/objects/<key>; each one's content type under
// <dir>/meta/<key>.json. All file access goes through an os.Root, so no key
// can reach outside dir.
package localstore

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.ObjectStorage = (*Store)(nil)

// Config configures a Store.
type Config struct {
	// Dir holds the files; it is created if missing.
	Dir string
	// URL is the absolute URL of the API server's local-storage endpoint,
	// e.g. http://localhost:8080/v1/local-storage.
	URL string
	// Secret signs tickets and download URLs; at least 32 bytes. Empty
	// makes a random one, which a restart replaces (outstanding tickets and
	// download URLs stop working; avatar links do not, they are re-signed
	// on each visit).
	Secret []byte
	// Clock tells the time; nil is the wall clock.
	Clock ports.Clock
}

// Store is the local-disk object storage.
type Store struct {
	root   *os.Root
	dir    string
	url    string
	secret []byte
	clock  ports.Clock
}

// New opens (creating if needed) the storage directory.
func New(cfg Config) (*Store, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("localstore: URL %q is not an absolute http(s) URL without a query", cfg.URL)
	}
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret) // never fails (crypto/rand)
	}
	if len(secret) < 32 {
		return nil, errors.New("localstore: the secret must be at least 32 bytes")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	for _, sub := range []string{"objects", "meta"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o750); err != nil {
			return nil, fmt.Errorf("localstore: create storage directory: %w", err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("localstore: open storage directory: %w", err)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = wallClock{}
	}
	return &Store{root: root, dir: dir, url: cfg.URL, secret: secret, clock: clock}, nil
}

// wallClock is the default clock.
type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// Dir is the absolute storage directory.
func (s *Store) Dir() string { return s.dir }

// Close releases the storage directory.
func (s *Store) Close() error { return s.root.Close() }

// PresignUpload returns a ticket for the API server's local-storage
// endpoint: the POST form fields and the PUT query carry the object's key,
// content type and size range, the expiry and their signature.
func (s *Store) PresignUpload(_ context.Context, spec domain.ObjectSpec, expires time.Time) (domain.UploadTicket, error) {
	if err := checkKey(spec.Key); err != nil {
		return domain.UploadTicket{}, err
	}
	sizeRange := fmt.Sprintf("%d-%d", spec.Size, spec.Size)
	exp := strconv.FormatInt(expires.Unix(), 10)
	sig := s.sign("upload", spec.Key, spec.ContentType, sizeRange, exp)
	q := url.Values{
		"key": {spec.Key}, "content_type": {spec.ContentType}, "size_range": {sizeRange},
		"expires": {exp}, "signature": {sig},
	}
	return domain.UploadTicket{
		URL: s.url,
		Fields: map[string]string{
			"key": spec.Key, "Content-Type": spec.ContentType, "size_range": sizeRange,
			"expires": exp, "signature": sig,
		},
		PutURL:     s.url + "?" + q.Encode(),
		PutHeaders: map[string]string{"Content-Type": spec.ContentType},
		ExpiresAt:  time.Unix(expires.Unix(), 0).UTC(),
	}, nil
}

// DownloadURL returns a signed GET URL of the local-storage endpoint.
func (s *Store) DownloadURL(_ context.Context, key string, expires time.Time) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{"key": {key}, "expires": {exp}, "signature": {s.sign("download", key, exp)}}
	return s.url + "?" + q.Encode(), nil
}

// meta is what the disk keeps beside an object.
type meta struct {
	ContentType string `json:"content_type"`
}

// StatObject reports the stored size and content type, or CodeNotFound.
func (s *Store) StatObject(_ context.Context, key string) (domain.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return domain.ObjectInfo{}, err
	}
	fi, err := s.root.Stat(objectPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return domain.ObjectInfo{}, &domain.Error{Code: domain.CodeNotFound, Message: "No such object.", Err: err}
	}
	if err != nil {
		return domain.ObjectInfo{}, fmt.Errorf("localstore: stat: %w", err)
	}
	ct, err := s.contentType(key)
	if err != nil {
		return domain.ObjectInfo{}, err
	}
	return domain.ObjectInfo{Size: fi.Size(), ContentType: ct}, nil
}

// DeleteObject removes the object and its metadata; a missing one is no
// error.
func (s *Store) DeleteObject(_ context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	for _, p := range []string{objectPath(key), metaPath(key)} {
		if err := s.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("localstore: delete: %w", err)
		}
	}
	return nil
}

// Receive checks the ticket and stores body as its object. Nothing is
// written before the signature, the expiry and the content type have
// been checked; the body goes to a temporary file, read no further than the
// ticket's maximum, and becomes the object only when its size is in range.
func (s *Store) Receive(ctx context.Context, t SignedUpload, contentType string, body io.Reader) error {
	if !s.verify(t.Signature, "upload", t.Key, t.ContentType, t.SizeRange, t.Expires) {
		return ticketInvalid()
	}
	if err := s.checkExpiry(t.Expires); err != nil {
		return err
	}
	minSize, maxSize, ok := parseRange(t.SizeRange)
	if !ok || checkKey(t.Key) != nil {
		return ticketInvalid() // signed by us, so never; but never trust
	}
	if got, err := domain.NormalizeContentType(contentType); err != nil || got != t.ContentType {
		return domain.Errorf(domain.CodeUploadTypeMismatch, "The file must be sent as %s, as the ticket says.", t.ContentType)
	}

	if err := s.root.MkdirAll(path.Dir(objectPath(t.Key)), 0o750); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	if err := s.root.MkdirAll(path.Dir(metaPath(t.Key)), 0o750); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	tmp := path.Join(path.Dir(objectPath(t.Key)), tempPrefix+randomName())
	f, err := s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	// Every way out but the rename removes the temporary file: a refused
	// or cut body, a passed deadline, a disk error. Only a process killed
	// mid-write leaves one, for RemoveStaleTemp at the next start.
	keep := false
	defer func() {
		if !keep {
			_ = f.Close()
			_ = s.root.Remove(tmp)
		}
	}()
	src := &clientReader{ctx: ctx, r: body}
	n, err := io.Copy(f, io.LimitReader(src, maxSize+1))
	if src.err != nil {
		// The client's side: a body cut short, over the request limit, or
		// a client gone away.
		return &domain.Error{Code: domain.CodeInvalid, Message: "The file could not be read completely.", Err: src.err}
	}
	if err != nil {
		return fmt.Errorf("localstore: write: %w", err)
	}
	if n < minSize || n > maxSize {
		return domain.Errorf(domain.CodeUploadSizeMismatch, "The file must be %s bytes, as the ticket says.", strings.ReplaceAll(t.SizeRange, "-", " to "))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	m, _ := json.Marshal(meta{ContentType: t.ContentType}) // cannot fail
	if err := s.writeFile(metaPath(t.Key), m); err != nil {
		return err
	}
	if err := s.root.Rename(tmp, objectPath(t.Key)); err != nil {
		return fmt.Errorf("localstore: %w", err)
	}
	keep = true
	return nil
}

// Open checks a signed download and opens its object.
func (s *Store) Open(_ context.Context, d SignedDownload) (io.ReadCloser, domain.ObjectInfo, error) {
	if !s.verify(d.Signature, "download", d.Key, d.Expires) || checkKey(d.Key) != nil {
		return nil, domain.ObjectInfo{}, ticketInvalid()
	}
	if err := s.checkExpiry(d.Expires); err != nil {
		return nil, domain.ObjectInfo{}, err
	}
	f, err := s.root.Open(objectPath(d.Key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, domain.ObjectInfo{}, &domain.Error{Code: domain.CodeNotFound, Message: "The file does not exist.", Err: err}
	}
	if err != nil {
		return nil, domain.ObjectInfo{}, fmt.Errorf("localstore: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, domain.ObjectInfo{}, fmt.Errorf("localstore: %w", err)
	}
	ct, err := s.contentType(d.Key)
	if err != nil {
		_ = f.Close()
		return nil, domain.ObjectInfo{}, err
	}
	return f, domain.ObjectInfo{Size: fi.Size(), ContentType: ct}, nil
}

func (s *Store) contentType(key string) (string, error) {
	b, err := s.root.ReadFile(metaPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return "application/octet-stream", nil
	}
	if err != nil {
		return "", fmt.Errorf("localstore: read metadata: %w", err)
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil || m.ContentType == "" {
		return "application/octet-stream", nil
	}
	return m.ContentType, nil
}

// writeFile replaces name atomically.
func (s *Store) writeFile(name string, data []byte) error {
	tmp := path.Join(path.Dir(name), tempPrefix+randomName())
	if err := s.root.WriteFile(tmp, data, 0o640); err != nil {
		_ = s.root.Remove(tmp) // a partial write (a full disk) leaves a file
		return fmt.Errorf("localstore: %w", err)
	}
	if err := s.root.Rename(tmp, name); err != nil {
		_ = s.root.Remove(tmp)
		return fmt.Errorf("localstore: %w", err)
	}
	return nil
}

func (s *Store) checkExpiry(exp string) error {
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return ticketInvalid()
	}
	if s.clock.Now().Unix() > unix {
		return domain.Errorf(domain.CodeUploadTicketOld, "The ticket has expired; ask for a new one.")
	}
	return nil
}

// sign is the HMAC-SHA256 of the purpose and parts, each length-prefixed
// so that no two different lists of parts sign alike.
func (s *Store) sign(parts ...string) string {
	mac := hmac.New(sha256.New, s.secret)
	for _, p := range parts {
		_, _ = fmt.Fprintf(mac, "%d:%s;", len(p), p)
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

func (s *Store) verify(sig string, parts ...string) bool {
	want := s.sign(parts...)
	return hmac.Equal([]byte(sig), []byte(want))
}

func ticketInvalid() *domain.Error {
	return domain.Errorf(domain.CodeUploadTicketBad, "The ticket's signature does not match; send the fields exactly as the ticket gave them.")
}

// checkKey accepts the keys miniback makes: clean relative slash paths.
func checkKey(key string) error {
	if key == "" || path.Clean(key) != key || !filepath.IsLocal(key) || strings.ContainsAny(key, `\:`) || strings.Contains(key, "/.") || strings.HasPrefix(key, ".") {
		return fmt.Errorf("localstore: %q is not a valid object key", key)
	}
	return nil
}

func objectPath(key string) string { return "objects/" + key }
func metaPath(key string) string   { return "meta/" + key + ".json" }

func parseRange(r string) (lo, hi int64, ok bool) {
	a, b, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseInt(a, 10, 64)
	hi, err2 := strconv.ParseInt(b, 10, 64)
	return lo, hi, err1 == nil && err2 == nil && lo >= 0 && lo <= hi
}

func randomName() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// clientReader reads the client's body, remembering a read failure (other
// than the end) so that it is not mistaken for a disk failure, and stops
// once ctx is done.
type clientReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (c *clientReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}
