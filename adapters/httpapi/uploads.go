package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/localstore"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
	"github.com/miniback/miniback/ports"
)

// Paths other components build URLs with.
const (
	localStoragePath = "/v1/local-storage"
	avatarsPath      = "/v1/avatars/"
)

// LocalStorageURL is the URL of the local-disk storage endpoint of the API
// served at publicURL (e.g. http://localhost:8080), for localstore.Config.
func LocalStorageURL(publicURL string) string {
	return strings.TrimRight(publicURL, "/") + localStoragePath
}

// Links builds the API's stable avatar links from its public URL.
type Links struct {
	PublicURL string // e.g. https://api.example.com
}

var _ ports.AvatarLinks = Links{}

// AvatarURL is the stable link of an avatar upload (GET /v1/avatars/{id}),
// which redirects to a fresh download URL.
func (l Links) AvatarURL(id domain.UploadID) string {
	return strings.TrimRight(l.PublicURL, "/") + avatarsPath + string(id)
}

// streamingOps are the operations whose bodies are files: the validator
// leaves their bodies to the handler, which streams them to disk under
// their own limit instead of the JSON body limit.
var streamingOps = map[string]bool{
	http.MethodPost + " " + localStoragePath: true,
	http.MethodPut + " " + localStoragePath:  true,
}

func isStreaming(c *gin.Context) bool {
	return streamingOps[c.Request.Method+" "+specPath(c.FullPath())]
}

// Form limits of a local-storage POST: the ticket's fields are short.
const (
	maxFormFields     = 32
	maxFormFieldBytes = 4096
)

// CreateUpload checks the request against the purpose's rules and returns
// a ticket for the storage.
func (s *Server) CreateUpload(gctx context.Context, req api.CreateUploadRequestObject) (api.CreateUploadResponseObject, error) {
	ctx := requestContext(gctx)
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.createUploadFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.createUploadFailure(ctx, domain.Invalid(domain.FieldError{Field: "body", Code: "required", Message: "a request body is required"}))
	}
	in := domain.UploadRequest{Purpose: domain.UploadPurpose(req.Body.Purpose), ContentType: req.Body.ContentType, Size: req.Body.Size}
	if req.Body.FileName != nil {
		in.FileName = *req.Body.FileName
	}
	t, err := s.uploads.Create(ctx, claims.UserID, in)
	if err != nil {
		return s.createUploadFailure(ctx, err)
	}
	u, err := toAPIUpload(app.UploadView{Upload: t.Upload})
	if err != nil {
		return nil, err
	}
	return api.CreateUpload201JSONResponse{
		Id:         u.Id,
		Url:        t.Ticket.URL,
		Fields:     t.Ticket.Fields,
		FileField:  api.UploadTicketFileField(domain.FileField),
		PutUrl:     t.Ticket.PutURL,
		PutHeaders: t.Ticket.PutHeaders,
		ExpiresAt:  t.Ticket.ExpiresAt,
		Upload:     u,
	}, nil
}

// GetUpload returns one of the caller's uploads.
func (s *Server) GetUpload(gctx context.Context, req api.GetUploadRequestObject) (api.GetUploadResponseObject, error) {
	ctx := requestContext(gctx)
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.getUploadFailure(ctx, errNoClaims)
	}
	v, err := s.uploads.Get(ctx, claims.UserID, domain.UploadID(req.Id.String()))
	if err != nil {
		return s.getUploadFailure(ctx, err)
	}
	u, err := toAPIUpload(v)
	if err != nil {
		return nil, err
	}
	return api.GetUpload200JSONResponse(u), nil
}

// CompleteUpload checks what the storage holds for the caller's upload.
func (s *Server) CompleteUpload(gctx context.Context, req api.CompleteUploadRequestObject) (api.CompleteUploadResponseObject, error) {
	ctx := requestContext(gctx)
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.completeUploadFailure(ctx, errNoClaims)
	}
	v, err := s.uploads.Complete(ctx, claims.UserID, domain.UploadID(req.Id.String()))
	if err != nil {
		return s.completeUploadFailure(ctx, err)
	}
	u, err := toAPIUpload(v)
	if err != nil {
		return nil, err
	}
	return api.CompleteUpload200JSONResponse(u), nil
}

