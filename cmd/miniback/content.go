package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miniback/miniback/domain"
)

// ContentChecks is the content security setting from
// MINIBACK_CONTENT_CHECK and MINIBACK_CONTENT_CHECK_FAILURE. The same
// default holds with the simulator and with real credentials, so
// development behaves as production does (the simulator judges text by
// marker words: see package wechatsim). When both settings are bad, the
// error names both.
func (c Config) ContentChecks() (domain.ContentChecks, error) {
	cc, errs := c.readContentChecks()
	return cc, errors.Join(errs...)
}

// readContentChecks reads both settings and returns one error per bad one.
func (c Config) readContentChecks() (domain.ContentChecks, []error) {
	var errs []error
	fields := domain.DefaultContentFields
	if strings.TrimSpace(c.ContentCheck) != "" {
		var err error
		if fields, err = domain.ParseContentFields(c.ContentCheck); err != nil {
			errs = append(errs, fmt.Errorf("MINIBACK_CONTENT_CHECK: %w", err))
		}
	}
	policy := domain.ContentFailurePolicy(strings.ToLower(strings.TrimSpace(c.ContentCheckFailure)))
	if !policy.Valid() {
		errs = append(errs, fmt.Errorf("MINIBACK_CONTENT_CHECK_FAILURE must be accept or refuse, not %q", c.ContentCheckFailure))
	}
	if len(errs) > 0 {
		return domain.ContentChecks{}, errs
	}
	return domain.ContentChecks{Fields: fields, OnFailure: policy}, nil
}

// validateContent checks the content security settings: one error (one
// line of LoadConfig's message) per bad setting.
func (c Config) validateContent() []error {
	_, errs := c.readContentChecks()
	if c.ContentMediaURLTTL < 10*time.Minute || c.ContentMediaURLTTL > maxPresign {
		errs = append(errs, fmt.Errorf("MINIBACK_CONTENT_MEDIA_URL_TTL must be between 10m and 168h, not %s", c.ContentMediaURLTTL))
	}
	return errs
}

// contentFieldNames lists fields for a log line.
func contentFieldNames(fs []domain.ContentField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return out
}

// contentChecks reads the content security setting (validated by
// LoadConfig) and says at start-up what is checked and what must be
// configured for image verdicts to arrive.
func (m *Main) contentChecks() domain.ContentChecks {
	cc, _ := m.Config.ContentChecks() // validated by LoadConfig
	if len(cc.Fields) == 0 {
		m.Logger.Info("content security: off (MINIBACK_CONTENT_CHECK=none)")
		return cc
	}
	m.Logger.Info("content security: WeChat checks user content (msgSecCheck, mediaCheckAsync)",
		"fields", strings.Join(contentFieldNames(cc.Fields), ","), "on_failure", string(cc.OnFailure),
		"replace_with", "MINIBACK_CONTENT_CHECK, MINIBACK_CONTENT_CHECK_FAILURE")
	if cc.Checks(domain.FieldAvatar) || cc.Checks(domain.FieldAttachment) {
		m.Logger.Info("content security: image verdicts arrive by message push (wxa_media_check); "+
			"configure the push URL in the mini-program console, and the image URLs must be reachable from the Internet",
			"media_url_ttl", m.Config.ContentMediaURLTTL.String())
	}
	return cc
}
