package main

import (
	"strings"
	"testing"
)

// productionEnv is a complete production configuration but for Cloud
// Hosting.
var productionEnv = []string{
	"MINIBACK_ENV=production", "DATABASE_URL=postgres://db/miniback", "MINIBACK_WECHAT_APPS=wx1:s1",
	"MINIBACK_JWT_PRIVATE_KEYS=pem", "MINIBACK_PUBLIC_URL=https://api.example.com",
	"MINIBACK_CURSOR_SECRET=0123456789abcdef0123456789abcdef",
	"MINIBACK_STORAGE=s3", "MINIBACK_S3_ENDPOINT=https://cos.ap-shanghai.myqcloud.com", "MINIBACK_S3_REGION=ap-shanghai",
	"MINIBACK_S3_BUCKET=photos-1250000000", "MINIBACK_S3_ACCESS_KEY=AKIDxxxx", "MINIBACK_S3_SECRET_KEY=topsecret",
}

func TestCloudRunConfiguration(t *testing.T) {
	production := func(vars ...string) []string { return append(append([]string(nil), productionEnv...), vars...) }
	tests := []struct {
		name     string
		env      []string
		wantErr  []string // substrings of the error; nil means accepted
		cloudRun bool
		baseURL  string
	}{
		{name: "off by default, WeChat's public API", env: nil,
			baseURL: "https://api.weixin.qq.com"},
		{name: "off in production, WeChat's public API", env: production(),
			baseURL: "https://api.weixin.qq.com"},
		{name: "on in development without the acknowledgement (a warning at start)", env: []string{"MINIBACK_CLOUDRUN=true"},
			cloudRun: true, baseURL: "http://api.weixin.qq.com"},
		{name: "on in production with the acknowledgement goes through the open-API service",
			env:      production("MINIBACK_CLOUDRUN=true", "MINIBACK_CLOUDRUN_TRUST_GATEWAY=true"),
			cloudRun: true, baseURL: "http://api.weixin.qq.com"},
		{name: "on with an explicit http base URL keeps it (a proxy of the service)",
			env:      []string{"MINIBACK_CLOUDRUN=true", "MINIBACK_WECHAT_BASE_URL=http://openapi.internal:8080/wx"},
			cloudRun: true, baseURL: "http://openapi.internal:8080/wx"},
		{name: "off with an explicit base URL keeps it", env: []string{"MINIBACK_WECHAT_BASE_URL=https://wx-proxy.example.com"},
			baseURL: "https://wx-proxy.example.com"},
		{name: "on in production without the acknowledgement is refused",
			env:     production("MINIBACK_CLOUDRUN=true"),
			wantErr: []string{"MINIBACK_CLOUDRUN=true in production also needs MINIBACK_CLOUDRUN_TRUST_GATEWAY=true", "X-WX-OPENID"}},
		{name: "on in production with the acknowledgement set false is refused",
			env:     production("MINIBACK_CLOUDRUN=true", "MINIBACK_CLOUDRUN_TRUST_GATEWAY=false"),
			wantErr: []string{"MINIBACK_CLOUDRUN_TRUST_GATEWAY=true"}},
		{name: "the acknowledgement without the mode is refused in development",
			env:     []string{"MINIBACK_CLOUDRUN_TRUST_GATEWAY=true"},
			wantErr: []string{"MINIBACK_CLOUDRUN_TRUST_GATEWAY=true acknowledges the Cloud Hosting mode, which is off"}},
		{name: "the acknowledgement without the mode is refused in production",
			env:     production("MINIBACK_CLOUDRUN_TRUST_GATEWAY=true"),
			wantErr: []string{"MINIBACK_CLOUDRUN_TRUST_GATEWAY=true acknowledges the Cloud Hosting mode, which is off"}},
		{name: "on with an https base URL is refused (the open-API service is plain HTTP)",
			env:     []string{"MINIBACK_CLOUDRUN=true", "MINIBACK_WECHAT_BASE_URL=https://api.weixin.qq.com"},
			wantErr: []string{"MINIBACK_WECHAT_BASE_URL must be http://"}},
		{name: "a mode that is not a boolean is refused", env: []string{"MINIBACK_CLOUDRUN=yes please"},
			wantErr: []string{"MINIBACK_CLOUDRUN"}},
		{name: "an acknowledgement that is not a boolean is refused",
			env:     []string{"MINIBACK_CLOUDRUN=true", "MINIBACK_CLOUDRUN_TRUST_GATEWAY=sure"},
			wantErr: []string{"MINIBACK_CLOUDRUN_TRUST_GATEWAY"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := LoadConfig(tc.env)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatal("accepted")
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CloudRun != tc.cloudRun || cfg.WeChatAPIBaseURL() != tc.baseURL {
				t.Errorf("cloudrun %t, base URL %q; want %t, %q", cfg.CloudRun, cfg.WeChatAPIBaseURL(), tc.cloudRun, tc.baseURL)
			}
		})
	}
}

func TestCloudRunHomeAppIsTheFirstAppListed(t *testing.T) {
	for env, want := range map[string]string{
		"":                             "wxd0d0d0d0d0d0d0d0", // the simulator's
		"wxhome:s1":                    "wxhome",
		" wxhome:s1 , wxshared:s2":     "wxhome",
		"wxshared:s2,wxhome:s1,wxz:s3": "wxshared",
	} {
		cfg, err := LoadConfig([]string{"MINIBACK_CLOUDRUN=true", "MINIBACK_WECHAT_APPS=" + env})
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.HomeApp(); string(got) != want {
			t.Errorf("MINIBACK_WECHAT_APPS=%q: home app %q, want %q", env, got, want)
		}
		if got := cfg.simulatorOpenAPIHome(); got != want {
			t.Errorf("MINIBACK_WECHAT_APPS=%q: the simulator plays the open-API service for %q, want %q", env, got, want)
		}
	}
	if cfg, _ := LoadConfig(nil); cfg.simulatorOpenAPIHome() != "" {
		t.Error("the simulator plays the open-API service with the mode off")
	}
}
