// Package s3store keeps uploaded files in an S3-compatible bucket: Tencent
// COS, Aliyun OSS, MinIO, AWS S3 and the like. Clients send files straight
// to the bucket with a POST policy (the shape wx.uploadFile needs) or a
// presigned PUT; file bytes never pass through miniback. Signing is
// minio-go's.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

var _ ports.ObjectStorage = (*Store)(nil)

// Config configures a Store.
type Config struct {
	// Endpoint is the S3 API's base URL without the bucket, e.g.
	// https://cos.ap-shanghai.myqcloud.com; a bare host means https.
	Endpoint string
	// Region is the bucket's region, e.g. ap-shanghai. Required: it is
	// part of every signature, and with it no request asks the storage.
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket as <endpoint>/<bucket> (MinIO and
	// other self-hosted servers) instead of <bucket>.<endpoint host>
	// (virtual-host style: COS, OSS, AWS).
	PathStyle bool
	// PublicBaseURL, when set, makes download URLs <PublicBaseURL>/<key>,
	// unsigned: for a public-read bucket or a CDN in front of it. Empty
	// makes presigned GET URLs.
	PublicBaseURL string
	// Transport carries the requests to the storage; nil is the default.
	Transport http.RoundTripper
}

// Store is an S3-compatible bucket.
type Store struct {
	client *minio.Client
	bucket string
	public string
}

// New returns a Store. It makes no request: a wrong endpoint or key shows
// on the first upload (and in Check).
func New(cfg Config) (*Store, error) {
	host, secure, err := parseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.Region == "" || cfg.Bucket == "" || cfg.AccessKey == "" || cfg.SecretKey == "" {
		return nil, errors.New("s3store: region, bucket, access key and secret key are required")
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
		// minio-go's default of ten tries with backoff would hold an API
		// request for seconds when the storage is down.
		MaxRetries: 2,
	})
	if err != nil {
		return nil, fmt.Errorf("s3store: %w", err)
	}
	public := strings.TrimRight(cfg.PublicBaseURL, "/")
	if public != "" {
		if u, err := url.Parse(public); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3store: public base URL %q is not an http(s) URL", cfg.PublicBaseURL)
		}
	}
	return &Store{client: client, bucket: cfg.Bucket, public: public}, nil
}

// parseEndpoint splits an endpoint URL into minio-go's host and TLS flag.
func parseEndpoint(endpoint string) (host string, secure bool, err error) {
	if !strings.Contains(endpoint, "://") {
		endpoint = "https://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return "", false, fmt.Errorf("s3store: endpoint %q must be an http(s) URL with no path, e.g. https://cos.ap-shanghai.myqcloud.com", endpoint)
	}
	return u.Host, u.Scheme == "https", nil
}

// Check asks the storage whether the bucket exists and the credentials
// reach it, for a start-up or readiness check.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3store: bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3store: bucket %s does not exist", s.bucket)
	}
	return nil
}

// PresignUpload returns a POST policy whose conditions fix the key, the
// content type and the exact size, and a presigned PUT that signs the
// content type; the storage refuses any other file.
func (s *Store) PresignUpload(ctx context.Context, spec domain.ObjectSpec, expires time.Time) (domain.UploadTicket, error) {
	p := minio.NewPostPolicy()
	for _, err := range []error{
		p.SetBucket(s.bucket),
		p.SetKey(spec.Key),
		p.SetExpires(expires),
		p.SetContentType(spec.ContentType),
		p.SetContentLengthRange(spec.Size, spec.Size),
	} {
		if err != nil {
			return domain.UploadTicket{}, fmt.Errorf("s3store: post policy: %w", err)
		}
	}
	postURL, fields, err := s.client.PresignedPostPolicy(ctx, p)
	if err != nil {
		return domain.UploadTicket{}, fmt.Errorf("s3store: presign post policy: %w", err)
	}
	headers := http.Header{"Content-Type": {spec.ContentType}, "Content-Length": {strconv.FormatInt(spec.Size, 10)}}
	putURL, err := s.client.PresignHeader(ctx, http.MethodPut, s.bucket, spec.Key, ttlUntil(expires), nil, headers)
	if err != nil {
		return domain.UploadTicket{}, fmt.Errorf("s3store: presign put: %w", err)
	}
	return domain.UploadTicket{
		URL:        postURL.String(),
		Fields:     fields,
		PutURL:     putURL.String(),
		PutHeaders: map[string]string{"Content-Type": spec.ContentType},
		ExpiresAt:  expires.UTC().Truncate(time.Second),
	}, nil
}

// StatObject asks the storage for the object's size and content type.
func (s *Store) StatObject(ctx context.Context, key string) (domain.ObjectInfo, error) {
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		if isNotFound(err) {
			return domain.ObjectInfo{}, &domain.Error{Code: domain.CodeNotFound, Message: "No such object.", Err: err}
		}
		return domain.ObjectInfo{}, storageError("stat object", err)
	}
	return domain.ObjectInfo{Size: info.Size, ContentType: info.ContentType}, nil
}

// DeleteObject removes the object; S3 answers a missing one with success.
func (s *Store) DeleteObject(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return storageError("delete object", err)
	}
	return nil
}

// DownloadURL is a presigned GET, or the public URL when a public base URL
// is configured.
func (s *Store) DownloadURL(ctx context.Context, key string, expires time.Time) (string, error) {
	if s.public != "" {
		return s.public + "/" + escapeKey(key), nil
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttlUntil(expires), nil)
	if err != nil {
		return "", fmt.Errorf("s3store: presign get: %w", err)
	}
	return u.String(), nil
}

// ttlUntil is the presign lifetime that ends at t: whole seconds, at least
// one, at most the seven days SigV4 allows.
func ttlUntil(t time.Time) time.Duration {
	secs := math.Ceil(time.Until(t).Seconds())
	return time.Duration(min(max(secs, 1), 7*24*3600)) * time.Second
}

func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func isNotFound(err error) bool {
	r := minio.ToErrorResponse(err)
	return r.StatusCode == http.StatusNotFound || r.Code == "NoSuchKey"
}

// storageError classifies a failed storage call: the storage being
// unreachable or overloaded is unavailable (503), anything else internal.
func storageError(op string, err error) error {
	r := minio.ToErrorResponse(err)
	if r.StatusCode == 0 || r.StatusCode == http.StatusServiceUnavailable || r.StatusCode == http.StatusTooManyRequests || r.Code == "SlowDown" {
		return &domain.Error{Code: domain.CodeUnavailable, Message: "The file storage is unavailable; try again later.",
			Err: fmt.Errorf("s3store: %s: %w", op, err)}
	}
	return fmt.Errorf("s3store: %s: %w", op, err)
}
