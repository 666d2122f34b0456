package httpapi

import (
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// operations maps "METHOD /path/{param}" to the spec's route, so the
// per-operation middleware can find the operation gin matched.
type operations map[string]*routers.Route

// loadOperations reads the embedded spec. Its servers are dropped: they
// name the development listener, and routes are matched by path alone.
func loadOperations() (operations, error) {
	doc, err := api.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("load embedded OpenAPI spec: %w", err)
	}
	doc.Servers = nil
	ops := operations{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			r := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			if err := checkSchemes(r); err != nil {
				return nil, err
			}
			ops[method+" "+path] = r
		}
	}
	return ops, nil
}

// route returns the operation gin matched for c, or nil.
func (ops operations) route(c *gin.Context) *routers.Route {
	return ops[c.Request.Method+" "+specPath(c.FullPath())]
}

// specPath turns a gin pattern ("/v1/users/:id") into the spec's
// ("/v1/users/{id}").
func specPath(ginPath string) string {
	parts := strings.Split(ginPath, "/")
	for i, p := range parts {
		if len(p) > 1 && (p[0] == ':' || p[0] == '*') {
			parts[i] = "{" + p[1:] + "}"
		}
	}
	return strings.Join(parts, "/")
}

// pathParams returns gin's path parameters by name, for the validator.
func pathParams(c *gin.Context) map[string]string {
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
