package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/miniback/miniback/adapters/wechat"
	"github.com/miniback/miniback/adapters/wechat/wechatsim"
	"github.com/miniback/miniback/domain"
)

func wxaCode(t *testing.T, in domain.WxaCodeInput) domain.WxaCode {
	t.Helper()
	c, err := domain.NewWxaCode(in)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func str(s string) *string { return &s }

func TestWxaCodeUnlimited_ReturnsWeChatsJPEG(t *testing.T) {
	sim, api := newPlatform(t)
	img, err := api.WxaCodeUnlimited(context.Background(), appA, wxaCode(t, domain.WxaCodeInput{Scene: "invite=u42"}))
	if err != nil {
		t.Fatal(err)
	}
	if img.ContentType != "image/jpeg" {
		t.Fatalf("content type %q", img.ContentType)
	}
	if _, err := jpeg.Decode(bytes.NewReader(img.Data)); err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	if n := sim.CallsTo(wechatsim.APIWxaCodeUnlimit); n != 1 {
		t.Fatalf("%d calls, want 1", n)
	}
}

func TestWxaCodeUnlimited_TransparentIsAPNG(t *testing.T) {
	_, api := newPlatform(t)
	hyaline := true
	img, err := api.WxaCodeUnlimited(context.Background(), appA, wxaCode(t, domain.WxaCodeInput{Scene: "a", IsHyaline: &hyaline}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img.Data)); err != nil || img.ContentType != "image/png" {
		t.Fatalf("%q: %v", img.ContentType, err)
	}
}

func TestWxaCodeUnlimited_MapsWeChatsErrcodes(t *testing.T) {
	sim, api := newPlatform(t)
	ctx := context.Background()
	t.Run("40169: a scene WeChat refuses", func(t *testing.T) {
		// Past the domain's rules, as a changed WeChat rule would be.
		_, err := api.WxaCodeUnlimited(ctx, appA, domain.WxaCode{Scene: "a%b", Width: 430, EnvVersion: domain.WxaEnvRelease})
		if domain.ErrorCode(err) != domain.CodeWxaCodeSceneInvalid {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("41030: a page that is not published, with the way out", func(t *testing.T) {
		_, err := api.WxaCodeUnlimited(ctx, appA, wxaCode(t, domain.WxaCodeInput{Scene: "a", Page: str("pages/new/new")}))
		if domain.ErrorCode(err) != domain.CodeWxaCodePageNotFound || !strings.Contains(domain.ErrorMessage(err), "check_path: false") {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("45009: the quota, retry in a minute", func(t *testing.T) {
		sim.InjectError(wechatsim.APIWxaCodeUnlimit, string(appA), 45009, 1)
		_, err := api.WxaCodeUnlimited(ctx, appA, wxaCode(t, domain.WxaCodeInput{Scene: "a"}))
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.CodeWeChatRateLimited || de.RetryAfter != time.Minute {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("-1: busy, as every API", func(t *testing.T) {
		sim.InjectError(wechatsim.APIWxaCodeUnlimit, string(appA), -1, 1)
		_, err := api.WxaCodeUnlimited(ctx, appA, wxaCode(t, domain.WxaCodeInput{Scene: "a"}))
		if domain.ErrorCode(err) != domain.CodeWeChatBusy {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("an unknown app never reaches WeChat", func(t *testing.T) {
		before := sim.CallsTo(wechatsim.APIWxaCodeUnlimit)
		_, err := api.WxaCodeUnlimited(ctx, "wx0000000000000000", wxaCode(t, domain.WxaCodeInput{Scene: "a"}))
		if domain.ErrorCode(err) != domain.CodeUnknownApp || sim.CallsTo(wechatsim.APIWxaCodeUnlimit) != before {
			t.Fatalf("err %v", err)
		}
	})
}

func TestWxaCodeUnlimited_RevokedTokenIsRenewedAndTheCodeMade(t *testing.T) {
	sim, api := newPlatform(t)
	ctx := context.Background()
	c := wxaCode(t, domain.WxaCodeInput{Scene: "a"})
	if _, err := api.WxaCodeUnlimited(ctx, appA, c); err != nil {
		t.Fatal(err)
	}
	sim.Revoke(string(appA))
	if _, err := api.WxaCodeUnlimited(ctx, appA, c); err != nil {
		t.Fatalf("after revoke: %v", err)
	}
	if n := sim.CallsTo(wechatsim.APIWxaCodeUnlimit); n != 3 {
		t.Fatalf("%d calls, want 3 (one refused with 40001, retried)", n)
	}
}

// A reply that says image but is not one is WeChat's fault, not a picture
// to pass on.
func TestWxaCodeUnlimited_RefusesAReplyThatIsNotAnImage(t *testing.T) {
	for name, reply := range map[string]struct{ ct, body string }{
		"HTML labelled as an image": {"image/jpeg", "<html>oops</html>"},
		"a GIF":                     {"image/gif", "GIF89a\x01\x00\x01\x00"},
		"JSON without an errcode":   {"application/json", `{"ok":true}`},
	} {
		t.Run(name, func(t *testing.T) {
			sim := wechatsim.New(wechatsim.Config{Apps: map[string]string{string(appA): secretA}})
			mux := http.NewServeMux()
			mux.Handle("/", sim)
			mux.Handle("POST /wxa/getwxacodeunlimit", sim.TokenAPI("getwxacodeunlimit", func(w http.ResponseWriter, _ *http.Request, _ string) {
				w.Header().Set("Content-Type", reply.ct)
				_, _ = w.Write([]byte(reply.body))
			}))
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			c, err := wechat.NewClient(wechat.Config{BaseURL: srv.URL, Apps: map[domain.AppID]string{appA: secretA}})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.API(wechat.NewProcessTokens(c)).WxaCodeUnlimited(context.Background(), appA, wxaCode(t, domain.WxaCodeInput{Scene: "a"}))
			if domain.ErrorCode(err) != domain.CodeWeChatBadResponse {
				t.Fatalf("err %v, want wechat_bad_response", err)
			}
		})
	}
}