// GetAvatar redirects a stable avatar link to a fresh download URL.
func (s *Server) GetAvatar(gctx context.Context, req api.GetAvatarRequestObject) (api.GetAvatarResponseObject, error) {
	ctx := requestContext(gctx)
	url, err := s.uploads.AvatarDownload(ctx, domain.UploadID(req.Id.String()))
	if err != nil {
		return s.getAvatarFailure(ctx, err)
	}
	// The link is stable, its target is not: the redirect carries the
	// Cache-Control: no-store every API answer has, so clients cache the
	// picture, never the redirect.
	return api.GetAvatar302Response{Headers: api.GetAvatar302ResponseHeaders{Location: url}}, nil
}

// errNoLocalStorage answers the local-storage paths when the storage is
// S3-compatible: they do not exist then.
var errNoLocalStorage = domain.Errorf(domain.CodeNotFound, "This server does not store files itself; use the URLs of your upload ticket.")

// LocalStoragePost receives a wx.uploadFile (multipart POST) upload: the
// ticket's fields, then the file part, which is streamed to disk once the
// fields have been checked. Fields after the file are ignored, as S3 does.
func (s *Server) LocalStoragePost(gctx context.Context, req api.LocalStoragePostRequestObject) (api.LocalStoragePostResponseObject, error) {
	ctx := requestContext(gctx)
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
				return s.localPostFailure(ctx, err)
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
func (s *Server) LocalStoragePut(gctx context.Context, req api.LocalStoragePutRequestObject) (api.LocalStoragePutResponseObject, error) {
	ctx := requestContext(gctx)
	if s.local == nil {
		return s.localPutFailure(ctx, errNoLocalStorage)
	}
	p := req.Params
	t := localstore.SignedUpload{Key: p.Key, ContentType: p.ContentType, SizeRange: p.SizeRange, Expires: p.Expires, Signature: p.Signature}
	contentType := ""
	if c, ok := gctx.(*gin.Context); ok {
		contentType = c.GetHeader("Content-Type")
	}
	if err := s.local.Receive(ctx, t, contentType, req.Body); err != nil {
		return s.localPutFailure(ctx, err)
	}
	return api.LocalStoragePut204Response{}, nil
}

// LocalStorageGet serves a signed download.
func (s *Server) LocalStorageGet(gctx context.Context, req api.LocalStorageGetRequestObject) (api.LocalStorageGetResponseObject, error) {
	ctx := requestContext(gctx)
	if s.local == nil {
		return s.localGetFailure(ctx, errNoLocalStorage)
	}
	p := req.Params
	body, info, err := s.local.Open(ctx, localstore.SignedDownload{Key: p.Key, Expires: p.Expires, Signature: p.Signature})
	if err != nil {
		return s.localGetFailure(ctx, err)
	}
	if c, ok := gctx.(*gin.Context); ok {
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

// toAPIUpload maps an upload to the wire type.
func toAPIUpload(v app.UploadView) (api.Upload, error) {
	id, err := uuid.Parse(string(v.ID))
	if err != nil {
		return api.Upload{}, fmt.Errorf("upload id %q is not a UUID: %w", v.ID, err)
	}
	u := api.Upload{
		Id:          id,
		Purpose:     api.UploadPurpose(v.Purpose),
		Status:      api.UploadStatus(v.Status),
		ContentType: v.ContentType,
		Size:        v.Size,
		FileName:    v.FileName,
		CreatedAt:   v.CreatedAt,
	}
	switch v.Status {
	case domain.UploadPending:
		u.ExpiresAt = &v.ExpiresAt
	case domain.UploadReady:
		u.CompletedAt = &v.CompletedAt
		u.DownloadUrl = &v.DownloadURL
		u.DownloadExpiresAt = &v.DownloadExpiresAt
	case domain.UploadRejected:
		reason := api.UploadRejectReason(v.RejectReason)
		u.RejectReason = &reason
		u.ExpiresAt = &v.ExpiresAt
	}
	return u, nil
}
