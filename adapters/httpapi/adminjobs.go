package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/app"
	"github.com/miniback/miniback/domain"
)

// GetAdminJobs answers the console's view of the job queue.
func (s *Server) GetAdminJobs(ctx context.Context, req api.GetAdminJobsRequestObject) (api.GetAdminJobsResponseObject, error) {
	claims, ok := claimsFrom(ctx)
	if !ok {
		return s.getAdminJobsFailure(ctx, errNoClaims)
	}
	n := app.DefaultJobErrors
	if req.Params.Errors != nil {
		n = *req.Params.Errors
	}
	st, err := s.app.Jobs.Stats(ctx, claims.Role, n)
	if err != nil {
		return s.getAdminJobsFailure(ctx, err)
	}
	out := api.AdminJobs{CheckedAt: st.CheckedAt, ByState: map[string]int{},
		ByKind: make([]api.JobCount, len(st.ByKind)), Depth: st.Depth, Errors: make([]api.JobError, len(st.Errors))}
	for state, c := range st.ByState() {
		out.ByState[string(state)] = c
	}
	for i, c := range st.ByKind {
		out.ByKind[i] = api.JobCount{Kind: c.Kind, State: api.JobState(c.State), Count: c.Count}
	}
	for i, e := range st.Errors {
		out.Errors[i] = api.JobError{JobId: e.JobID, Kind: e.Kind, Attempt: e.Attempt, Error: e.Error, At: e.At}
	}
	return api.GetAdminJobs200JSONResponse(out), nil
}

// RetryAdminJob runs a failed, cancelled or scheduled job again now.
func (s *Server) RetryAdminJob(ctx context.Context, req api.RetryAdminJobRequestObject) (api.RetryAdminJobResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.retryAdminJobFailure(ctx, errNoClaims)
	}
	j, err := s.app.Jobs.Retry(ctx, actor, req.Id)
	if err != nil {
		return s.retryAdminJobFailure(ctx, err)
	}
	return api.RetryAdminJob200JSONResponse(toAdminJob(j)), nil
}

// CancelAdminJob cancels a job.
func (s *Server) CancelAdminJob(ctx context.Context, req api.CancelAdminJobRequestObject) (api.CancelAdminJobResponseObject, error) {
	actor, ok := actorFrom(ctx)
	if !ok {
		return s.cancelAdminJobFailure(ctx, errNoClaims)
	}
	j, err := s.app.Jobs.Cancel(ctx, actor, req.Id)
	if err != nil {
		return s.cancelAdminJobFailure(ctx, err)
	}
	return api.CancelAdminJob200JSONResponse(toAdminJob(j)), nil
}

func toAdminJob(j domain.Job) api.AdminJob {
	out := api.AdminJob{Id: j.ID, Kind: j.Kind, Queue: j.Queue, State: api.JobState(j.State),
		Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, ScheduledAt: j.ScheduledAt, CreatedAt: j.CreatedAt,
		FinalizedAt: j.FinalizedAt}
	if j.LastError != "" {
		out.LastError = &j.LastError
	}
	return out
}
