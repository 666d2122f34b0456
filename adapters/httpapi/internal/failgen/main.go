// Command failgen writes failures.gen.go in package httpapi from
// openapi.yaml: for every operation that declares a problem response, its
// failure function, which turns an error into the operation's typed
// problem response for the error's status, over exactly the 4xx and 5xx
// statuses the operation declares with application/problem+json content
// (500 aside: it is the strict server's error hook's to answer). So a
// status added to an operation in the spec is answered as soon as the code
// is regenerated, instead of as a 500 until someone edits a switch.
//
// The types it names are the ones oapi-codegen generates in package api
// from the same spec, named the way oapi-codegen names them: a response
// that refers to components/responses wraps the component's type (only
// the first status, in sorted order, that refers to a component does: the
// others get types of their own, as in oapi-codegen), and a response with
// headers carries them in a ...ResponseHeaders struct. A header's value
// is the problem's field of the same name, lower-cased: Retry-After is
// p.retryAfter. So a new header compiles only once problem has it.
//
// Run it with go generate in adapters/httpapi.
package main

import (
	"bytes"
	"cmp"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
)

const (
	problemContentType = "application/problem+json"
	problemSchemaRef   = "#/components/schemas/Problem"
)

// legacyNames keeps the names the failure functions had when they were
// written by hand, so the handlers that call them did not change. Any
// other operation's is its operationId in lower camel case + "Failure".
var legacyNames = map[string]string{
	"loginWithWeChat":      "loginFailure",
	"registerWithPassword": "registerFailure",
	"loginWithPassword":    "passwordLoginFailure",
	"refreshTokens":        "refreshFailure",
	"setMyPassword":        "setPasswordFailure",
	"bindMyWeChat":         "bindWeChatFailure",
	"attachToTodo":         "attachFailure",
	"detachFromTodo":       "detachFailure",
	"listTodoAttachments":  "listAttachmentsFailure",
	"localStoragePost":     "localPostFailure",
	"localStoragePut":      "localPutFailure",
	"localStorageGet":      "localGetFailure",
}

func main() {
	spec := flag.String("spec", "../../openapi.yaml", "the OpenAPI document")
	out := flag.String("out", "failures.gen.go", "the Go file to write")
	flag.Parse()
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "failgen:", err)
		os.Exit(1)
	}
}

func run(specPath, outPath string) error {
	src, err := generate(specPath, legacyNames)
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, src, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", outPath, err)
	}
	return nil
}

// generate returns the gofmt'ed source of failures.gen.go for the spec at
// specPath, names giving some operations' function names.
func generate(specPath string, names map[string]string) ([]byte, error) {
	doc, err := openapi3.NewLoader().LoadFromFile(specPath)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", specPath, err)
	}
	ops, err := operations(doc, names)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := fileTemplate.Execute(&buf, ops); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	src, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("gofmt the output: %w\n%s", err, buf.Bytes())
	}
	return src, nil
}

// operation is one failure function to write.
type operation struct {
	ID     string // operationId, as in the spec
	Type   string // the prefix of its types in package api: "LoginWithWeChat"
	Func   string // the failure function's name
	Method string
	Path   string
	Cases  []failureCase
}

// failureCase is one declared status and the response that answers it.
type failureCase struct {
	Status   int
	Text     string // http.StatusText
	Response string // a Go expression of the operation's response type
}

