package wechatsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// This file injects the failures of WeChat's front end rather than of an
// API: an HTTP 5xx with an HTML body, as WeChat's gateway answers when it
// cannot serve. Errcodes are injected by InjectError (platform.go); both
// apply to code2Session too (APICode2Session).
//
// The running simulator takes both over HTTP, for the APIs whose input no
// mini-program user controls (stable_token above all; see markers.go for
// the others), and lets a developer make the access token go bad:
//
//	POST   /wechatsim/faults  {"api","appid","errcode"|"status","times"}
//	                          queues times (default 1) failures of api for
//	                          appid (default: the only app served):
//	                          errcode as InjectError, status (400–599) as
//	                          InjectStatus; answers the pending faults
//	GET    /wechatsim/faults  the pending faults, in the order they answer
//	DELETE /wechatsim/faults  drops every pending fault
//	POST   /wechatsim/revoke?appid=…  Revoke: the current token answers
//	                          40001, as after someone else's forced refresh
//	POST   /wechatsim/poison?appid=…  Poison: the current token answers
//	                          40001 while normal mode keeps returning it,
//	                          so only a forced refresh helps
//
// A bad request answers 400 (404 for an appid the simulator does not
// serve) with a plain-text reason. Each fault is spent by one call that
// passes the request's own checks, and counts in CallsTo like any call.
// The simulator runs only in development and tests, on its own listener:
// the run command starts it only when no WeChat app is configured, which
// production refuses.

// FaultAPIs are the API names POST /wechatsim/faults takes.
var FaultAPIs = []string{
	APICode2Session, APIStableToken, APIGetUserPhoneNumber, APIMsgSecCheck,
	APIMediaCheckAsync, APIWxaCodeUnlimit, APISubscribeSend,
}

// maxFaultTimes bounds one POST /wechatsim/faults.
const maxFaultTimes = 1000

// Fault is a failure waiting for the next calls of API for AppID: an
// errcode (ErrCode, -1 included) or an HTTP status (Status), Times calls
// in a row.
type Fault struct {
	API     string `json:"api"`
	AppID   string `json:"appid"`
	ErrCode int    `json:"errcode,omitempty"`
	Status  int    `json:"status,omitempty"`
	Times   int    `json:"times"`
}

// Faults returns the pending faults by API and appid, each queue in the
// order it answers (HTTP statuses before errcodes), repeats merged.
func (s *Simulator) Faults() []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Fault{}
	add := func(queues map[string][]int, status bool) {
		for k, q := range queues {
			api, appid, _ := strings.Cut(k, "\x00")
			for _, v := range q {
				f := Fault{API: api, AppID: appid, Times: 1}
				if status {
					f.Status = v
				} else {
					f.ErrCode = v
				}
				if n := len(out); n > 0 && out[n-1].API == api && out[n-1].AppID == appid &&
					out[n-1].Status == f.Status && out[n-1].ErrCode == f.ErrCode {
					out[n-1].Times++
					continue
				}
				out = append(out, f)
			}
		}
	}
	add(s.plat.injectStatus, true)
	add(s.plat.inject, false)
	// Stable: by API and appid, statuses first, each queue's order kept.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.API != b.API {
			return a.API < b.API
		}
		if a.AppID != b.AppID {
			return a.AppID < b.AppID
		}
		return a.Status != 0 && b.Status == 0
	})
	return out
}

// ClearFaults drops every pending injected errcode and status.
func (s *Simulator) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plat.inject = make(map[string][]int)
	s.plat.injectStatus = nil
}

// addFault serves POST /wechatsim/faults.
func (s *Simulator) addFault(w http.ResponseWriter, r *http.Request) {
	var f Fault
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		http.Error(w, `the body must be {"api":"stable_token","appid":"wx…","errcode":40164,"times":1} (or "status":503 instead of errcode): `+err.Error(), http.StatusBadRequest)
		return
	}
	if !slices.Contains(FaultAPIs, f.API) {
		http.Error(w, "api must be one of "+strings.Join(FaultAPIs, ", "), http.StatusBadRequest)
		return
	}
	appid, ok := s.hookApp(w, f.AppID)
	if !ok {
		return
	}
	f.AppID = appid
	switch {
	case (f.ErrCode == 0) == (f.Status == 0):
		http.Error(w, "give either a non-zero errcode or an HTTP status", http.StatusBadRequest)
		return
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		http.Error(w, "status must be an HTTP error status, 400 to 599", http.StatusBadRequest)
		return
	case f.Times == 0:
		f.Times = 1
	case f.Times < 0 || f.Times > maxFaultTimes:
		http.Error(w, fmt.Sprintf("times must be 1 to %d", maxFaultTimes), http.StatusBadRequest)
		return
	}
	if f.Status != 0 {
		s.InjectStatus(f.API, f.AppID, f.Status, f.Times)
	} else {
		s.InjectError(f.API, f.AppID, f.ErrCode, f.Times)
	}
	if s.log != nil {
		s.log.Info("wechatsim: fault queued", "api", f.API, "appid", f.AppID, "errcode", f.ErrCode, "status", f.Status, "times", f.Times)
	}
	writeHookJSON(w, map[string]any{"faults": s.Faults()})
}

// listFaults serves GET /wechatsim/faults.
func (s *Simulator) listFaults(w http.ResponseWriter, _ *http.Request) {
	writeHookJSON(w, map[string]any{"faults": s.Faults()})
}

// clearFaults serves DELETE /wechatsim/faults.
func (s *Simulator) clearFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	writeHookJSON(w, map[string]any{"faults": s.Faults()})
}

// revokeHook serves POST /wechatsim/revoke?appid=….
func (s *Simulator) revokeHook(w http.ResponseWriter, r *http.Request) {
	appid, ok := s.hookApp(w, r.URL.Query().Get("appid"))
	if !ok {
		return
	}
	s.Revoke(appid)
	_, gen := s.CurrentToken(appid)
	writeHookJSON(w, map[string]any{"appid": appid, "generation": gen})
}

// poisonHook serves POST /wechatsim/poison?appid=….
func (s *Simulator) poisonHook(w http.ResponseWriter, r *http.Request) {
	appid, ok := s.hookApp(w, r.URL.Query().Get("appid"))
	if !ok {
		return
	}
	_, gen := s.CurrentToken(appid)
	if gen == 0 {
		http.Error(w, "no access token has been issued for this appid yet", http.StatusConflict)
		return
	}
	s.Poison(appid)
	writeHookJSON(w, map[string]any{"appid": appid, "generation": gen})
}

// hookApp returns the app a development hook names: appid when the
// simulator serves it, the only app when appid is empty and there is one.
// Otherwise it answers the error itself.
func (s *Simulator) hookApp(w http.ResponseWriter, appid string) (string, bool) {
	if appid == "" {
		if len(s.apps) != 1 {
			http.Error(w, "appid is required: the simulator serves several apps", http.StatusBadRequest)
			return "", false
		}
		for id := range s.apps {
			appid = id
		}
	}
	if _, ok := s.apps[appid]; !ok {
		http.Error(w, "the simulator serves no app "+appid, http.StatusNotFound)
		return "", false
	}
	return appid, true
}

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
