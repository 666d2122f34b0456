package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/gin-gonic/gin"

	"github.com/miniback/miniback/domain"
)

// validationOptions configure openapi3filter for requests. Security is
// checked by authenticate before validation, so the validator's own check
// is a no-op. KeepValidatedValue lets the generated strict handler bind the
// value that was validated instead of decoding the body a second time.
var validationOptions = openapi3filter.Options{
	MultiError:         true,
	KeepValidatedValue: true,
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
	// kin-openapi leaves format: uuid unchecked unless asked.
	SchemaValidationOptions: []openapi3.SchemaValidationOption{openapi3.WithStringFormatValidator("uuid", uuidFormat)},
}

// paramsValidationOptions check the parameters only, for a body already
// refused.
var paramsValidationOptions = func() openapi3filter.Options {
	o := validationOptions
	o.ExcludeRequestBody = true
	o.KeepValidatedValue = false
	return o
}()

// streamingValidationOptions leave a file body to its handler.
var streamingValidationOptions = openapi3filter.Options{
	MultiError:         true,
	ExcludeRequestBody: true,
	AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
}

// mediaTypes lists the media types an operation accepts, for a 415's
// message.
func mediaTypes(content openapi3.Content) string {
	types := make([]string, 0, len(content))
	for mt := range content {
		if mt == "*/*" {
			return "sent with its Content-Type"
		}
		types = append(types, mt)
	}
	slices.Sort(types)
	return strings.Join(types, " or ")
}

// validate is the second per-operation middleware: it checks the request
// against the operation in the embedded spec and answers 413, 415, 400
// malformed_json or 400 validation_failed listing the bad fields (at most
// maxFieldErrors). Before the spec, it refuses for every operation what no
// store can take and no schema needs: text that is not valid UTF-8 or holds
// NUL, in any parameter or JSON string or key, and JSON bodies past the
// shape limits. Its work is linear in the request. The body it reads is put
// back for the handler.
//
// An operation without a request body pays only for its parameters
// (validateParams); one with a body goes through validateRequest, where a
// JSON body its operation's bodyPlan accepts skips the whole validator.
func (h *handler) validate(c *gin.Context) {
	op := h.ops.operation(c)
	if op == nil {
		h.abort(c, errors.New("no spec operation for the matched route"))
		return
	}
	if op.plan != nil && strings.Count(c.Request.URL.RawQuery, "&") < maxPlannedQueryPairs {
		h.validateParams(c, op)
		return
	}
	h.validateRequest(c, op)
}

// validateParams validates a request to an operation without a request
// body: the edge checks of its parameters, then its parameters' plan. A
// body sent all the same is read, as validateRequest reads it, so that one
// past the limit is refused alike; nothing looks at it.
func (h *handler) validateParams(c *gin.Context, op *operation) {
	req := c.Request
	if _, err := readBody(req); err != nil {
		h.abort(c, err)
		return
	}
	fields := fieldErrors{ctx: req.Context()}
	fields.checkParams(c, op)
	if !fields.done() {
		if err := op.plan.validate(c, op.Route); err != nil {
			if err := fields.collectRequestError(err); err != nil {
				h.abort(c, err)
				return
			}
		}
	}
	if err := fields.err(); err != nil {
		h.abort(c, err)
	}
}

