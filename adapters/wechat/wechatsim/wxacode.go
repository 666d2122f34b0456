package wechatsim

// This file simulates POST /wxa/getwxacodeunlimit, the mini-program code
// (小程序码) API, in WeChat's wire format: success is the image bytes with
// Content-Type image/jpeg (image/png when is_hyaline is true); failure is
// {"errcode","errmsg"} as application/json, HTTP 200 both ways.
//
// After the access token check (platform.go) and any injected errcode
// (InjectError(APIWxaCodeUnlimit, appid, 45009, n), or POST
// /wechatsim/faults), the body is checked like WeChat does:
//
//	not JSON                          40169 invalid length for scene, or the data is not json string
//	scene empty, over 32 characters,  40169 (the same)
//	  or a character outside
//	  0-9A-Za-z!#$&'()*+,/:;=?@-._~
//	env_version not release, trial    40097 invalid args
//	  or develop
//	page with a leading / or a ?      41030 invalid page
//	check_path (default true) and a   41030 invalid page
//	  page not published
//
// Then a scene containing an error marker (markers.go) answers its
// errcode, so the run command reaches each of them through miniback's own
// scene rule: err-45009 the quota, err-40169, err-41030, err-40097, and
// err-busy (-1).
//
// The published pages are pages/index/index and whatever PublishPages
// adds. A width outside 280–1280 is clamped to it, not refused (WeChat's
// docs give only the range; developers report codes at the nearest
// allowed size). The image is a small, valid JPEG or PNG of width×width
// pixels, not a scannable code: three finder squares and modules drawn
// from a hash of the app and the parameters, in line_color (or a colour
// of WeChat's choosing with auto_color) on white, or on transparent with
// is_hyaline. Identical requests get identical bytes.

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"strings"
)

// APIWxaCodeUnlimit names getwxacodeunlimit for CallsTo and InjectError.
const APIWxaCodeUnlimit = "getwxacodeunlimit"

// DefaultPublishedPage is the page every simulated mini-program has.
const DefaultPublishedPage = "pages/index/index"

// The simulator's errmsgs for this API, as WeChat words them.
const (
	msgWxaBadScene = "invalid length for scene, or the data is not json string"
	msgWxaBadPage  = "invalid page"
	msgWxaBadArgs  = "invalid args"
)

// wxaPages are the pages the simulated mini-programs have published.
type wxaPages struct {
	published map[string]bool
}

// PublishPages adds pages to every simulated mini-program's published
// pages (check_path true accepts only those and DefaultPublishedPage).
func (s *Simulator) PublishPages(pages ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.wxa.published == nil {
		s.wxa.published = map[string]bool{}
	}
	for _, p := range pages {
		s.wxa.published[p] = true
	}
}

