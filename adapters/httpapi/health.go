package httpapi

import (
	"context"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/domain"
)

// readyTimeout bounds a readiness check: a probe must answer fast, and a
// database that does not answer in time is not ready. One second, so
// that /readyz says 503 well within 2 s of the database stalling, and
// within Kubernetes' default probe timeout (1 s) plus the round trip
// when the probe's timeoutSeconds is 2.
const readyTimeout = time.Second

// GetHealth answers while the process serves requests.
func (s *Server) GetHealth(context.Context, api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: api.Ok}, nil
}

// GetReady answers 200 when the dependencies (the database) answer within
// readyTimeout, 503 otherwise.
func (s *Server) GetReady(ctx context.Context, _ api.GetReadyRequestObject) (api.GetReadyResponseObject, error) {
	if s.ready != nil {
		ctx, cancel := context.WithTimeout(ctx, readyTimeout)
		defer cancel()
		if err := s.ready(ctx); err != nil {
			// Whatever the cause, the answer is "not ready", never a 500.
			e := &domain.Error{Code: domain.CodeUnavailable, Message: "The service is not ready; try again shortly.", Err: err}
			return s.getReadyFailure(ctx, e)
		}
	}
	return api.GetReady200JSONResponse{Status: api.Ok}, nil
}
