package main

import (
	"fmt"
	"time"

	"github.com/miniback/miniback/domain"
)

// validateWxaCode checks the mini-program code settings.
func (c Config) validateWxaCode() []error {
	var errs []error
	if c.WxaCodeUserLimit < 0 || c.WxaCodeUserLimit > 1_000_000 {
		errs = append(errs, fmt.Errorf("MINIBACK_WXACODE_USER_LIMIT must be between 0 (no limit) and 1000000, not %d", c.WxaCodeUserLimit))
	}
	if c.WxaCodeUserWindow < time.Minute || c.WxaCodeUserWindow > 24*time.Hour {
		errs = append(errs, fmt.Errorf("MINIBACK_WXACODE_USER_WINDOW must be between 1m and 24h, not %s", c.WxaCodeUserWindow))
	}
	return errs
}

// WxaCodeLimit is each user's limit on new mini-program codes.
func (c Config) WxaCodeLimit() domain.ThrottleRule {
	return domain.ThrottleRule{Limit: c.WxaCodeUserLimit, Window: c.WxaCodeUserWindow}
}
