package httpapi

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/domain"
)

// localStoragePath is the path of the local-disk storage endpoint, which
// the storage's tickets point at.
const localStoragePath = "/v1/local-storage"

// LocalStorageURL is the URL of the local-disk storage endpoint of the API
// served at publicURL (e.g. http://localhost:8080), for localstore.Config.
func LocalStorageURL(publicURL string) string {
	return strings.TrimRight(publicURL, "/") + localStoragePath
}

// streamingOps are the operations whose bodies are files: the validator
// leaves their bodies to the handler, which streams them to disk under
// their own limit instead of the JSON body limit.
var streamingOps = map[string]bool{
	http.MethodPost + " " + localStoragePath: true,
	http.MethodPut + " " + localStoragePath:  true,
}

// streaming reports whether the operation gin matched for c carries a
// file (worked out once per operation when the spec is loaded).
func (ops operations) streaming(c *gin.Context) bool {
	op := ops.operation(c)
	return op != nil && op.streaming
}

// Form limits of a local-storage POST: the ticket's fields are short.
const (
	maxFormFields     = 32
	maxFormFieldBytes = 4096
)

// errNoLocalStorage answers the local-storage paths when the storage is
// S3-compatible: they do not exist then.
var errNoLocalStorage = domain.Errorf(domain.CodeNotFound, "This server does not store files itself; use the URLs of your upload ticket.")

// LocalStoragePost receives a wx.uploadFile (multipart POST) upload: the
// ticket's fields, then the file part, which is streamed to disk once the
// fields have been checked. Fields after the file are ignored, as S3 does.
func (s *Server) LocalStoragePost(ctx context.Context, req api.LocalStoragePostRequestObject) (api.LocalStoragePostResponseObject, error) {
	if s.local == nil {
		return s.localPostFailure(ctx, errNoLocalStorage)
	}
	fields := map[string]string{}
	for {
		part, err := req.Body.NextPart()
		if errors.Is(err, io.EOF) {
			return s.localPostFailure(ctx, domain.Invalid(domain.FieldError{Field: "body." + domain.FileField, Code: "required",
				Message: "the form must end with the file, after the ticket's fields"}))
		}
		if err != nil {
			return s.localPostFailure(ctx, badForm(err))
		}
		name := part.FormName()
		if name == domain.FileField {
			t := localstore.SignedUpload{
				Key: fields["key"], ContentType: fields["Content-Type"], SizeRange: fields["size_range"],
				Expires: fields["expires"], Signature: fields["signature"],
			}
			err := s.local.Receive(ctx, t, fields["Content-Type"], part)
			if err != nil {
				return s.localPostFailure(ctx, storageFailure(err))
			}
			return api.LocalStoragePost204Response{}, nil
		}
		value, err := io.ReadAll(io.LimitReader(part, maxFormFieldBytes+1))
		if err != nil {
			return s.localPostFailure(ctx, badForm(err))
		}
		if len(value) > maxFormFieldBytes || len(fields) >= maxFormFields {
			return s.localPostFailure(ctx, domain.Invalid(domain.FieldError{Field: "body", Code: "too_long",
				Message: "the form has more or longer fields than a ticket gives"}))
		}
		fields[name] = string(value)
	}
}

// LocalStoragePut receives a PUT upload; the ticket is in the query.
func (s *Server) LocalStoragePut(ctx context.Context, req api.LocalStoragePutRequestObject) (api.LocalStoragePutResponseObject, error) {
	if s.local == nil {
		return s.localPutFailure(ctx, errNoLocalStorage)
	}
	p := req.Params
	t := localstore.SignedUpload{Key: p.Key, ContentType: p.ContentType, SizeRange: p.SizeRange, Expires: p.Expires, Signature: p.Signature}
	contentType := ""
	if c, ok := ctx.(*gin.Context); ok {
		contentType = c.GetHeader("Content-Type")
	}
	if err := s.local.Receive(ctx, t, contentType, req.Body); err != nil {
		return s.localPutFailure(ctx, storageFailure(err))
	}
	return api.LocalStoragePut204Response{}, nil
}

// LocalStorageGet serves a signed download.
func (s *Server) LocalStorageGet(ctx context.Context, req api.LocalStorageGetRequestObject) (api.LocalStorageGetResponseObject, error) {
	if s.local == nil {
		return s.localGetFailure(ctx, errNoLocalStorage)
	}
	p := req.Params
	body, info, err := s.local.Open(ctx, localstore.SignedDownload{Key: p.Key, Expires: p.Expires, Signature: p.Signature})
	if err != nil {
		return s.localGetFailure(ctx, err)
	}
	if c, ok := ctx.(*gin.Context); ok {
		// A stored file never runs as a page of this origin.
		c.Header("Content-Security-Policy", "default-src 'none'; sandbox")
		c.Header("Cache-Control", "private, max-age=300")
	}
	return api.LocalStorageGet200AsteriskResponse{Body: body, ContentType: info.ContentType, ContentLength: info.Size}, nil
}

// badForm reports a multipart body that cannot be read: over the size
// limit (413) or malformed (400).
func badForm(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	return &domain.Error{Code: domain.CodeInvalid, Message: "The request body is not a valid multipart form.", Err: err}
}

// storageFailure turns a body read past the request limit into 413.
func storageFailure(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	return err
}
