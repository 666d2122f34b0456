package localstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// The server's own reads and writes of small objects (cached mini-program
// codes), beside the clients' ticketed uploads.

var _ ports.ObjectBytes = (*Store)(nil)

// PutObject stores data under key: its content type, then its bytes,
// each replaced atomically, so a reader never sees part of an object.
func (s *Store) PutObject(_ context.Context, key, contentType string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	for _, p := range []string{objectPath(key), metaPath(key)} {
		if err := s.root.MkdirAll(path.Dir(p), 0o750); err != nil {
			return fmt.Errorf("localstore: %w", err)
		}
	}
	m, _ := json.Marshal(meta{ContentType: contentType}) // cannot fail
	if err := s.writeFile(metaPath(key), m); err != nil {
		return err
	}
	return s.writeFile(objectPath(key), data)
}

// GetObject reads the object whole, or answers CodeNotFound.
func (s *Store) GetObject(_ context.Context, key string, maxBytes int64) ([]byte, domain.ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return nil, domain.ObjectInfo{}, err
	}
	f, err := s.root.Open(objectPath(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, domain.ObjectInfo{}, &domain.Error{Code: domain.CodeNotFound, Message: "No such object.", Err: err}
	}
	if err != nil {
		return nil, domain.ObjectInfo{}, fmt.Errorf("localstore: %w", err)
	}
	defer func() { _ = f.Close() }()
	data, err := readAtMost(f, maxBytes)
	if err != nil {
		return nil, domain.ObjectInfo{}, fmt.Errorf("localstore: read %s: %w", key, err)
	}
	ct, err := s.contentType(key)
	if err != nil {
		return nil, domain.ObjectInfo{}, err
	}
	return data, domain.ObjectInfo{Size: int64(len(data)), ContentType: ct}, nil
}

// errTooLarge: an object is larger than its reader allows.
var errTooLarge = errors.New("object larger than allowed")

// readAtMost reads f whole unless it holds more than max bytes.
func readAtMost(f *os.File, max int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%w (%d bytes)", errTooLarge, max)
	}
	return data, nil
}
