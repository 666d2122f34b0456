package wechatsim

import (
	"net/http"
)

// This file injects the failures of WeChat's front end rather than of an
// API: an HTTP 5xx with an HTML body, as WeChat's gateway answers when it
// cannot serve. Errcodes are injected by InjectError (platform.go); both
// apply to code2Session too (APICode2Session).

// InjectStatus makes the next times calls of api for appid answer HTTP
// status with an HTML page (after the request's own checks pass), before
// any injected errcode.
func (s *Simulator) InjectStatus(api, appid string, status, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.plat.injectStatus == nil {
		s.plat.injectStatus = make(map[string][]int)
	}
	k := api + "\x00" + appid
	for range times {
		s.plat.injectStatus[k] = append(s.plat.injectStatus[k], status)
	}
}

// injectedStatus pops the next injected HTTP status for api and appid.
func (s *Simulator) injectedStatus(api, appid string) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := api + "\x00" + appid
	q := s.plat.injectStatus[k]
	if len(q) == 0 {
		return 0, false
	}
	s.plat.injectStatus[k] = q[1:]
	return q[0], true
}

// answerInjected answers an injected failure of api for appid, if one is
// due, and reports whether it did: an HTTP status first, else an errcode
// (written by fail, which is code2Session's or the JSON APIs' format).
func (s *Simulator) answerInjected(w http.ResponseWriter, api, appid string, fail func(errcode int)) bool {
	if status, ok := s.injectedStatus(api, appid); ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte("<html><head><title>" + http.StatusText(status) + "</title></head><body><center><h1>" +
			http.StatusText(status) + "</h1></center></body></html>\n"))
		return true
	}
	if code, ok := s.injected(api, appid); ok {
		fail(code)
		return true
	}
	return false
}
