package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

// The media check's whole path with no shortcut: an avatar upload is
// submitted to mediaCheckAsync, WeChat pushes the verdict as an encrypted
// wxa_media_check message to the push URL, and the image stops being
// served. No test double stands between the push receiver and the
// moderation use-case: the env wires them as cmd/miniback does.
func TestRiskyAvatarVerdictPushedByWeChatStopsServingIt(t *testing.T) {
	e := newEnv(t, withContentChecks(domain.ContentAccept, domain.FieldAvatar),
		withPush(map[domain.AppID]domain.PushEndpoint{appA: pushEndpoint(t, pushTokenA, pushKeyA, domain.PushSafe)}, nil))
	l := e.login(t, "dev-alice")
	id, trace := e.avatarCheck(t, l)
	link := "/v1/avatars/" + id
	if res := e.api.Get(link); res.Status != http.StatusFound {
		t.Fatalf("avatar before the verdict: %s", res)
	}

	openid := wechatsim.OpenID(string(appA), "alice")
	for _, format := range []wechatsim.PushFormat{wechatsim.PushJSON, wechatsim.PushXML} {
		status, body := e.sender(t)(e.pusherA(format).Request(context.Background(),
			wechatsim.MediaCheckEvent(string(appA), openid, trace, "risky", wechatsim.LabelPolitics)))
		if status != http.StatusOK || body != "success" {
			t.Fatalf("%s push: %d %q", format, status, body)
		}
	}
	wantProblem(t, e.api.Get(link), http.StatusNotFound, domain.CodeNotFound)
	root := e.admin(t, "dev-root")
	items := e.flagged(t, root, "open")
	if len(items) != 1 || items[0].Verdict != "risky" || items[0].SubjectID != id {
		t.Fatalf("open items after the pushed verdict: %+v", items)
	}
}