func (s *Simulator) isPublished(page string) bool {
	if page == DefaultPublishedPage {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.wxa.published[page]
}

// wxaCodeRequest is getwxacodeunlimit's body; pointers tell "absent"
// from a zero value, as WeChat applies defaults to absent fields.
type wxaCodeRequest struct {
	Scene      string  `json:"scene"`
	Page       string  `json:"page"`
	CheckPath  *bool   `json:"check_path"`
	EnvVersion *string `json:"env_version"`
	Width      *int    `json:"width"`
	AutoColor  bool    `json:"auto_color"`
	LineColor  *struct {
		R, G, B int
	} `json:"line_color"`
	IsHyaline bool `json:"is_hyaline"`
}

// wxaCodeUnlimit serves POST /wxa/getwxacodeunlimit (behind withToken).
func (s *Simulator) wxaCodeUnlimit(w http.ResponseWriter, r *http.Request, appid string) {
	var req wxaCodeRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil || json.Unmarshal(body, &req) != nil {
		s.wxaFail(w, appid, 40169, msgWxaBadScene)
		return
	}
	if !validWxaScene(req.Scene) {
		s.wxaFail(w, appid, 40169, msgWxaBadScene)
		return
	}
	env := "release"
	if req.EnvVersion != nil {
		switch env = *req.EnvVersion; env {
		case "release", "trial", "develop":
		default:
			s.wxaFail(w, appid, 40097, msgWxaBadArgs)
			return
		}
	}
	checkPath := req.CheckPath == nil || *req.CheckPath
	switch {
	case strings.HasPrefix(req.Page, "/") || strings.Contains(req.Page, "?"):
		s.wxaFail(w, appid, 41030, msgWxaBadPage)
		return
	case checkPath && req.Page != "" && !s.isPublished(req.Page):
		s.wxaFail(w, appid, 41030, msgWxaBadPage)
		return
	}
	if code, ok := markedErrcode(req.Scene, wxaMarkerErrcodes); ok {
		s.wxaFail(w, appid, code, wxaErrmsg(code))
		return
	}
	width := 430
	if req.Width != nil {
		width = min(max(*req.Width, 280), 1280)
	}
	ink := color.NRGBA{A: 255}
	if req.LineColor != nil && !req.AutoColor {
		ink = color.NRGBA{R: clampByte(req.LineColor.R), G: clampByte(req.LineColor.G), B: clampByte(req.LineColor.B), A: 255}
	}
	seed := sha256.Sum256(fmt.Appendf(nil, "%s\x00%s\x00%s\x00%s\x00%v\x00%v\x00%d",
		appid, req.Scene, req.Page, env, req.AutoColor, ink, width))
	if req.AutoColor {
		// WeChat picks a colour from the page's theme; a dark one here.
		ink = color.NRGBA{R: seed[0] / 2, G: seed[1] / 2, B: seed[2] / 2, A: 255}
	}
	img := drawWxaCode(width, seed, ink, req.IsHyaline)
	var out bytes.Buffer
	contentType := "image/jpeg"
	if req.IsHyaline {
		contentType = "image/png"
		err = png.Encode(&out, img)
	} else {
		err = jpeg.Encode(&out, img, &jpeg.Options{Quality: 80})
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(out.Len()))
	_, _ = w.Write(out.Bytes())
	if s.log != nil {
		s.log.Info("wechatsim: getwxacodeunlimit", "appid", appid, "scene", req.Scene, "page", req.Page,
			"width", width, "content_type", contentType, "bytes", out.Len())
	}
}

func (s *Simulator) wxaFail(w http.ResponseWriter, appid string, errcode int, msg string) {
	writeAPIJSON(w, apiFailure{ErrCode: errcode, ErrMsg: msg + " rid: " + newRID()})
	if s.log != nil {
		s.log.Info("wechatsim: getwxacodeunlimit", "appid", appid, "errcode", errcode)
	}
}

// wxaErrmsg is this API's message for errcode.
func wxaErrmsg(errcode int) string {
	switch errcode {
	case 40169:
		return msgWxaBadScene
	case 41030:
		return msgWxaBadPage
	case 40097:
		return msgWxaBadArgs
	}
	return errmsg(errcode)
}

// validWxaScene applies WeChat's scene rule.
func validWxaScene(scene string) bool {
	if scene == "" || len(scene) > 32 {
		return false
	}
	for i := 0; i < len(scene); i++ {
		c := scene[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&'()*+,/:;=?@-._~", c) >= 0) {
			return false
		}
	}
	return true
}

func clampByte(v int) uint8 { return uint8(min(max(v, 0), 255)) }

// wxaModules is the side of the simulated code's grid, in modules.
const wxaModules = 21

// drawWxaCode draws a width×width code-like picture: finder squares in
// three corners, the other modules on or off by the bits of seed.
func drawWxaCode(width int, seed [32]byte, ink color.NRGBA, transparent bool) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, width, width))
	paper := color.NRGBA{R: 255, G: 255, B: 255, A: 255}
	if transparent {
		paper = color.NRGBA{}
	}
	// A quiet zone of one module around the grid.
	cell := width / (wxaModules + 2)
	origin := (width - cell*wxaModules) / 2
	on := func(x, y int) bool {
		if f, ok := finder(x, y); ok {
			return f
		}
		bit := (y*wxaModules + x) % 256
		return seed[bit/8]>>(bit%8)&1 == 1
	}
	for py := 0; py < width; py++ {
		my := (py - origin) / cell
		for px := 0; px < width; px++ {
			mx := (px - origin) / cell
			c := paper
			if px >= origin && py >= origin && mx < wxaModules && my < wxaModules && on(mx, my) {
				c = ink
			}
			img.SetNRGBA(px, py, c)
		}
	}
	return img
}

// finder reports whether module (x, y) is inside one of the three 7×7
// finder squares (and whether it is dark there), or outside them all.
func finder(x, y int) (dark, inside bool) {
	for _, o := range [][2]int{{0, 0}, {wxaModules - 7, 0}, {0, wxaModules - 7}} {
		dx, dy := x-o[0], y-o[1]
		if dx < 0 || dy < 0 || dx > 7 || dy > 7 {
			continue
		}
		if dx == 7 || dy == 7 {
			return false, true // the separator
		}
		ring := min(dx, dy, 6-dx, 6-dy)
		return ring != 1, true
	}
	return false, false
}
