package httpapi

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/adapters/httpapi/api"
)

// operations maps "METHOD /path/{param}" to the spec's operation, so the
// per-operation middleware can find the operation gin matched.
type operations map[string]*operation

// operation is a route of the spec with what validating its requests needs,
// worked out once when the spec is loaded.
type operation struct {
	*routers.Route
	// plan checks the parameters of an operation without a request body;
	// nil for one with a body, which validateRequest checks.
	plan *paramPlan
	// body checks the JSON body of an operation with one, when its
	// schema is simple enough; bodyParams its parameters alongside.
	body       *bodyPlan
	bodyParams *paramPlan
	// headers are its header parameters, whose values the text check
	// reads, in the spec's order (the path item's, then the operation's).
	headers []headerParam
	// streaming: its body is a file, left to its handler.
	streaming bool
	// rawBody: its handler parses its body (rawBodyOps); the validator
	// reads it under the body limit and checks only the parameters.
	rawBody bool
}

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
		if g := specToGin(path); g != path {
			ginPaths[g] = path
		}
		for method, op := range item.Operations() {
			r := &routers.Route{Spec: doc, Path: path, PathItem: item, Method: method, Operation: op}
			if err := checkSchemes(r); err != nil {
				return nil, err
			}
			ops[method+" "+path] = newOperation(r)
		}
	}
	specPaths.Store(&ginPaths)
	return ops, nil
}

// headerParam is a header parameter: its name as the spec spells it, and
// its key in an http.Header.
type headerParam struct{ name, key string }

func newOperation(r *routers.Route) *operation {
	op := &operation{Route: r, streaming: streamingOps[r.Method+" "+r.Path], rawBody: rawBodyOps[r.Method+" "+r.Path]}
	for _, ps := range []openapi3.Parameters{r.PathItem.Parameters, r.Operation.Parameters} {
		for _, p := range ps {
			if p != nil && p.Value != nil && p.Value.In == openapi3.ParameterInHeader {
				op.headers = append(op.headers, headerParam{name: p.Value.Name, key: http.CanonicalHeaderKey(p.Value.Name)})
			}
		}
	}
	if r.Operation.RequestBody == nil && !op.streaming {
		op.plan = newParamPlan(r)
	} else if !op.streaming && !op.rawBody {
		if op.body = newBodyPlan(r); op.body != nil {
			op.bodyParams = newParamPlan(r)
		}
	}
	return op
}

// specParameters lists the parameters of r in the order the validator
// checks them: the path item's (unless the operation overrides them),
// then the operation's.
func specParameters(r *routers.Route) []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, ref := range r.PathItem.Parameters {
		if p := ref.Value; p != nil && r.Operation.Parameters.GetByInAndName(p.In, p.Name) == nil {
			out = append(out, p)
		}
	}
	for _, ref := range r.Operation.Parameters {
		if ref.Value != nil {
			out = append(out, ref.Value)
		}
	}
	return out
}

// route returns the spec's route gin matched for c, or nil.
func (ops operations) route(c *gin.Context) *routers.Route {
	if op := ops.operation(c); op != nil {
		return op.Route
	}
	return nil
}

// operation returns the operation gin matched for c, or nil. It runs for
// every request, more than once, so it builds its key on the stack.
func (ops operations) operation(c *gin.Context) *operation {
	var buf [128]byte
	key := append(buf[:0], c.Request.Method...)
	key = append(key, ' ')
	key = appendSpecPath(key, c.FullPath())
	return ops[string(key)] // no copy: the compiler looks up by the bytes
}

// appendSpecPath appends the spec's form of a gin pattern
// ("/v1/users/:id" becomes "/v1/users/{id}").
func appendSpecPath(b []byte, ginPath string) []byte {
	for ginPath != "" {
		seg, rest, more := strings.Cut(ginPath, "/")
		if len(seg) > 1 && (seg[0] == ':' || seg[0] == '*') {
			b = append(b, '{')
			b = append(b, seg[1:]...)
			b = append(b, '}')
		} else {
			b = append(b, seg...)
		}
		if more {
			b = append(b, '/')
		}
		ginPath = rest
	}
	return b
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
		return ginPath // the same in both
	}
	if m := specPaths.Load(); m != nil {
		if p, ok := (*m)[ginPath]; ok {
			return p
		}
	}
	return string(appendSpecPath(nil, ginPath))
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

// specToGin turns a spec path ("/v1/users/{id}") into gin's pattern
// ("/v1/users/:id").
func specToGin(specPath string) string {
	parts := strings.Split(specPath, "/")
	for i, p := range parts {
		if len(p) > 2 && p[0] == '{' && p[len(p)-1] == '}' {
			parts[i] = ":" + p[1:len(p)-1]
		}
	}
	return strings.Join(parts, "/")
}
