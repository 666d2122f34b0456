package storagetest

import (
	"bytes"
	"context"
	"testing"

	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Storage is an object storage adapter: ticketed uploads and the server's
// own reads and writes.
type Storage interface {
	ports.ObjectStorage
	ports.ObjectBytes
}

// ObjectBytesSuite holds every storage adapter to the same contract for
// the server's own reads and writes (cached mini-program codes).
func ObjectBytesSuite(t *testing.T, s Storage) {
	ctx := context.Background()
	key := "wxacode/wx00000000000000a1/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	png := append([]byte("\x89PNG\r\n\x1a\n"), Bytes(3000)...)

	t.Run("a missing object is not_found", func(t *testing.T) {
		_, _, err := s.GetObject(ctx, "wxacode/none/missing", 1<<20)
		if domain.ErrorCode(err) != domain.CodeNotFound {
			t.Fatalf("err %v, want not_found", err)
		}
	})
	t.Run("an object put is read back whole with its content type", func(t *testing.T) {
		if err := s.PutObject(ctx, key, "image/png", png); err != nil {
			t.Fatal(err)
		}
		data, info, err := s.GetObject(ctx, key, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(data, png) || info.Size != int64(len(png)) || info.ContentType != "image/png" {
			t.Fatalf("got %d bytes (equal %v), info %+v", len(data), bytes.Equal(data, png), info)
		}
		// The upload side of the storage sees it too.
		st, err := s.StatObject(ctx, key)
		if err != nil || st != info {
			t.Fatalf("stat %+v, %v; want %+v", st, err, info)
		}
	})
	t.Run("putting again replaces bytes and type", func(t *testing.T) {
		jpeg := append([]byte("\xff\xd8\xff"), Bytes(10)...)
		if err := s.PutObject(ctx, key, "image/jpeg", jpeg); err != nil {
			t.Fatal(err)
		}
		data, info, err := s.GetObject(ctx, key, 1<<20)
		if err != nil || !bytes.Equal(data, jpeg) || info.ContentType != "image/jpeg" {
			t.Fatalf("got %q %+v %v", data, info, err)
		}
	})
	t.Run("an object over the reader's limit is an error, not a short read", func(t *testing.T) {
		_, _, err := s.GetObject(ctx, key, 5)
		if err == nil || domain.ErrorCode(err) == domain.CodeNotFound {
			t.Fatalf("err %v, want a failure", err)
		}
	})
	t.Run("an empty object round-trips", func(t *testing.T) {
		k := "wxacode/empty/object"
		if err := s.PutObject(ctx, k, "image/png", nil); err != nil {
			t.Fatal(err)
		}
		data, info, err := s.GetObject(ctx, k, 10)
		if err != nil || len(data) != 0 || info.Size != 0 {
			t.Fatalf("got %q %+v %v", data, info, err)
		}
	})
	t.Run("a deleted object is gone", func(t *testing.T) {
		if err := s.DeleteObject(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.GetObject(ctx, key, 1<<20); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Fatalf("err %v, want not_found", err)
		}
	})
}
