package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/httpapi/api"
	"github.com/miniback/miniback/adapters/httpapi/apitest"
	"github.com/miniback/miniback/adapters/postgres/pgtest"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// TestRunCommandDeliversPushesFromTheSimulator starts the built binary on
// embedded defaults: it announces the development message push of the
// simulator's app, and an event delivered by hand through the simulator
// (POST /wechatsim/push, signed and encrypted like WeChat) acts on the
// API: user_authorization_revoke ends the user's session. The development
// Token and key never reach the log.
func TestRunCommandDeliversPushesFromTheSimulator(t *testing.T) {
	pgtest.SkipIfShort(t, "builds and starts the binary")
	bin := buildBinary(t)
	addr := freeAddr(t)
	cmd := exec.Command(bin)
	cmd.Env = append(cleanEnv(), "MINIBACK_ADDR="+addr, "MINIBACK_DATA_DIR="+filepath.Join(t.TempDir(), "data"),
		"MINIBACK_WECHAT_TIMEOUT=2s", "MINIBACK_SHUTDOWN_TIMEOUT=15s")
	logs := startAndWait(t, cmd, "miniback is ready")
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = waitExit(cmd, 30*time.Second)
	})

	var simURL string
	for _, line := range strings.Split(logs.String(), "\n") {
		var entry struct {
			Msg          string `json:"msg"`
			SimulatorURL string `json:"simulator_url"`
			PushURL      string `json:"push_url"`
		}
		if json.Unmarshal([]byte(line), &entry) != nil || !strings.HasPrefix(entry.Msg, "embedded default: message push") {
			continue
		}
		if entry.PushURL != "http://"+addr+"/v1/wechat/push/"+wechatsim.DefaultAppID {
			t.Errorf("announced push URL %q", entry.PushURL)
		}
		simURL = entry.SimulatorURL
	}
	if simURL == "" {
		t.Fatalf("the start-up log does not announce the development message push:\n%s", logs)
	}

	c := apitest.NewRemote(t, "http://"+addr)
	login := c.JSON("POST", "/v1/auth/wechat", map[string]string{"code": "dev-carol"})
	if login.Status != http.StatusOK {
		t.Fatalf("login: %s", login)
	}
	var lr api.LoginResponse
	login.Decode(&lr)
	auth := "Authorization: Bearer " + lr.AccessToken
	if res := c.Get("/v1/me", auth); res.Status != http.StatusOK {
		t.Fatalf("GET /v1/me: %s", res)
	}

	res, err := http.Post(simURL+"/wechatsim/push?appid="+wechatsim.DefaultAppID+"&user=carol", "application/json",
		strings.NewReader(`{"Event":"user_authorization_revoke","RevokeInfo":"1"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(body), `"reply":"success"`) {
		t.Fatalf("the simulator's delivery: %d %s", res.StatusCode, body)
	}
	if res := c.Get("/v1/me", auth); res.Status != http.StatusUnauthorized || res.Problem().Code != "session_revoked" {
		t.Fatalf("after the revocation: want 401 session_revoked\n%s", res)
	}
	for _, secret := range []string{wechatsim.DefaultPushToken, wechatsim.DefaultEncodingAESKey} {
		if strings.Contains(logs.String(), secret) {
			t.Error("a push secret appeared in the log")
		}
	}
}
