package main

import (
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/domain"
)

const (
	testPushToken = "pushTokenOfAppA"
	testPushKey   = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

func TestLoadConfigReadsMessagePushSettings(t *testing.T) {
	cfg, err := LoadConfig([]string{
		"MINIBACK_WECHAT_APPS=wxa:secret-a,wxb:secret-b,wxc:secret-c",
		"MINIBACK_WECHAT_PUSH=wxa:" + testPushToken + ":" + testPushKey + ", wxb:tokenB:" + testPushKey + ":compat,wxc:tokenC",
		"MINIBACK_WECHAT_PUSH_MAX_AGE=2m", "MINIBACK_WECHAT_PUSH_RETENTION=48h",
	})
	if err != nil {
		t.Fatal(err)
	}
	push, err := cfg.PushEndpoints()
	if err != nil {
		t.Fatal(err)
	}
	if len(push) != 3 || push["wxa"].Mode != domain.PushSafe || push["wxb"].Mode != domain.PushCompat || push["wxc"].Mode != domain.PushPlain ||
		push["wxa"].Token.Reveal() != testPushToken {
		t.Errorf("endpoints = %+v", push)
	}
	if cfg.WeChatPushMaxAge != 2*time.Minute || cfg.WeChatPushRetention != 48*time.Hour {
		t.Errorf("max age %s, retention %s", cfg.WeChatPushMaxAge, cfg.WeChatPushRetention)
	}
}

func TestLoadConfigPushDefaults(t *testing.T) {
	cfg, err := LoadConfig(nil)
	if err != nil {
		t.Fatal(err)
	}
	if push, _ := cfg.PushEndpoints(); len(push) != 0 || cfg.WeChatPushMaxAge != 5*time.Minute || cfg.WeChatPushRetention != 30*24*time.Hour {
		t.Errorf("push %v, max age %s, retention %s", push, cfg.WeChatPushMaxAge, cfg.WeChatPushRetention)
	}
}

func TestLoadConfigRefusesBadPushSettingsWithoutQuotingSecrets(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"no token", []string{"MINIBACK_WECHAT_PUSH=wxa"}, "entry 1 must be"},
		{"short key", []string{"MINIBACK_WECHAT_PUSH=wxa:" + testPushToken + ":" + testPushKey[:40]}, "appid wxa: an EncodingAESKey is 43"},
		{"token with a space", []string{"MINIBACK_WECHAT_PUSH=wxa:" + testPushToken + " x:" + testPushKey}, "appid wxa: the Token must be"},
		{"safe without key", []string{"MINIBACK_WECHAT_PUSH=wxa:" + testPushToken + "::safe"}, "safe mode needs an EncodingAESKey"},
		{"unknown mode", []string{"MINIBACK_WECHAT_PUSH=wxa:" + testPushToken + ":" + testPushKey + ":" + testPushKey}, "the mode must be"},
		{"twice", []string{"MINIBACK_WECHAT_PUSH=wxa:" + testPushToken + ",wxa:" + testPushToken}, "listed twice"},
		{"app not served", []string{"MINIBACK_WECHAT_APPS=wxb:secret", "MINIBACK_WECHAT_PUSH=wxa:" + testPushToken}, "appid wxa is not in MINIBACK_WECHAT_APPS"},
		{"window too wide", []string{"MINIBACK_WECHAT_PUSH_MAX_AGE=2h"}, "MINIBACK_WECHAT_PUSH_MAX_AGE"},
		{"retention too short", []string{"MINIBACK_WECHAT_PUSH_RETENTION=1m"}, "MINIBACK_WECHAT_PUSH_RETENTION"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadConfig(tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), testPushToken) || strings.Contains(err.Error(), testPushKey[:40]) {
				t.Errorf("the error quotes a secret: %v", err)
			}
		})
	}
}
