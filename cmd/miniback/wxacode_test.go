package main

import (
	"strings"
	"testing"
	"time"
)

func TestWxaCodeUserLimitDefaultsToAHundredAnHourAndIsConfigurable(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.WxaCodeLimit(); r.Limit != 100 || r.Window != time.Hour {
		t.Errorf("default %+v, want 100 per hour", r)
	}
	cfg, err = LoadConfig([]string{"MINIBACK_WXACODE_USER_LIMIT=0", "MINIBACK_WXACODE_USER_WINDOW=10m"})
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.WxaCodeLimit(); r.Limit != 0 || r.Window != 10*time.Minute {
		t.Errorf("got %+v, want no limit, 10m", r)
	}
	for _, env := range []string{"MINIBACK_WXACODE_USER_LIMIT=-1", "MINIBACK_WXACODE_USER_WINDOW=1s", "MINIBACK_WXACODE_USER_WINDOW=48h"} {
		name, _, _ := strings.Cut(env, "=")
		if _, err := LoadConfig([]string{env}); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err %v, want one naming %s", env, err, name)
		}
	}
}
