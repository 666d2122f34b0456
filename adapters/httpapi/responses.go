package httpapi

import (
	"context"
	"net/http"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// Each operation has a failure function that turns an error into one of the
// operation's typed problem responses, for the statuses the spec declares
// for it. So the compiler, not a reviewer, keeps an operation from
// answering a status its documentation does not list. An error whose
// status the operation does not declare, and every 500, goes back as the
// error: the strict server's error hook logs it and answers a generic 500.

// problem builds the problem document for err and logs the 5xx ones.
func (s *Server) problem(ctx context.Context, err error) problem {
	p := problemFor(ctx, err)
	if p.Status != http.StatusInternalServerError {
		logFailure(ctx, s.log, p.Status, err)
	}
	return p
}

func (s *Server) loginFailure(ctx context.Context, err error) (api.LoginWithWeChatResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.LoginWithWeChat400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.LoginWithWeChat401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusForbidden:
		return api.LoginWithWeChat403ApplicationProblemPlusJSONResponse{ForbiddenApplicationProblemPlusJSONResponse: api.ForbiddenApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.LoginWithWeChat413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.LoginWithWeChat415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusTooManyRequests:
		return api.LoginWithWeChat429ApplicationProblemPlusJSONResponse{TooManyRequestsApplicationProblemPlusJSONResponse: api.TooManyRequestsApplicationProblemPlusJSONResponse{
			Body: p.Problem, Headers: api.TooManyRequestsResponseHeaders{RetryAfter: p.retryAfter}}}, nil
	case http.StatusBadGateway:
		return api.LoginWithWeChat502ApplicationProblemPlusJSONResponse{BadGatewayApplicationProblemPlusJSONResponse: api.BadGatewayApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.LoginWithWeChat503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	case http.StatusGatewayTimeout:
		return api.LoginWithWeChat504ApplicationProblemPlusJSONResponse{GatewayTimeoutApplicationProblemPlusJSONResponse: api.GatewayTimeoutApplicationProblemPlusJSONResponse(p.Problem)}, nil
	}
	return nil, err
}

func (s *Server) getMeFailure(ctx context.Context, err error) (api.GetMeResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusUnauthorized:
		return api.GetMe401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.GetMe404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.GetMe503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

func (s *Server) updateMeFailure(ctx context.Context, err error) (api.UpdateMeResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	case http.StatusBadRequest:
		return api.UpdateMe400ApplicationProblemPlusJSONResponse{BadRequestApplicationProblemPlusJSONResponse: api.BadRequestApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnauthorized:
		return api.UpdateMe401ApplicationProblemPlusJSONResponse{UnauthorizedApplicationProblemPlusJSONResponse: api.UnauthorizedApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusNotFound:
		return api.UpdateMe404ApplicationProblemPlusJSONResponse{NotFoundApplicationProblemPlusJSONResponse: api.NotFoundApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusConflict:
		return api.UpdateMe409ApplicationProblemPlusJSONResponse{ConflictApplicationProblemPlusJSONResponse: api.ConflictApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusRequestEntityTooLarge:
		return api.UpdateMe413ApplicationProblemPlusJSONResponse{PayloadTooLargeApplicationProblemPlusJSONResponse: api.PayloadTooLargeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnsupportedMediaType:
		return api.UpdateMe415ApplicationProblemPlusJSONResponse{UnsupportedMediaTypeApplicationProblemPlusJSONResponse: api.UnsupportedMediaTypeApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusUnprocessableEntity:
		return api.UpdateMe422ApplicationProblemPlusJSONResponse{UnprocessableEntityApplicationProblemPlusJSONResponse: api.UnprocessableEntityApplicationProblemPlusJSONResponse(p.Problem)}, nil
	case http.StatusServiceUnavailable:
		return api.UpdateMe503ApplicationProblemPlusJSONResponse{ServiceUnavailableApplicationProblemPlusJSONResponse: serviceUnavailable(p)}, nil
	}
	return nil, err
}

// serviceUnavailable is the shared 503 response with its Retry-After.
func serviceUnavailable(p problem) api.ServiceUnavailableApplicationProblemPlusJSONResponse {
	return api.ServiceUnavailableApplicationProblemPlusJSONResponse{
		Body: p.Problem, Headers: api.ServiceUnavailableResponseHeaders{RetryAfter: p.retryAfter}}
}
