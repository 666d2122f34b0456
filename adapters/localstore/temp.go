package localstore

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// tempPrefix starts the name of every file the storage writes before
// renaming it into place (an object, its metadata).
const tempPrefix = ".tmp-"

// RemoveStaleTemp removes the temporary files under the storage
// directory last written before olderThan, and returns how many it
// removed. A temporary file outlives its write only when the process
// writing it died or was cut off mid-write (a shutdown past its timeout, a
// kill); every other way out removes it.
//
// Several processes may share the directory (replicas in development, a
// restart overlapping the old process), so a temporary file that may
// still be written must never be removed: the caller passes the start of
// the longest a write can last (the upload deadline and the answer's,
// ago). A live write touches its file at least that recently.
func (s *Store) RemoveStaleTemp(olderThan time.Time) (int, error) {
	removed := 0
	var errs []error
	err := fs.WalkDir(s.root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed meanwhile (another process's rename)
			}
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
			return nil
		}
		if !info.ModTime().Before(olderThan) {
			return nil
		}
		if err := s.root.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
			return nil
		}
		removed++
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("localstore: remove stale temporary files: %w", err)
	}
	return removed, nil
}