// validateRequest validates a request with the whole validator.
func (h *handler) validateRequest(c *gin.Context, op *operation) {
	route := op.Route
	req := c.Request
	options := &validationOptions
	var body []byte
	if op.streaming {
		// A file: the handler streams it under its own limit. Only the
		// parameters and the media type are checked here.
		options = &streamingValidationOptions
	} else {
		var err error
		if body, err = readBody(req); err != nil {
			h.abort(c, err)
			return
		}
		if op.rawBody {
			h.validateRawBody(c, op)
			return
		}
	}
	hasBody := len(body) > 0 || (options.ExcludeRequestBody && req.Body != nil && req.Body != http.NoBody)
	jsonBody := false
	if rb := route.Operation.RequestBody; rb != nil && rb.Value != nil && hasBody {
		// Checked here rather than left to the validator so that each
		// failure gets its own status and code.
		mediaType, ok := acceptedMediaType(rb.Value.Content, req.Header.Get("Content-Type"))
		if !ok {
			h.abort(c, domain.Errorf(domain.CodeUnsupportedMediaType, "The request body must be %s.", mediaTypes(rb.Value.Content)))
			return
		}
		// The validator decodes only the first JSON value, so trailing
		// garbage would slip past it.
		if isJSON(mediaType) && !json.Valid(body) {
			h.abort(c, malformedJSON(nil))
			return
		}
		jsonBody = isJSON(mediaType) && len(body) > 0
	}
	// The edge checks run first, for every operation: text no store can
	// take, and bodies whose shape alone makes them wrong.
	fields := newFieldErrors(req.Context())
	fields.checkParams(c, op)
	if jsonBody && fields.checkJSON(body) {
		// Leave the body out: its size is what would make the schema
		// validator slow. The parameters are still checked.
		options = &paramsValidationOptions
	} else if jsonBody && op.body != nil && len(fields.list) == 0 && !fields.done() &&
		strings.Count(req.URL.RawQuery, "&") < maxPlannedQueryPairs && op.body.accepts(body) {
		// The body is valid as the validator would find it: only the
		// parameters are left, to their plan.
		if err := op.bodyParams.validate(c, route); err != nil {
			if err := fields.collectRequestError(err); err != nil {
				h.abort(c, err)
				return
			}
		}
		if err := fields.err(); err != nil {
			h.abort(c, err)
		}
		return
	}
	if !fields.done() {
		in := &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams(c),
			Route:      withoutSecurity(route),
			Options:    options,
		}
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			if err := fields.collectRequestError(err); err != nil {
				h.abort(c, err)
				return
			}
		}
	}
	if err := fields.err(); err != nil {
		h.abort(c, err)
	}
}

// validateRawBody validates a request whose body its handler parses
// (rawBodyOps), the body having been read under the limit: its
// parameters only, whatever its Content-Type.
func (h *handler) validateRawBody(c *gin.Context, op *operation) {
	req := c.Request
	fields := newFieldErrors(req.Context())
	fields.checkParams(c, op)
	if !fields.done() {
		in := &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams(c),
			Route:      withoutSecurity(op.Route),
			Options:    &paramsValidationOptions,
		}
		if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
			if err := fields.collectRequestError(err); err != nil {
				h.abort(c, err)
				return
			}
		}
	}
	if err := fields.err(); err != nil {
		h.abort(c, err)
	}
}

// withoutSecurity returns route with no security requirement. The
// validator's check of them would be a no-op (authenticate did it), but
// it first copies the whole body for an AuthenticationFunc that might
// read it.
func withoutSecurity(route *routers.Route) *routers.Route {
	r, op := *route, *route.Operation
	op.Security = &openapi3.SecurityRequirements{}
	r.Operation = &op
	return &r
}

// readBody reads the whole (size-limited) body and puts it back as a
// replayable reader.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	// A declared length (limitBody refused it above the limit) sizes the
	// buffer once; io.ReadAll would grow it by copies to about 4 times.
	buf := bytes.NewBuffer(make([]byte, 0, max(r.ContentLength, 0)+bytes.MinRead))
	_, err := buf.ReadFrom(r.Body)
	data := buf.Bytes()
	_ = r.Body.Close()
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, tooLarge(tooBig.Limit)
	}
	if err != nil {
		return nil, &domain.Error{Code: domain.CodeInvalid, Message: "The request body could not be read.", Err: err}
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	r.ContentLength = int64(len(data))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return data, nil
}

// acceptedMediaType returns the media type of the Content-Type header when
// the operation declares it. JSON is UTF-8 (RFC 8259), so any other charset
// is refused.
func acceptedMediaType(content openapi3.Content, header string) (string, bool) {
	mediaType, params, err := mime.ParseMediaType(header)
	if err != nil || content.Get(mediaType) == nil {
		return "", false
	}
	if cs, ok := params["charset"]; ok && isJSON(mediaType) && !strings.EqualFold(cs, "utf-8") {
		return "", false
	}
	return mediaType, true
}

func isJSON(mediaType string) bool {
	return mediaType == "application/json" || strings.HasSuffix(mediaType, "+json")
}

func malformedJSON(cause error) error {
	return &domain.Error{Code: domain.CodeMalformedJSON, Message: "The request body is not valid JSON.", Err: cause}
}

