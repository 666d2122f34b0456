package localstore

import (
	"context"
	"io"

	"github.com/miniback/miniback/domain"
)

// This is the contract between the local-disk storage and the HTTP API,
// two adapters; it is not a port (app/ never sees it).

var _ Files = (*Store)(nil)

// SignedUpload is what a client sends back to the local-disk storage from
// its ticket: the object the ticket fixes, and the ticket's signature.
type SignedUpload struct {
	Key         string
	ContentType string
	SizeRange   string // "min-max" in bytes
	Expires     string // Unix seconds
	Signature   string
}

// SignedDownload is a local-disk download URL's query.
type SignedDownload struct {
	Key       string
	Expires   string // Unix seconds
	Signature string
}

// Files is the HTTP side of the local-disk storage: the API server
// receives the uploads the storage's tickets point at and serves its
// signed downloads, so the same client code works in development.
type Files interface {
	// Receive checks the ticket (signature, expiry) and that contentType
	// is the one it fixes, then stores body as the object, refusing (and
	// keeping nothing of) a body outside the ticket's size range. Failures
	// are *domain.Error: upload_ticket_invalid, upload_ticket_expired,
	// upload_type_mismatch, upload_size_mismatch.
	Receive(ctx context.Context, t SignedUpload, contentType string, body io.Reader) error
	// Open checks a signed download and opens the object.
	Open(ctx context.Context, d SignedDownload) (io.ReadCloser, domain.ObjectInfo, error)
}
