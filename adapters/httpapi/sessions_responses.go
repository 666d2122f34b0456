package httpapi

import (
	"context"
	"net/http"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// The failure functions of the session, account and admin operations; see
// responses.go for why each operation has its own.

func (s *Server) refreshFailure(ctx context.Context, err error) (api.RefreshTokensResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.RefreshTokens400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.RefreshTokens401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.RefreshTokens413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.RefreshTokens415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.RefreshTokens503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) logoutFailure(ctx context.Context, err error) (api.LogoutResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusUnauthorized:
		return api.Logout401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.Logout503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) listSessionsFailure(ctx context.Context, err error) (api.ListSessionsResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusUnauthorized:
		return api.ListSessions401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.ListSessions503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) endOtherSessionsFailure(ctx context.Context, err error) (api.EndOtherSessionsResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusUnauthorized:
		return api.EndOtherSessions401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.EndOtherSessions503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) endSessionFailure(ctx context.Context, err error) (api.EndSessionResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.EndSession400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.EndSession401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.EndSession404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.EndSession503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) deleteMeFailure(ctx context.Context, err error) (api.DeleteMeResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusUnauthorized:
		return api.DeleteMe401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.DeleteMe404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.DeleteMe503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) listUsersFailure(ctx context.Context, err error) (api.ListUsersResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.ListUsers400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.ListUsers401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusForbidden:
		return api.ListUsers403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: api.ForbiddenApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.ListUsers503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}