// collectRequestError adds the field errors of a validator error. It
// returns an error of its own when the request is wrong as a whole: a body
// too large (413) or not JSON (400 malformed_json).
func (fs *fieldErrors) collectRequestError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return tooLarge(tooBig.Limit)
	}
	if bodyParseError(err) {
		return malformedJSON(err)
	}
	n := len(fs.list)
	fs.collect(err)
	if len(fs.list) == n && !fs.done() {
		fs.add("body", "invalid", "the request does not match the API description")
	}
	fs.cause = err
	return nil
}

// bodyParseError reports whether the body could not be decoded at all (a
// parameter that does not parse is a field error, not malformed JSON).
func bodyParseError(err error) bool {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, err := range e {
			if bodyParseError(err) {
				return true
			}
		}
	case *openapi3filter.RequestError:
		var parseErr *openapi3filter.ParseError
		return e.Parameter == nil && errors.As(e.Err, &parseErr)
	}
	var parseErr *openapi3filter.ParseError
	return errors.As(err, &parseErr) && !isRequestError(err)
}

func isRequestError(err error) bool {
	var re *openapi3filter.RequestError
	return errors.As(err, &re)
}

// maxFieldErrors caps the field errors of one problem: a body can break
// as many rules as it has bytes, and neither the work of describing them
// nor the answer may grow with it.
const maxFieldErrors = 50

// fieldErrors gathers the field errors of a request, without repeats and
// at most maxFieldErrors of them. Work on it stops when the list is full or
// the client is gone (ctx is done).
type fieldErrors struct {
	ctx       context.Context
	list      []domain.FieldError
	seen      map[domain.FieldError]struct{}
	objects   map[string]struct{} // objects whose unknown keys are listed
	truncated bool
	canceled  bool
	cause     error // the validator's error, for logs
	steps     int
}

// newFieldErrors returns an empty list; its maps are made with its first
// error, as most requests have none.
func newFieldErrors(ctx context.Context) *fieldErrors {
	return &fieldErrors{ctx: ctx}
}

func (fs *fieldErrors) add(field, code, message string) {
	f := domain.FieldError{Field: field, Code: code, Message: message}
	if fs.truncated {
		return
	}
	if _, ok := fs.seen[f]; ok {
		return
	}
	if len(fs.list) == maxFieldErrors {
		fs.truncated = true
		return
	}
	if fs.seen == nil {
		fs.seen = map[domain.FieldError]struct{}{}
	}
	fs.seen[f] = struct{}{}
	fs.list = append(fs.list, f)
}

// done reports whether more work on the list is useless: it is full, or
// the client has gone (checked on every 256th call, as loops call it for
// each item).
func (fs *fieldErrors) done() bool {
	if fs.steps++; fs.steps%256 == 0 && fs.ctx.Err() != nil {
		fs.canceled = true
	}
	return fs.truncated || fs.canceled
}

// err is the validation error for the list: nil when it is empty, and
// saying so when it was cut short.
func (fs *fieldErrors) err() error {
	if fs.canceled || fs.ctx.Err() != nil {
		// No one waits for the answer; stop here, with a 4xx that the
		// access log shows.
		return &domain.Error{Code: domain.CodeInvalid, Message: "The request was abandoned before it was validated.", Err: fs.ctx.Err()}
	}
	if len(fs.list) == 0 {
		return nil
	}
	e := domain.Invalid(fs.list...)
	if fs.truncated {
		e.Message = fmt.Sprintf("The request breaks more field rules than the %d listed.", maxFieldErrors)
	}
	e.Err = fs.cause
	return e
}

// collect walks the validator's error tree (MultiError of RequestError of
// MultiError of SchemaError) and adds a field error for each leaf.
func (fs *fieldErrors) collect(err error) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, err := range e {
			if fs.done() {
				return
			}
			fs.collect(err)
		}
	case *openapi3filter.RequestError:
		switch {
		case e.Parameter != nil:
			fs.addParameterError(e)
		case errors.Is(e.Err, openapi3filter.ErrInvalidRequired):
			fs.add("body", "required", "a request body is required")
		case e.Err != nil:
			fs.collect(e.Err)
		}
	case *openapi3.SchemaError:
		fs.addSchemaError(e)
	}
}

