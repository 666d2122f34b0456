package wechatsim

// This file holds the error markers of the APIs whose input a mini-program
// user controls, so that the run command can reach each documented error
// without Go: the login and phone codes are whole codes (err-40029, …,
// see wechatsim.go and phone.go); in longer inputs the marker is a word
// anywhere in the text, spelt the same way:
//
//	err-<errcode>  that errcode, when the API documents it
//	err-busy       -1 system error (as for the login and phone codes)
//
// Where the marker goes, and the errcodes each API takes:
//
//	msg_sec_check      content, title, nickname or signature:
//	                   -1, 40003, 40097, 40129, 43104, 45011, 48001, 61010
//	media_check_async  media_url (miniback's URLs carry nothing of the
//	                   client's, so the run command uses POST
//	                   /wechatsim/faults instead): the same errcodes
//	getwxacodeunlimit  scene: -1, 40097, 40169, 41030, 45009
//
// A marker answers after the request's own checks pass (the access token,
// the body, the openid), as an injected errcode does, and before the
// verdict markers (sim-risky, sim-review). err-<digits> with an errcode
// the API does not document is no marker: the text is checked as usual.
// The first marker in the text wins; each call that carries one answers
// its errcode again.
//
// The APIs without such input (stable_token above all) take faults over
// HTTP: POST /wechatsim/faults (faults.go).

import (
	"regexp"
	"slices"
	"strconv"
)

// markerRE finds err- markers; the digits are greedy, so err-450091 is
// errcode 450091 (not documented anywhere: no marker), not 45009.
var markerRE = regexp.MustCompile(`err-(busy|[0-9]+)`)

// The errcodes each API's markers may ask for.
var (
	secMarkerErrcodes = []int{-1, 40003, 40097, 40129, 43104, 45011, 48001, 61010}
	wxaMarkerErrcodes = []int{-1, 40097, 40169, 41030, 45009}
)

// MarkerErrcodes returns the errcodes an err- marker in api's input can
// ask for (nil for an API without markers in its input).
func MarkerErrcodes(api string) []int {
	switch api {
	case APIMsgSecCheck, APIMediaCheckAsync:
		return slices.Clone(secMarkerErrcodes)
	case APIWxaCodeUnlimit:
		return slices.Clone(wxaMarkerErrcodes)
	}
	return nil
}

// Marker returns the marker that asks for errcode: "err-busy" for -1,
// else "err-" and the errcode.
func Marker(errcode int) string {
	if errcode == -1 {
		return "err-busy"
	}
	return "err-" + strconv.Itoa(errcode)
}

// markedErrcode returns the errcode of the first marker in text that
// documented holds.
func markedErrcode(text string, documented []int) (int, bool) {
	for _, m := range markerRE.FindAllStringSubmatch(text, -1) {
		code := -1
		if m[1] != "busy" {
			n, err := strconv.Atoi(m[1])
			if err != nil {
				continue // too many digits for an int: no errcode
			}
			code = n
		}
		if slices.Contains(documented, code) {
			return code, true
		}
	}
	return 0, false
}
