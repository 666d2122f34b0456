package main

import (
	"context"
	"fmt"
	"net/http"

	"riverqueue.com/riverui"
)

// riverUIPrefix is where river's own UI (riverqueue.com/riverui) is served
// on the metrics listener when MINIBACK_JOBS_UI is true: never on the
// public listener. It has no sign-in of its own and can retry, cancel and
// delete jobs, so the metrics port must stay private (as for /metrics).
const riverUIPrefix = "/riverui"

// mountRiverUI serves river's UI under riverUIPrefix on mux, when
// configured and this process has a job queue.
func (m *Main) mountRiverUI(mux *http.ServeMux) error {
	if !m.Config.JobsUI || m.Jobs == nil {
		return nil
	}
	h, err := riverui.NewHandler(&riverui.HandlerOpts{
		Endpoints: riverui.NewEndpoints(m.Jobs.Client(), nil),
		Logger:    m.Logger.With("component", "riverui"),
		Prefix:    riverUIPrefix,
		// Args may carry user data (a task's id, an openid): shown on
		// demand only.
		JobListHideArgsByDefault: true,
	})
	if err != nil {
		return fmt.Errorf("riverui (MINIBACK_JOBS_UI): %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.Start(ctx); err != nil {
		cancel()
		return fmt.Errorf("start riverui (MINIBACK_JOBS_UI): %w", err)
	}
	m.riverUIStop = cancel
	mux.Handle(riverUIPrefix+"/", h)
	m.Logger.Info("jobs: river's UI on the metrics listener", "path", riverUIPrefix+"/", "set", "MINIBACK_JOBS_UI")
	return nil
}

// stopRiverUI stops the UI's background work, if it runs.
func (m *Main) stopRiverUI() {
	if m.riverUIStop != nil {
		m.riverUIStop()
		m.riverUIStop = nil
	}
}
