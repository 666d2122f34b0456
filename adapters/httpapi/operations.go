package httpapi

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// operations maps a method and a spec path ("/path/{param}") to the
// spec's route, so the per-operation middleware can find the operation gin
// matched. A struct key, unlike "METHOD /path", needs no string built per
// lookup.
type operations map[opKey]*routers.Route

type opKey struct{ method, path string }

// loadOperations reads the embedded spec. Its servers are dropped: they
// name the development listener, and routes are matched by path alone.
func loadOperations() (operations, error) {
	doc, err := api.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("load embedded OpenAPI spec: %w", err)
	}
	doc.Servers = nil
	ops := operations{}
	ginPaths := map[string]string{}
	for path, item := range doc.Paths.Map() {
		if g := ginPath(path); g != path {
			ginPaths[g] = path
		}
		for method, op := range item.Operations() {
			r := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			if err := checkSchemes(r); err != nil {
				return nil, err
			}
			ops[opKey{method, path}] = r
		}
	}
	specPaths.Store(&ginPaths)
	return ops, nil
}

// route returns the operation gin matched for c, or nil.
func (ops operations) route(c *gin.Context) *routers.Route {
	return ops[opKey{c.Request.Method, specPath(c.FullPath())}]
}

// specPaths maps the gin patterns of the spec's paths with parameters to
// the spec's paths, so that specPath, which runs several times a request,
// builds no string for them. Every handler stores the same map, from the
// same embedded spec.
var specPaths atomic.Pointer[map[string]string]

// specPath turns a gin pattern ("/v1/users/:id") into the spec's
// ("/v1/users/{id}").
func specPath(ginPath string) string {
	if !strings.ContainsAny(ginPath, ":*") {
		return ginPath
	}
	if m := specPaths.Load(); m != nil {
		if p, ok := (*m)[ginPath]; ok {
			return p
		}
	}
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if len(p) > 1 && (p[0] == ':' || p[0] == '*') {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// ginPath turns a spec path ("/v1/users/{id}") into gin's pattern
// ("/v1/users/:id").
func ginPath(specPath string) string {
	parts := strings.Split(specPath, "/")
	for i, p := range parts {
		if len(p) > 2 && p[0] == '{' && p[len(p)-1] == '}' {
			parts[i] = ":" + p[1:len(p)-1]
		}
	}
	return strings.Join(parts, "/")
}

// pathParams returns gin's path parameters by name, for the validator; nil
// (which the validator only reads) for a route without any.
func pathParams(c *gin.Context) map[string]string {
	if len(c.Params) == 0 {
		return nil
	}
	m := make(map[string]string, len(c.Params))
	for _, p := range c.Params {
		m[p.Key] = p.Value
	}
	return m
}

// bearerScheme is the one security scheme this adapter implements.
const bearerScheme = "bearerAuth"

// security returns the route's security requirements: the operation's
// own, or the document's when it has none.
func security(r *routers.Route) openapi3.SecurityRequirements {
	if r.Operation.Security != nil {
		return *r.Operation.Security
	}
	return r.Spec.Security
}

// requiresBearer reports whether the route's operation needs a bearer
// token. An empty requirement ({}) in the list makes the token optional.
func requiresBearer(r *routers.Route) bool {
	reqs := security(r)
	for _, req := range reqs {
		if len(req) == 0 {
			return false
		}
	}
	return len(reqs) > 0
}

// checkSchemes refuses a spec whose operations ask for a scheme other than
// bearerAuth: serving such an operation with only a bearer check would
// silently weaken it.
func checkSchemes(r *routers.Route) error {
	for _, req := range security(r) {
		for name := range req {
			if name != bearerScheme {
				return fmt.Errorf("%s %s: security scheme %q is not supported (only bearerAuth is)", r.Method, r.Path, name)
			}
		}
	}
	return nil
}
