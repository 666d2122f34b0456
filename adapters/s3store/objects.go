package s3store

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// The server's own reads and writes of small objects (cached mini-program
// codes), beside the clients' ticketed uploads.

var _ ports.ObjectBytes = (*Store)(nil)

// PutObject stores data under key with a single PUT.
func (s *Store) PutObject(ctx context.Context, key, contentType string, data []byte) error {
	_, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: contentType})
	if err != nil {
		return storageError("put object", err)
	}
	return nil
}

// GetObject reads the object whole, or answers CodeNotFound. The size is
// checked before the body is read.
func (s *Store) GetObject(ctx context.Context, key string, maxBytes int64) ([]byte, domain.ObjectInfo, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, domain.ObjectInfo{}, getError(err)
	}
	defer func() { _ = obj.Close() }()
	// minio-go sends the GET on the first Stat or Read.
	info, err := obj.Stat()
	if err != nil {
		return nil, domain.ObjectInfo{}, getError(err)
	}
	if info.Size > maxBytes {
		return nil, domain.ObjectInfo{}, fmt.Errorf("s3store: get object %s: %d bytes, more than the %d allowed", key, info.Size, maxBytes)
	}
	data, err := io.ReadAll(io.LimitReader(obj, maxBytes+1))
	if err != nil {
		return nil, domain.ObjectInfo{}, getError(err)
	}
	if int64(len(data)) != info.Size {
		return nil, domain.ObjectInfo{}, fmt.Errorf("s3store: get object %s: read %d bytes of %d", key, len(data), info.Size)
	}
	return data, domain.ObjectInfo{Size: info.Size, ContentType: info.ContentType}, nil
}

func getError(err error) error {
	if isNotFound(err) {
		return &domain.Error{Code: domain.CodeNotFound, Message: "No such object.", Err: err}
	}
	return storageError("get object", err)
}
