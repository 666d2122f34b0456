package httpapi

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// CreateUpload checks the request against the purpose's rules and returns
// a ticket for the storage.
func (s *Server) CreateUpload(ctx context.Context, req api.CreateUploadRequestObject) (api.CreateUploadResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.createUploadFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.createUploadFailure(ctx, errNoBody)
	}
	in := domain.UploadRequest{Purpose: domain.UploadPurpose(req.Body.Purpose), ContentType: req.Body.ContentType, Size: req.Body.Size}
	if req.Body.FileName != nil {
		in.FileName = *req.Body.FileName
	}
	t, err := s.app.Uploads.Create(ctx, claims.UserID, in)
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
func (s *Server) GetUpload(ctx context.Context, req api.GetUploadRequestObject) (api.GetUploadResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.getUploadFailure(ctx, errNoClaims)
	}
	v, err := s.app.Uploads.Get(ctx, claims.UserID, domain.UploadID(req.Id.String()))
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
func (s *Server) CompleteUpload(ctx context.Context, req api.CompleteUploadRequestObject) (api.CompleteUploadResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.completeUploadFailure(ctx, errNoClaims)
	}
	v, err := s.app.Uploads.Complete(ctx, claims.UserID, claims.AppID, domain.UploadID(req.Id.String()))
	if err != nil {
		return s.completeUploadFailure(ctx, err)
	}
	if v.BecameReady {
		s.metrics.UploadCompleted(string(v.Purpose), v.Size)
	}
	u, err := toAPIUpload(v)
	if err != nil {
		return nil, err
	}
	return api.CompleteUpload200JSONResponse(u), nil
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
		if v.Blocked {
			u.Blocked = &v.Blocked // and no download URL: it is not served
			break
		}
		u.DownloadUrl = &v.DownloadURL
		u.DownloadExpiresAt = &v.DownloadExpiresAt
	case domain.UploadRejected:
		reason := api.UploadRejectReason(v.RejectReason)
		u.RejectReason = &reason
		u.ExpiresAt = &v.ExpiresAt
	}
	return u, nil
}
