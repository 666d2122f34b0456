package httpapi

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"
)

// An operation without a request body (every GET, most DELETEs) has only
// parameters to check, and each request pays for exactly those: a
// paramPlan, made when the spec is loaded, checks each parameter's value
// against the few schema rules the spec uses for parameters (integer
// bounds, booleans, enums, lengths, patterns, formats), without decoding
// anything into the validator's generic values. It only ever says that a
// value is valid; a value it is not sure of (wrong, empty, repeated,
// escaped beyond its reach) goes to openapi3filter.ValidateParameter, so
// every refusal, and every field error in it, is the validator's as
// before. A parameter whose schema uses a rule the plan does not know is
// always left to the validator.
type paramPlan struct {
	params []paramRule // in the validator's order
}

// paramRule checks one parameter.
type paramRule struct {
	p    *openapi3.Parameter
	fast bool // false: the validator checks every request's value
	// header is the canonical name of a header parameter.
	header string
	kind   string // openapi3.TypeString, TypeInteger or TypeBoolean
	// The schema's rules: what the validator checks for the kind.
	enum      []string
	min, max  *float64
	minLength uint64
	maxLength *uint64
	pattern   *regexp.Regexp
	format    string
	// defaultQuery is "name=value" as the validator adds a query
	// parameter's default to the query when the parameter is absent, so
	// the handler binds it; "" without a default.
	defaultQuery string
}

// uuidFormat is the validator's check of format: uuid, which kin-openapi
// leaves unchecked unless asked.
var uuidFormat = openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562)

// stringFormat returns the check of a string format as the validator finds
// it: validationOptions' own, else kin-openapi's global ones; nil when the
// format is not checked.
func stringFormat(name string) openapi3.StringFormatValidator {
	if name == "uuid" {
		return uuidFormat
	}
	return openapi3.SchemaStringFormats[name]
}

func newParamPlan(r *routers.Route) *paramPlan {
	ps := specParameters(r)
	plan := &paramPlan{params: make([]paramRule, len(ps))}
	for i, p := range ps {
		plan.params[i] = paramRule{p: p}
		// OpenAPI 3.1 validates with JSON Schema 2020-12 rules, which the
		// plan does not mirror.
		if !r.Spec.IsOpenAPI31OrLater() {
			plan.params[i].fast = plan.params[i].compile()
		}
	}
	return plan
}

// compile works out the rule's checks and reports whether the plan can
// check the parameter: a primitive of one type, serialized the default
// way, with no rule the plan does not mirror.
func (r *paramRule) compile() bool {
	p := r.p
	if p.Content != nil || p.Schema == nil || p.Schema.Value == nil {
		return false
	}
	sm, err := p.SerializationMethod()
	if err != nil {
		return false
	}
	switch p.In {
	case openapi3.ParameterInQuery:
		if sm.Style != openapi3.SerializationForm {
			return false
		}
	case openapi3.ParameterInPath, openapi3.ParameterInHeader:
		if sm.Style != openapi3.SerializationSimple {
			return false
		}
	default:
		return false
	}
	if p.In == openapi3.ParameterInHeader {
		r.header = http.CanonicalHeaderKey(p.Name)
	}
	s := p.Schema.Value
	if len(s.AllOf) > 0 || len(s.AnyOf) > 0 || len(s.OneOf) > 0 || s.Not != nil || s.Always != nil ||
		s.ExclusiveMin.IsSet() || s.ExclusiveMax.IsSet() || s.MultipleOf != nil {
		return false
	}
	types := s.Type.Slice()
	if len(types) != 1 {
		return false
	}
	r.kind = types[0]
	switch r.kind {
	case openapi3.TypeInteger:
		if s.Format != "" || len(s.Enum) > 0 {
			return false
		}
		r.min, r.max = s.Min, s.Max
	case openapi3.TypeBoolean:
		if s.Format != "" || len(s.Enum) > 0 {
			return false
		}
	case openapi3.TypeString:
		for _, v := range s.Enum {
			e, ok := v.(string)
			if !ok {
				return false
			}
			r.enum = append(r.enum, e)
		}
		r.minLength, r.maxLength = s.MinLength, s.MaxLength
		if s.Pattern != "" {
			// kin-openapi rewrites \u escapes before compiling; other
			// patterns it compiles as they are.
			if strings.Contains(s.Pattern, `\u`) {
				return false
			}
			if r.pattern, err = regexp.Compile(s.Pattern); err != nil {
				return false
			}
		}
		r.format = s.Format
	default:
		return false
	}
	if s.Default != nil {
		if p.In != openapi3.ParameterInQuery {
			return false
		}
		// The validator checks the default it puts in; one that breaks
		// the schema is its refusal to describe, every time.
		opts := append([]openapi3.SchemaValidationOption{openapi3.MultiErrors()}, validationOptions.SchemaValidationOptions...)
		if s.VisitJSON(s.Default, opts...) != nil {
			return false
		}
		r.defaultQuery = url.QueryEscape(p.Name) + "=" + url.QueryEscape(fmt.Sprint(s.Default))
	}
	return true
}

// verdict is what a rule makes of a request.
type verdict int

const (
	valid             verdict = iota
	absentWithDefault         // absent, with a default to put in the query
	unsure                    // for the validator
)

