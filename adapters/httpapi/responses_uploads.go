package httpapi

import (
	"context"
	"net/http"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// The failure functions of the upload and storage operations; see
// responses.go for why each operation has its own.

func (s *Server) createUploadFailure(ctx context.Context, err error) (api.CreateUploadResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.CreateUpload400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.CreateUpload401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.CreateUpload413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.CreateUpload415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.CreateUpload503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) getUploadFailure(ctx context.Context, err error) (api.GetUploadResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.GetUpload400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.GetUpload401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.GetUpload404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.GetUpload503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) completeUploadFailure(ctx context.Context, err error) (api.CompleteUploadResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.CompleteUpload400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.CompleteUpload401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.CompleteUpload404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusConflict:
		return api.CompleteUpload409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusGone:
		return api.CompleteUpload410ApplicationProblemPlusJSONResponse{GoneApplicationProblemPlusJSONResponse: api.GoneApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnprocessableEntity:
		return api.CompleteUpload422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: api.UnprocessableEntityApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.CompleteUpload503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) getAvatarFailure(ctx context.Context, err error) (api.GetAvatarResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.GetAvatar400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.GetAvatar404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.GetAvatar503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) localPostFailure(ctx context.Context, err error) (api.LocalStoragePostResponseObject, error) {
	err = storageFailure(err)
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.LocalStoragePost400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusForbidden:
		return api.LocalStoragePost403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: api.ForbiddenApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.LocalStoragePost404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.LocalStoragePost413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.LocalStoragePost415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnprocessableEntity:
		return api.LocalStoragePost422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: api.UnprocessableEntityApplicationProblemPlusJSONResponse(p.Problem)}, nil
	}
	return nil, err
}

func (s *Server) localPutFailure(ctx context.Context, err error) (api.LocalStoragePutResponseObject, error) {
	err = storageFailure(err)
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.LocalStoragePut400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusForbidden:
		return api.LocalStoragePut403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: api.ForbiddenApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.LocalStoragePut404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.LocalStoragePut413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnprocessableEntity:
		return api.LocalStoragePut422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: api.UnprocessableEntityApplicationProblemPlusJSONResponse(p.Problem)}, nil
	}
	return nil, err
}

func (s *Server) localGetFailure(ctx context.Context, err error) (api.LocalStorageGetResponseObject, error) {
	err = storageFailure(err)
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.LocalStorageGet400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusForbidden:
		return api.LocalStorageGet403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: api.ForbiddenApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.LocalStorageGet404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	}
	return nil, err
}
