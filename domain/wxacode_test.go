package domain_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/miniback/miniback/domain"
)

func TestNewWxaCode(t *testing.T) {
	defaults := domain.WxaCode{Width: 430, EnvVersion: domain.WxaEnvRelease, CheckPath: true}
	with := func(f func(*domain.WxaCode)) domain.WxaCode {
		c := defaults
		f(&c)
		return c
	}
	tests := []struct {
		name string
		in   domain.WxaCodeInput
		want []string // "field:code"; nil means accepted
		out  domain.WxaCode
	}{
		{name: "a scene alone gets WeChat's defaults: home page, 430 px, release, path checked, black",
			in:  domain.WxaCodeInput{Scene: "a"},
			out: with(func(c *domain.WxaCode) { c.Scene = "a" })},
		{name: "every character WeChat allows is accepted",
			in:  domain.WxaCodeInput{Scene: "09AZaz!#$&'()*+,/:;=?@-._~"},
			out: with(func(c *domain.WxaCode) { c.Scene = "09AZaz!#$&'()*+,/:;=?@-._~" })},
		{name: "32 characters are accepted",
			in:  domain.WxaCodeInput{Scene: strings.Repeat("x", 32)},
			out: with(func(c *domain.WxaCode) { c.Scene = strings.Repeat("x", 32) })},
		{name: "33 characters are refused",
			in: domain.WxaCodeInput{Scene: strings.Repeat("x", 33)}, want: []string{"scene:too_long"}},
		{name: "an empty scene is refused",
			in: domain.WxaCodeInput{}, want: []string{"scene:required"}},
		{name: "% is refused: WeChat cannot carry URL-encoding",
			in: domain.WxaCodeInput{Scene: "a%20b"}, want: []string{"scene:invalid_character"}},
		{name: "Chinese is refused",
			in: domain.WxaCodeInput{Scene: "邀请"}, want: []string{"scene:invalid_character"}},
		{name: "a space is refused",
			in: domain.WxaCodeInput{Scene: "a b"}, want: []string{"scene:invalid_character"}},
		{name: "quotes and backslashes are refused",
			in: domain.WxaCodeInput{Scene: `a"\`}, want: []string{"scene:invalid_character"}},
		{name: "a page and every option are kept",
			in: domain.WxaCodeInput{Scene: "id=7", Page: ptr("pages/item/item"), Width: ptr(1280), EnvVersion: ptr("trial"),
				CheckPath: ptr(false), LineColor: &[3]int{255, 0, 17}, IsHyaline: ptr(true)},
			out: domain.WxaCode{Scene: "id=7", Page: "pages/item/item", Width: 1280, EnvVersion: domain.WxaEnvTrial,
				LineColor: domain.RGB{R: 255, B: 17}, IsHyaline: true}},
		{name: "an empty page is the home page",
			in:  domain.WxaCodeInput{Scene: "a", Page: ptr("")},
			out: with(func(c *domain.WxaCode) { c.Scene = "a" })},
		{name: "a leading slash is refused",
			in: domain.WxaCodeInput{Scene: "a", Page: ptr("/pages/index/index")}, want: []string{"page:leading_slash"}},
		{name: "a query is refused: parameters go in the scene",
			in: domain.WxaCodeInput{Scene: "a", Page: ptr("pages/index/index?id=1")}, want: []string{"page:has_query"}},
		{name: "a fragment is refused",
			in: domain.WxaCodeInput{Scene: "a", Page: ptr("pages/index/index#top")}, want: []string{"page:has_query"}},
		{name: "a space in the page is refused",
			in: domain.WxaCodeInput{Scene: "a", Page: ptr("pages/my page")}, want: []string{"page:invalid_character"}},
		{name: "a page over 128 characters is refused",
			in: domain.WxaCodeInput{Scene: "a", Page: ptr(strings.Repeat("p", 129))}, want: []string{"page:too_long"}},
		{name: "279 px is refused",
			in: domain.WxaCodeInput{Scene: "a", Width: ptr(279)}, want: []string{"width:out_of_range"}},
		{name: "280 px is accepted",
			in:  domain.WxaCodeInput{Scene: "a", Width: ptr(280)},
			out: with(func(c *domain.WxaCode) { c.Scene, c.Width = "a", 280 })},
		{name: "1281 px is refused",
			in: domain.WxaCodeInput{Scene: "a", Width: ptr(1281)}, want: []string{"width:out_of_range"}},
		{name: "an unknown env_version is refused",
			in: domain.WxaCodeInput{Scene: "a", EnvVersion: ptr("beta")}, want: []string{"env_version:invalid"}},
		{name: "develop is accepted",
			in:  domain.WxaCodeInput{Scene: "a", EnvVersion: ptr("develop")},
			out: with(func(c *domain.WxaCode) { c.Scene, c.EnvVersion = "a", domain.WxaEnvDevelop })},
		{name: "a colour component over 255 is refused",
			in: domain.WxaCodeInput{Scene: "a", LineColor: &[3]int{0, 256, 0}}, want: []string{"line_color.g:out_of_range"}},
		{name: "auto_color drops line_color, which WeChat ignores then",
			in:  domain.WxaCodeInput{Scene: "a", AutoColor: ptr(true), LineColor: &[3]int{9, 9, 9}},
			out: with(func(c *domain.WxaCode) { c.Scene, c.AutoColor = "a", true })},
		{name: "every broken rule is reported at once",
			in:   domain.WxaCodeInput{Scene: "", Page: ptr("/a?b"), Width: ptr(10), EnvVersion: ptr("x")},
			want: []string{"scene:required", "page:leading_slash", "width:out_of_range", "env_version:invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.NewWxaCode(tt.in)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got != tt.out {
					t.Fatalf("got %+v, want %+v", got, tt.out)
				}
				return
			}
			if domain.ErrorCode(err) != domain.CodeInvalid {
				t.Fatalf("err %v, want validation_failed", err)
			}
			if codes := uploadFieldCodes(err); !slices.Equal(codes, tt.want) {
				t.Fatalf("field errors %v, want %v", codes, tt.want)
			}
		})
	}
}

// The spec's scene pattern is the domain's rule: a client reading the
// spec learns the same characters.
func TestWxaSceneRuleMatchesTheSpecPattern(t *testing.T) {
	spec := regexp.MustCompile(`^[0-9A-Za-z!#$&'()*+,/:;=?@._~-]+$`)
	for b := 0; b < 256; b++ {
		s := string([]byte{byte(b)})
		_, err := domain.NewWxaCode(domain.WxaCodeInput{Scene: s})
		if (err == nil) != spec.MatchString(s) {
			t.Errorf("byte %#x: domain accepts %v, spec pattern %v", b, err == nil, spec.MatchString(s))
		}
	}
}

func TestWxaCodeCacheKey(t *testing.T) {
	code := func(in domain.WxaCodeInput) domain.WxaCode {
		t.Helper()
		c, err := domain.NewWxaCode(in)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	base := code(domain.WxaCodeInput{Scene: "invite=u42", Page: ptr("pages/invite/invite")})
	key := base.CacheKey("wx00000000000000a1")
	if !regexp.MustCompile(`^wxacode/wx00000000000000a1/[0-9a-f]{64}$`).MatchString(key) {
		t.Fatalf("key %q", key)
	}

	t.Run("the defaults spelled out are the same request", func(t *testing.T) {
		spelled := code(domain.WxaCodeInput{Scene: "invite=u42", Page: ptr("pages/invite/invite"), Width: ptr(430),
			EnvVersion: ptr("release"), CheckPath: ptr(true), AutoColor: ptr(false), LineColor: &[3]int{0, 0, 0}, IsHyaline: ptr(false)})
		if spelled.CacheKey("wx00000000000000a1") != key {
			t.Fatal("the explicit defaults make another key")
		}
	})
	t.Run("another app never shares a key", func(t *testing.T) {
		if base.CacheKey("wx00000000000000b2") == key {
			t.Fatal("two apps share a key")
		}
	})
	t.Run("every parameter that changes the image changes the key", func(t *testing.T) {
		others := []domain.WxaCodeInput{
			{Scene: "invite=u43", Page: ptr("pages/invite/invite")},
			{Scene: "invite=u42"},
			{Scene: "invite=u42", Page: ptr("pages/invite/invite"), Width: ptr(431)},
			{Scene: "invite=u42", Page: ptr("pages/invite/invite"), EnvVersion: ptr("trial")},
			{Scene: "invite=u42", Page: ptr("pages/invite/invite"), CheckPath: ptr(false)},
			{Scene: "invite=u42", Page: ptr("pages/invite/invite"), AutoColor: ptr(true)},
			{Scene: "invite=u42", Page: ptr("pages/invite/invite"), LineColor: &[3]int{0, 0, 1}},
			{Scene: "invite=u42", Page: ptr("pages/invite/invite"), IsHyaline: ptr(true)},
		}
		seen := map[string]int{key: -1}
		for i, in := range others {
			k := code(in).CacheKey("wx00000000000000a1")
			if j, dup := seen[k]; dup {
				t.Errorf("request %d has the key of request %d", i, j)
			}
			seen[k] = i
		}
	})
}

func TestWxaCodeImageETagIsTheContentHash(t *testing.T) {
	a := domain.WxaCodeImage{ContentType: "image/png", Data: []byte("one")}
	b := domain.WxaCodeImage{ContentType: "image/png", Data: []byte("two")}
	if a.ETag() == b.ETag() || a.ETag() != (domain.WxaCodeImage{Data: []byte("one")}).ETag() {
		t.Fatal("the tag does not follow the bytes")
	}
	if !regexp.MustCompile(`^"[0-9a-f]{64}"$`).MatchString(a.ETag()) {
		t.Fatalf("tag %s does not match the spec's pattern", a.ETag())
	}
}

func TestWxaCodePageNotFoundSuggestsCheckPathFalse(t *testing.T) {
	err := domain.ErrWxaCodePageNotFound("pages/new/new", nil)
	if !strings.Contains(err.Message, "check_path: false") || !strings.Contains(err.Message, "pages/new/new") {
		t.Fatalf("message %q", err.Message)
	}
}
