package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/httpapi"
	"github.com/miniback/miniback/adapters/storagetest"
	"github.com/miniback/miniback/domain"
)

// readyAvatar uploads and completes an avatar picture and returns its
// upload id.
func (e *env) readyAvatar(t *testing.T, token string) string {
	t.Helper()
	picture := storagetest.Bytes(512)
	tk := e.ticket(t, token, "avatar", "image/png", len(picture))
	if status, body := e.wxUpload(t, tk, nil, picture); status != http.StatusNoContent {
		t.Fatalf("upload: %d %s", status, body)
	}
	if status, _, code := e.complete(t, token, tk.ID); status != http.StatusOK {
		t.Fatalf("complete: %d %s", status, code)
	}
	return tk.ID
}

// sendBack PATCHes the editable fields of the profile GET /v1/me answers,
// unchanged, and returns the response.
func sendBack(t *testing.T, e *env, auth string) (user, int, user) {
	t.Helper()
	res := e.apiFor(t).Get("/v1/me", auth)
	if res.Status != http.StatusOK {
		t.Fatal(res)
	}
	var read user
	res.Decode(&read)
	res = e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"nickname": read.Nickname, "avatar_url": read.AvatarURL, "bio": read.Bio}, auth)
	var written user
	if res.Status == http.StatusOK {
		res.Decode(&written)
	}
	return read, res.Status, written
}

func TestAProfileReadCanBeSentBackUnchanged(t *testing.T) {
	if !strings.HasPrefix(publicURL, "http://") {
		t.Fatalf("the test API's public URL %q is not http, as in development", publicURL)
	}
	e := newEnv(t)
	l := e.login(t, "dev-alice")
	auth := bearer(l.AccessToken)
	if res := e.api.JSON("PATCH", "/v1/me", map[string]string{"nickname": "Alice", "bio": "hi"}, auth); res.Status != http.StatusOK {
		t.Fatal(res)
	}

	t.Run("the server's own http avatar link", func(t *testing.T) {
		id := e.readyAvatar(t, l.AccessToken)
		if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_upload_id": id}, auth); res.Status != http.StatusOK {
			t.Fatal(res)
		}
		read, status, written := sendBack(t, e, auth)
		if read.AvatarURL != publicURL+"/v1/avatars/"+id {
			t.Fatalf("avatar_url %q is not the server's http link", read.AvatarURL)
		}
		if status != http.StatusOK || written.AvatarURL != read.AvatarURL || written.Nickname != "Alice" || written.Bio != "hi" {
			t.Errorf("sent back unchanged: status %d, profile %+v, want 200 and %+v", status, written, read)
		}
	})
	t.Run("a value no rule allows now, unchanged", func(t *testing.T) {
		// As a link issued under an earlier public base URL would be.
		const legacy = "http://old-host.example.com/v1/avatars/0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
		if _, err := e.users.UpdateUser(context.Background(), domain.UserID(l.User.ID), func(u domain.User) (domain.User, error) {
			u.AvatarURL = legacy
			return u, nil
		}); err != nil {
			t.Fatal(err)
		}
		if read, status, _ := sendBack(t, e, auth); read.AvatarURL != legacy || status != http.StatusOK {
			t.Errorf("sent back %q unchanged: status %d, want 200", read.AvatarURL, status)
		}
	})
	t.Run("other URLs", func(t *testing.T) {
		const id = "0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
		for _, u := range []string{
			"http://cdn.example.com/a.png",
			"http://evil.example.com/v1/avatars/" + id,
			strings.Replace(publicURL, "http://", "ftp://", 1) + "/v1/avatars/" + id,
			publicURL + "/v1/avatars/" + strings.ToUpper(id),
			publicURL + "/v1/avatars/" + id + "?x=1",
			publicURL + "/v1/todos/" + id,
		} {
			res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_url": u}, auth)
			wantProblem(t, res, http.StatusBadRequest, domain.CodeInvalid)
			if codes := fieldCodes(res.Problem()); codes["body.avatar_url"] != "invalid_url" {
				t.Errorf("avatar_url %q: field errors %v, want body.avatar_url invalid_url", u, codes)
			}
		}
		if res := e.apiFor(t).JSON("PATCH", "/v1/me", map[string]string{"avatar_url": "https://cdn.example.com/a.png"}, auth); res.Status != http.StatusOK {
			t.Errorf("an https avatar_url: %s", res)
		}
	})
}

func TestLinksRecogniseOnlyTheirOwnAvatarLinks(t *testing.T) {
	const id = "0d2c6a4e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"
	for base, cases := range map[string]map[string]bool{
		"http://localhost:8080": {
			"http://localhost:8080/v1/avatars/" + id:        true,
			"https://localhost:8080/v1/avatars/" + id:       false,
			"http://localhost:8081/v1/avatars/" + id:        false,
			"http://localhost:8080/v1/avatars/" + id + "/":  false,
			"http://localhost:8080/v1/avatars/":             false,
			"http://localhost:8080/v1/avatars/not-a-uuid":   false,
			"http://localhost:8080/v1/avatars/{" + id + "}": false,
		},
		"https://api.example.com/base/": {
			"https://api.example.com/base/v1/avatars/" + id: true,
			"https://api.example.com/v1/avatars/" + id:      false,
		},
	} {
		links := httpapi.Links{PublicURL: base}
		if got := links.AvatarURL(domain.UploadID(id)); !links.IsAvatarURL(got) {
			t.Errorf("%s: its own link %q is not recognised", base, got)
		}
		for u, want := range cases {
			if got := links.IsAvatarURL(u); got != want {
				t.Errorf("%s: IsAvatarURL(%q) = %v, want %v", base, u, got, want)
			}
		}
	}
}