// addParameterError describes a path, query or header parameter that
// breaks the spec: missing, not of its type, or breaking a schema rule.
func (fs *fieldErrors) addParameterError(e *openapi3filter.RequestError) {
	name := e.Parameter.Name
	field := e.Parameter.In + "." + name
	var parseErr *openapi3filter.ParseError
	var schemaErrs []*openapi3.SchemaError
	collectSchemaErrors(e.Err, &schemaErrs)
	switch {
	case errors.Is(e.Err, openapi3filter.ErrInvalidRequired) || errors.Is(e.Err, openapi3filter.ErrInvalidEmptyValue):
		fs.add(field, "required", name+" is required")
	case errors.As(e.Err, &parseErr):
		fs.add(field, "invalid_type", name+" is not of the expected type")
	case len(schemaErrs) > 0:
		for _, se := range schemaErrs {
			if fs.done() {
				return
			}
			fs.addSchemaErrorAt(field, name, se)
		}
	default:
		fs.add(field, "invalid", name+" is invalid")
	}
}

// collectSchemaErrors gathers the schema errors of a validator error tree.
func collectSchemaErrors(err error, out *[]*openapi3.SchemaError) {
	switch e := err.(type) {
	case openapi3.MultiError:
		for _, err := range e {
			collectSchemaErrors(err, out)
		}
	case *openapi3.SchemaError:
		*out = append(*out, e)
	}
}

// addSchemaError describes one broken schema rule of the body. Messages
// name the rule, never the value: the value may be a secret.
func (fs *fieldErrors) addSchemaError(e *openapi3.SchemaError) {
	fs.addSchemaErrorAt("body", "body", e)
}

// addSchemaErrorAt describes one broken schema rule of the input named
// base (e.g. "body", "query.limit").
func (fs *fieldErrors) addSchemaErrorAt(base, baseName string, e *openapi3.SchemaError) {
	path := e.JSONPointer()
	field, name := base, baseName
	if len(path) > 0 {
		field, name = base+"."+strings.Join(path, "."), path[len(path)-1]
	}
	s := e.Schema
	switch e.SchemaField {
	case "required":
		fs.add(field, "required", name+" is required")
	case "properties":
		// additionalProperties: false; the error names no key, so list
		// the object's keys the schema does not know. The validator makes
		// one such error for each unknown key, each with the whole
		// object: list them for the first only.
		if _, listed := fs.objects[field]; listed {
			return
		}
		if fs.objects == nil {
			fs.objects = map[string]struct{}{}
		}
		fs.objects[field] = struct{}{}
		obj, _ := e.Value.(map[string]any)
		for _, k := range sortedKeys(obj) {
			if fs.done() {
				return
			}
			if s.Properties[k] == nil {
				k = clip(k)
				fs.add(field+"."+k, "unknown_field", k+" is not a known field")
			}
		}
	case "minLength":
		if s.MinLength == 1 {
			fs.add(field, "required", name+" must not be empty")
		} else {
			fs.add(field, "too_short", fmt.Sprintf("%s must be at least %d characters", name, s.MinLength))
		}
	case "maxLength":
		fs.add(field, "too_long", fmt.Sprintf("%s must be at most %d characters", name, *s.MaxLength))
	case "nullable":
		fs.add(field, "invalid_type", name+" must not be null")
	case "type":
		fs.add(field, "invalid_type", fmt.Sprintf("%s must be of type %s", name, strings.Join(s.Type.Slice(), " or ")))
	case "maxItems":
		fs.add(field, "too_many", fmt.Sprintf("%s must have at most %d items", name, *s.MaxItems))
	case "minItems":
		fs.add(field, "too_few", fmt.Sprintf("%s must have at least %d items", name, s.MinItems))
	case "minProperties":
		fs.add(field, "too_few_fields", fmt.Sprintf("%s must set at least %d field(s)", name, s.MinProps))
	case "enum":
		fs.add(field, "invalid_value", name+" is not one of the allowed values")
	case "format", "pattern":
		fs.add(field, "invalid_format", name+" is not in the expected format")
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		fs.add(field, "out_of_range", name+" is out of range")
	default:
		fs.add(field, "invalid", name+" is invalid")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// clip shortens a client-chosen name before it is echoed in a problem.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	n := max
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
