package wechatsim_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/miniback/miniback/adapters/wechat/wechatsim"
)

// wxaCode posts body to getwxacodeunlimit with token.
func wxaCode(t *testing.T, sim *wechatsim.Simulator, token, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	sim.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wxa/getwxacodeunlimit?access_token="+token, strings.NewReader(body)))
	if w.Code != http.StatusOK {
		t.Fatalf("HTTP %d: WeChat answers 200 whatever happens", w.Code)
	}
	return w
}

// errcodeOf decodes a JSON failure, failing the test on an image.
func errcodeOf(t *testing.T, w *httptest.ResponseRecorder) int {
	t.Helper()
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var f struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &f); err != nil || f.ErrMsg == "" {
		t.Fatalf("not a WeChat failure: %q", w.Body)
	}
	return f.ErrCode
}

func newWxaSim() *wechatsim.Simulator {
	return wechatsim.New(wechatsim.Config{Apps: map[string]string{appID: secret}})
}

func TestWxaCode_SuccessIsAJPEGOfTheRequestedWidth(t *testing.T) {
	sim := newWxaSim()
	w := wxaCode(t, sim, accessToken(t, sim), `{"scene":"a=1","page":"pages/index/index","width":300}`)
	if ct := w.Header().Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("Content-Type %q, want image/jpeg (WeChat's default)", ct)
	}
	img, err := jpeg.Decode(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatalf("not a JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 300 || b.Dy() != 300 {
		t.Fatalf("size %v, want 300×300", b)
	}
	if n := sim.CallsTo(wechatsim.APIWxaCodeUnlimit); n != 1 {
		t.Fatalf("%d calls counted, want 1", n)
	}
}

func TestWxaCode_HyalineIsAPNGWithATransparentBackground(t *testing.T) {
	sim := newWxaSim()
	w := wxaCode(t, sim, accessToken(t, sim), `{"scene":"a","is_hyaline":true,"line_color":{"r":200,"g":10,"b":10}}`)
	if ct := w.Header().Get("Content-Type"); ct != "image/png" {
		t.Fatalf("Content-Type %q, want image/png", ct)
	}
	img, err := png.Decode(bytes.NewReader(w.Body.Bytes()))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 430 {
		t.Fatalf("width %d, want WeChat's default 430", b.Dx())
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Fatalf("corner alpha %d, want transparent", a)
	}
	if !hasColour(img, 200, 10, 10) {
		t.Fatal("no pixel in the line colour")
	}
}

func hasColour(img image.Image, r, g, b uint8) bool {
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			if ca == 0xffff && uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b {
				return true
			}
		}
	}
	return false
}

func TestWxaCode_PixelsFollowTheParameters(t *testing.T) {
	sim := newWxaSim()
	tok := accessToken(t, sim)
	get := func(body string) []byte { return wxaCode(t, sim, tok, body).Body.Bytes() }
	a := get(`{"scene":"a"}`)
	if !bytes.Equal(a, get(`{"scene":"a"}`)) {
		t.Fatal("the same request made different images")
	}
	for _, other := range []string{`{"scene":"b"}`, `{"scene":"a","page":"pages/index/index"}`, `{"scene":"a","env_version":"trial"}`,
		`{"scene":"a","line_color":{"r":1,"g":0,"b":0}}`, `{"scene":"a","auto_color":true}`} {
		if bytes.Equal(a, get(other)) {
			t.Errorf("%s made the image of {\"scene\":\"a\"}", other)
		}
	}
}

func TestWxaCode_WidthIsClampedToWeChatsRange(t *testing.T) {
	sim := newWxaSim()
	tok := accessToken(t, sim)
	for body, want := range map[string]int{`{"scene":"a","width":100}`: 280, `{"scene":"a","width":5000}`: 1280} {
		img, err := jpeg.Decode(bytes.NewReader(wxaCode(t, sim, tok, body).Body.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if got := img.Bounds().Dx(); got != want {
			t.Errorf("%s: width %d, want %d", body, got, want)
		}
	}
}

func TestWxaCode_RefusesLikeWeChat(t *testing.T) {
	sim := newWxaSim()
	sim.PublishPages("pages/shop/shop")
	tok := accessToken(t, sim)
	tests := []struct {
		name, body string
		errcode    int
	}{
		{"a body that is not JSON", `scene=a`, 40169},
		{"no scene", `{"page":"pages/index/index"}`, 40169},
		{"a scene of 33 characters", `{"scene":"` + strings.Repeat("x", 33) + `"}`, 40169},
		{"a % in the scene", `{"scene":"a%20b"}`, 40169},
		{"Chinese in the scene", `{"scene":"邀请"}`, 40169},
		{"an unknown env_version", `{"scene":"a","env_version":"beta"}`, 40097},
		{"an unpublished page", `{"scene":"a","page":"pages/new/new"}`, 41030},
		{"a leading slash", `{"scene":"a","page":"/pages/index/index"}`, 41030},
		{"a query in the page", `{"scene":"a","page":"pages/index/index?x=1"}`, 41030},
		{"a query even without the check", `{"scene":"a","page":"pages/index/index?x=1","check_path":false}`, 41030},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errcodeOf(t, wxaCode(t, sim, tok, tt.body)); got != tt.errcode {
				t.Fatalf("errcode %d, want %d", got, tt.errcode)
			}
		})
	}
	for _, body := range []string{
		`{"scene":"a","page":"pages/shop/shop"}`,                  // published by the test
		`{"scene":"a","page":"pages/new/new","check_path":false}`, // unpublished, unchecked
		`{"scene":"a","page":""}`,                                 // the home page
	} {
		if ct := wxaCode(t, sim, tok, body).Header().Get("Content-Type"); ct != "image/jpeg" {
			t.Errorf("%s: Content-Type %q, want an image", body, ct)
		}
	}
}

func TestWxaCode_TokenIsCheckedFirstAndErrorsCanBeInjected(t *testing.T) {
	sim := newWxaSim()
	if got := errcodeOf(t, wxaCode(t, sim, "", `{"scene":"a"}`)); got != wechatsim.ErrTokenMissing {
		t.Fatalf("no token: errcode %d", got)
	}
	tok := accessToken(t, sim)
	sim.Revoke(appID)
	if got := errcodeOf(t, wxaCode(t, sim, tok, `{"scene":"a"}`)); got != wechatsim.ErrTokenInvalid {
		t.Fatalf("revoked token: errcode %d", got)
	}
	tok = accessToken(t, sim)
	sim.InjectError(wechatsim.APIWxaCodeUnlimit, appID, 45009, 1)
	if got := errcodeOf(t, wxaCode(t, sim, tok, `{"scene":"a"}`)); got != 45009 {
		t.Fatalf("injected: errcode %d, want 45009", got)
	}
	if ct := wxaCode(t, sim, tok, `{"scene":"a"}`).Header().Get("Content-Type"); ct != "image/jpeg" {
		t.Fatalf("after the injected error: %q, want an image", ct)
	}
	if n := sim.CallsTo(wechatsim.APIWxaCodeUnlimit); n != 4 {
		t.Fatalf("%d calls counted, want 4 (refused ones included)", n)
	}
}