// judge checks the rule's parameter in the request.
func (r *paramRule) judge(c *gin.Context, q *queryView) verdict {
	if !r.fast {
		return unsure
	}
	var v string
	switch r.p.In {
	case openapi3.ParameterInPath:
		// The validator takes an empty path value for a missing one.
		if v = c.Params.ByName(r.p.Name); v == "" {
			return unsure
		}
	case openapi3.ParameterInHeader:
		vs, ok := c.Request.Header[r.header]
		if !ok {
			return r.absent()
		}
		if len(vs) == 0 {
			return unsure
		}
		v = vs[0] // the validator reads the first
	default:
		first, n := q.get(r.p.Name)
		switch {
		case n == 0:
			return r.absent()
		case n > 1:
			return unsure
		}
		v = first
	}
	if v == "" || !validText(v) {
		return unsure
	}
	if r.accepts(v) {
		return valid
	}
	return unsure
}

// absent judges a parameter the request does not have.
func (r *paramRule) absent() verdict {
	switch {
	case r.p.Required:
		return unsure
	case r.defaultQuery != "":
		return absentWithDefault
	}
	return valid
}

// accepts reports whether v, present and not empty, passes every check the
// validator makes of the parameter: its parsing (strconv, as the
// validator's), then the schema's rules.
func (r *paramRule) accepts(v string) bool {
	switch r.kind {
	case openapi3.TypeInteger:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		f := float64(n)
		return (r.min == nil || *r.min <= f) && (r.max == nil || *r.max >= f)
	case openapi3.TypeBoolean:
		_, err := strconv.ParseBool(v)
		return err == nil
	}
	if len(r.enum) > 0 && !slices.Contains(r.enum, v) {
		return false
	}
	if r.minLength != 0 || r.maxLength != nil {
		// The validator's count: code points, a surrogate (which valid
		// text never holds) counting two.
		length := uint64(0)
		for _, c := range v {
			if utf16.IsSurrogate(c) {
				length += 2
			} else {
				length++
			}
		}
		if length < r.minLength || (r.maxLength != nil && length > *r.maxLength) {
			return false
		}
	}
	if r.pattern != nil && !r.pattern.MatchString(v) {
		return false
	}
	if r.format != "" {
		if f := stringFormat(r.format); f != nil && f.Validate(v) != nil {
			return false
		}
	}
	return true
}

// validate checks the parameters of c's request, adding the defaults of
// absent query parameters to its query as the validator does. It returns
// the validator's error for the values it was not sure of, as
// openapi3filter.ValidateRequest would have returned it.
func (pl *paramPlan) validate(c *gin.Context, route *routers.Route) error {
	req := c.Request
	q := newQueryView(req.URL.RawQuery)
	var me openapi3.MultiError
	var in *openapi3filter.RequestValidationInput
	var buf [64]byte
	defaults := buf[:0]
	for i := range pl.params {
		r := &pl.params[i]
		switch r.judge(c, &q) {
		case absentWithDefault:
			defaults = append(append(defaults, '&'), r.defaultQuery...)
		case unsure:
			// The defaults found so far go in first, as the validator
			// would have put them there already.
			addToQuery(req, defaults)
			defaults = defaults[:0]
			if in == nil {
				in = &openapi3filter.RequestValidationInput{Request: req, PathParams: pathParams(c), Route: route, Options: &validationOptions}
			}
			if err := openapi3filter.ValidateParameter(req.Context(), in, r.p); err != nil {
				me = append(me, err)
			}
		}
	}
	addToQuery(req, defaults)
	if len(me) > 0 {
		return me
	}
	return nil
}

// addToQuery appends pairs ("&name=value…") to the request's query, for
// the generated wrapper to bind. (The validator re-encodes the whole
// query instead, sorted; the wrapper binds the same values either way.)
func addToQuery(req *http.Request, pairs []byte) {
	if len(pairs) == 0 {
		return
	}
	if req.URL.RawQuery == "" {
		pairs = pairs[1:]
	}
	req.URL.RawQuery += string(pairs)
}

// maxPlannedQueryPairs bounds the queries a paramPlan reads: far below
// the limit past which url.ParseQuery (10,000 by default) reads nothing
// at all, and the validator with it. Longer ones go to the validator.
const maxPlannedQueryPairs = 1000

// queryView reads a request's query parameters as url.ParseQuery does,
// without building its map when the query holds no escapes: then each
// name and value is its raw text.
type queryView struct {
	raw     string
	literal bool
	parsed  url.Values
}

func newQueryView(raw string) queryView {
	return queryView{raw: raw, literal: isLiteralQuery(raw)}
}

// isLiteralQuery reports whether url.ParseQuery would take every name and
// value of raw as it is: no escapes ('%', '+' for a space) and no ';'
// (which it refuses).
func isLiteralQuery(raw string) bool {
	return !strings.ContainsAny(raw, "%+;")
}

// get returns the first value of the parameter name and how many values
// it has.
func (q *queryView) get(name string) (first string, n int) {
	if !q.literal {
		if q.parsed == nil {
			q.parsed, _ = url.ParseQuery(q.raw)
		}
		vs := q.parsed[name]
		if len(vs) == 0 {
			return "", 0
		}
		return vs[0], len(vs)
	}
	for rest := q.raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		if key == name {
			if n == 0 {
				first = value
			}
			n++
		}
	}
	return first, n
}
