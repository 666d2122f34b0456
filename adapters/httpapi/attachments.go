package httpapi

import (
	"context"
	"net/http"

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
		return s.attachFailure(ctx, domain.Invalid(domain.FieldError{Field: "body", Code: "required", Message: "a request body is required"}))
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

func (s *Server) attachFailure(ctx context.Context, err error) (api.AttachToTodoResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.AttachToTodo400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.AttachToTodo401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.AttachToTodo404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusConflict:
		return api.AttachToTodo409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.AttachToTodo413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.AttachToTodo415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnprocessableEntity:
		return api.AttachToTodo422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: api.UnprocessableEntityApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.AttachToTodo503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) listAttachmentsFailure(ctx context.Context, err error) (api.ListTodoAttachmentsResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.ListTodoAttachments400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.ListTodoAttachments401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.ListTodoAttachments404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.ListTodoAttachments503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) detachFailure(ctx context.Context, err error) (api.DetachFromTodoResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.DetachFromTodo400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.DetachFromTodo401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.DetachFromTodo404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.DetachFromTodo503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}