// operations returns, sorted by operationId, the operations that declare
// at least one problem response besides 500.
func operations(doc *openapi3.T, names map[string]string) ([]operation, error) {
	var ops []operation
	var errs []error
	seen := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" {
				errs = append(errs, fmt.Errorf("%s %s has no operationId", method, path))
				continue
			}
			seen[op.OperationID] = true
			cases, err := failureCases(doc, op)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", op.OperationID, err))
				continue
			}
			if len(cases) == 0 {
				continue
			}
			name := names[op.OperationID]
			if name == "" {
				name = lowerFirst(toCamelCase(op.OperationID)) + "Failure"
			}
			ops = append(ops, operation{
				ID: op.OperationID, Type: toCamelCase(op.OperationID), Func: name,
				Method: method, Path: path, Cases: cases,
			})
		}
	}
	for id := range names {
		if !seen[id] {
			errs = append(errs, fmt.Errorf("the names table names %s, which the spec does not have", id))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	slices.SortFunc(ops, func(a, b operation) int { return cmp.Compare(a.ID, b.ID) })
	return ops, nil
}

// failureCases returns op's problem responses, by status.
func failureCases(doc *openapi3.T, op *openapi3.Operation) ([]failureCase, error) {
	if op.Responses == nil {
		return nil, nil
	}
	responses := op.Responses.Map()
	// oapi-codegen lets only the first status, in sorted order, that
	// refers to a component response wrap the component's type.
	refUsed := map[string]bool{}
	var cases []failureCase
	for _, key := range sortedKeys(responses) {
		ref := responses[key]
		wraps := ""
		if ref.Ref != "" {
			name, err := componentResponseName(doc, ref.Ref)
			if err != nil {
				return nil, fmt.Errorf("response %s: %w", key, err)
			}
			if !refUsed[name] {
				refUsed[name] = true
				wraps = name
			}
		}
		if key == "default" {
			continue
		}
		status, err := strconv.Atoi(key)
		if err != nil || status < 100 || status > 599 {
			return nil, fmt.Errorf("response %q: only fixed statuses are supported", key)
		}
		if status < 400 || status == http.StatusInternalServerError {
			continue
		}
		resp := ref.Value
		if resp == nil {
			return nil, fmt.Errorf("response %d is unresolved", status)
		}
		media := resp.Content[problemContentType]
		if media == nil {
			return nil, fmt.Errorf("response %d has no %s content: every error answer is a problem document", status, problemContentType)
		}
		if media.Schema == nil || media.Schema.Ref != problemSchemaRef {
			return nil, fmt.Errorf("response %d: its %s schema is not %s", status, problemContentType, problemSchemaRef)
		}
		expr, err := responseExpr(toCamelCase(op.OperationID), status, wraps, resp)
		if err != nil {
			return nil, fmt.Errorf("response %d: %w", status, err)
		}
		cases = append(cases, failureCase{Status: status, Text: http.StatusText(status), Response: expr})
	}
	return cases, nil
}

// componentResponseName returns the Go name oapi-codegen gives the
// component response ref points to: its x-go-name, or its key as a type
// name.
func componentResponseName(doc *openapi3.T, ref string) (string, error) {
	key, ok := strings.CutPrefix(ref, "#/components/responses/")
	if !ok || strings.Contains(key, "/") {
		return "", fmt.Errorf("$ref %q: only local #/components/responses refs are supported", ref)
	}
	if doc.Components != nil {
		if r := doc.Components.Responses[key]; r != nil && r.Value != nil {
			if name, ok := r.Value.Extensions["x-go-name"].(string); ok && name != "" {
				return name, nil
			}
		}
	}
	return schemaNameToTypeName(key), nil
}

// responseExpr returns the Go expression, p being the problem, of the
// response type oapi-codegen generates for opType's status: one wrapping
// the component response wraps when it is not "", else one of its own.
func responseExpr(opType string, status int, wraps string, resp *openapi3.Response) (string, error) {
	tag := mediaTypeToCamelCase(problemContentType)
	outer := fmt.Sprintf("api.%s%d%sResponse", opType, status, tag)
	headersType := fmt.Sprintf("api.%s%dResponseHeaders", opType, status)
	if wraps != "" {
		headersType = "api." + wraps + "ResponseHeaders"
	}
	body := "(p.Problem)"
	if len(resp.Headers) > 0 {
		var fields []string
		for _, name := range sortedKeys(resp.Headers) {
			h := resp.Headers[name]
			if h.Value == nil {
				return "", fmt.Errorf("header %s is unresolved", name)
			}
			// oapi-codegen makes an optional header a pointer, which the
			// problem's field is (nil when the status has no such
			// header); a required one would be a value the problem may
			// not have.
			if h.Value.Required {
				return "", fmt.Errorf("header %s is required; failure responses support optional headers only", name)
			}
			if h.Value.Schema != nil && h.Value.Schema.Value != nil && h.Value.Schema.Value.Nullable {
				return "", fmt.Errorf("header %s is nullable; failure responses support plain optional headers only", name)
			}
			goName := schemaNameToTypeName(name)
			fields = append(fields, fmt.Sprintf("%s: p.%s", goName, lowerFirst(goName)))
		}
		body = fmt.Sprintf("{\nBody: p.Problem,\nHeaders: %s{%s},\n}", headersType, strings.Join(fields, ", "))
	}
	if wraps == "" {
		return outer + body, nil
	}
	inner := "api." + wraps + tag + "Response"
	return fmt.Sprintf("%s{\n%s%sResponse: %s%s,\n}", outer, wraps, tag, inner, body), nil
}

var fileTemplate = template.Must(template.New("failures").Parse(`// Code generated by failgen from openapi.yaml. DO NOT EDIT.

package httpapi

import (
	"context"

	"github.com/miniback/miniback/adapters/httpapi/api"
)
{{range .}}
// {{.Func}} is the failure function of {{.ID}}, {{.Method}} {{.Path}}:
// it answers err with the problem response declared for err's status, and
// returns err for any other status, for the error hook's generic 500.
func (s *Server) {{.Func}}(ctx context.Context, err error) (api.{{.Type}}ResponseObject, error) {
	p := s.problem(ctx, err)
	switch p.Status {
	{{- range .Cases}}
	case {{.Status}}: // {{.Text}}
		return {{.Response}}, nil
	{{- end}}
	}
	return nil, err
}
{{end}}`))

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// The functions below follow oapi-codegen v2's naming (pkg/codegen,
// utils.go: ToCamelCase, SchemaNameToTypeName, mediaTypeToCamelCase) with
// its default name normalizer.

// separators are the runes after which toCamelCase starts a new word.
const separators = "-#@!$&=.+:;_~ (){}[]"

// toCamelCase uppercases the first letter and each letter after a
// separator, keeps other letters and digits, and drops the rest:
// "loginWithWeChat" is "LoginWithWeChat", "Retry-After" "RetryAfter".
func toCamelCase(s string) string {
	var b strings.Builder
	capNext := true
	for _, r := range strings.Trim(s, " ") {
		switch {
		case unicode.IsUpper(r), unicode.IsDigit(r):
			b.WriteRune(r)
		case unicode.IsLower(r):
			if capNext {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
		capNext = strings.ContainsRune(separators, r)
	}
	return b.String()
}

// schemaNameToTypeName is toCamelCase with the prefix oapi-codegen puts on
// a name that starts with a symbol or a digit.
func schemaNameToTypeName(name string) string {
	return typeNamePrefix(name) + toCamelCase(name)
}

func typeNamePrefix(name string) string {
	if name == "" {
		return "Empty"
	}
	symbols := map[rune]string{
		'-': "Minus", '+': "Plus", '&': "And", '|': "Or", '~': "Tilde", '=': "Equal",
		'>': "GreaterThan", '<': "LessThan", '#': "Hash", '.': "Dot", '*': "Asterisk",
		'^': "Caret", '%': "Percent", '_': "Underscore",
	}
	prefix := ""
	for _, r := range name {
		if r == '$' {
			if len(name) == 1 {
				return "DollarSign"
			}
			continue
		}
		if s, ok := symbols[r]; ok {
			prefix += s
			continue
		}
		if prefix == "" && unicode.IsDigit(r) {
			return "N"
		}
		return prefix
	}
	return prefix
}

// initialism matches the words oapi-codegen uppercases in a media type's
// name ("Json" is "JSON").
var initialism = regexp.MustCompile(`(?i)(Acl|Api|Ascii|Cpu|Css|Dns|Eof|Guid|Html|Http|Https|Id|Ip|Json|Qps|Ram|Rpc|Sla|Smtp|Sql|Ssh|Tcp|Tls|Ttl|Udp|Ui|Gid|Uid|Uuid|Uri|Url|Utf8|Vm|Xml|Xmpp|Xsrf|Xss|Sip|Rtp|Amqp|Db|Ts)`)

// mediaTypeToCamelCase names a media type as oapi-codegen does in its
// response types: "application/problem+json" is "ApplicationProblemPlusJSON".
func mediaTypeToCamelCase(s string) string {
	s = strings.Replace(s, "/", "_", 1)
	s = strings.Replace(s, "*", "Wildcard_", 1)
	s = strings.Replace(s, "+", "Plus_", 1)
	return initialism.ReplaceAllStringFunc(toCamelCase(s), func(w string) string {
		if unicode.IsLower(rune(w[0])) {
			return w
		}
		return strings.ToUpper(w)
	})
}
