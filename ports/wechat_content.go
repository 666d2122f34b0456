package ports

import (
	"context"

	"github.com/miniback/miniback/domain"
)

// ContentChecker is WeChat's content security: msgSecCheck v2 for text,
// mediaCheckAsync v2 for images. Failures are *domain.Error with a wechat_*
// code (the caller applies the deployment's failure policy), or the
// wrapped context error when the caller gave up.
type ContentChecker interface {
	// CheckText returns WeChat's verdict on one text of at most
	// domain.ContentMaxRunes characters.
	CheckText(ctx context.Context, c domain.TextCheck) (domain.TextVerdict, error)
	// CheckMedia submits an image for an asynchronous check and returns
	// the trace_id its verdict will carry when WeChat pushes it.
	CheckMedia(ctx context.Context, c domain.MediaCheck) (traceID string, err error)
}
