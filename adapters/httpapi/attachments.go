package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// AttachToTodo attaches one of the caller's ready uploads to one of their
// tasks: 201 when new, 200 when it was attached already.
func (s *Server) AttachToTodo(ctx context.Context, req api.AttachToTodoRequestObject) (api.AttachToTodoResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.attachFailure(ctx, errNoClaims)
	}
	if req.Body == nil {
		return s.attachFailure(ctx, errNoBody)
	}
	v, created, err := s.app.Attachments.Attach(ctx, claims.UserID, domain.TodoID(req.Id.String()), domain.UploadID(req.Body.UploadId.String()))
	if err != nil {
		return s.attachFailure(ctx, err)
	}
	a, err := toAPIAttachment(v)
	if err != nil {
		return nil, err
	}
	if created {
		return api.AttachToTodo201JSONResponse(a), nil
	}
	return api.AttachToTodo200JSONResponse(a), nil
}

// ListTodoAttachments lists the attachments of one of the caller's tasks.
func (s *Server) ListTodoAttachments(ctx context.Context, req api.ListTodoAttachmentsRequestObject) (api.ListTodoAttachmentsResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.listAttachmentsFailure(ctx, errNoClaims)
	}
	vs, err := s.app.Attachments.List(ctx, claims.UserID, domain.TodoID(req.Id.String()))
	if err != nil {
		return s.listAttachmentsFailure(ctx, err)
	}
	items := make([]api.Attachment, len(vs))
	for i, v := range vs {
		if items[i], err = toAPIAttachment(v); err != nil {
			return nil, err
		}
	}
	return api.ListTodoAttachments200JSONResponse{Items: items}, nil
}

// DetachFromTodo removes an attachment of one of the caller's tasks.
func (s *Server) DetachFromTodo(ctx context.Context, req api.DetachFromTodoRequestObject) (api.DetachFromTodoResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.detachFailure(ctx, errNoClaims)
	}
	if err := s.app.Attachments.Detach(ctx, claims.UserID, domain.TodoID(req.Id.String()), domain.UploadID(req.UploadId.String())); err != nil {
		return s.detachFailure(ctx, err)
	}
	return api.DetachFromTodo204Response{}, nil
}

func toAPIAttachment(v app.AttachmentView) (api.Attachment, error) {
	u, err := toAPIUpload(v.Upload)
	if err != nil {
		return api.Attachment{}, err
	}
	return api.Attachment{Upload: u, AttachedAt: v.AttachedAt}, nil
}
