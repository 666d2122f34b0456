package wechatsim

import "net/http"

// Cloud Hosting's open-API service (开放接口服务): with Config.OpenAPIHome
// set, a token-bearing API called with no access_token is served as the
// platform's sidecar serves a container of that app: as the home app, or
// as ?from_appid= (resource sharing), which must be a configured app. The
// answer carries the x-openapi-seqid header the real service adds.

// OpenAPISeqIDHeader is the header that marks an answer of the open-API
// service.
const OpenAPISeqIDHeader = "X-Openapi-Seqid"

// openAPIApp returns the app a token-less call is made as, or 40013 for a
// from_appid the simulator does not know.
func (s *Simulator) openAPIApp(w http.ResponseWriter, r *http.Request) (string, int) {
	w.Header().Set(OpenAPISeqIDHeader, newRID())
	from := r.URL.Query().Get("from_appid")
	if from == "" {
		return s.openAPIHome, 0
	}
	if _, ok := s.apps[from]; !ok {
		return "", 40013
	}
	return from, 0
}
