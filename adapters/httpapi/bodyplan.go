package httpapi

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
)

// A JSON request body costs the whole validator most of its work: it
// decodes the body into generic values (a map, a json.Number or a string
// for each member) and walks the schema over them. A bodyPlan, made when
// the spec is loaded for a body schema simple enough (an object without
// additional properties, of strings, integers, booleans and arrays of
// strings, with the rules of the 3.0 validator for them), reads the body's
// bytes once instead, without decoding it into anything. Like a paramPlan
// it only ever says that a body is valid; a body it is not sure of (wrong
// in any way, or right in a way it does not mirror: duplicate or escaped
// keys, numbers not written as plain integers, …) goes to the whole
// validator, so every refusal and every field error is the validator's as
// before. A schema with a rule the plan does not know gets no plan.
//
// A body the plan accepts reaches the generated handler without the
// validator's decoded value, which then decodes the body itself
// (ShouldBindJSON): the plan accepts only bodies that decode there to the
// same values, which is why it refuses duplicate keys, keys not spelled as
// the schema spells them (encoding/json matches them case-insensitively),
// and integers a float64 would round.
type bodyPlan struct {
	root *bodyNode
}

// bodyNode is the compiled schema of one value.
type bodyNode struct {
	kind     string // openapi3.TypeObject, TypeArray, TypeString, TypeInteger or TypeBoolean
	nullable bool

	// string
	enum      []string
	minLength uint64
	maxLength *uint64
	pattern   *regexp.Regexp
	format    openapi3.StringFormatValidator

	// integer
	min, max *float64

	// array
	items       *bodyNode
	minItems    uint64
	maxItems    *uint64
	uniqueItems bool

	// object: at most 64 properties, so that a bit set tracks them.
	names    []string
	props    []*bodyNode
	required uint64 // a bit for each required property
	minProps uint64
}

// maxPlannedIntegerDigits bounds the integers a plan judges.
const maxPlannedIntegerDigits = 15 // float64 holds every integer of 15 digits exactly

// newBodyPlan returns the plan of the operation's JSON body, or nil when
// it has none or its schema is not one the plan mirrors.
func newBodyPlan(r *routers.Route) *bodyPlan {
	if r.Spec.IsOpenAPI31OrLater() {
		return nil
	}
	rb := r.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return nil
	}
	// Only a body that is JSON alone: another media type would reach the
	// validator's other decoders.
	if len(rb.Value.Content) != 1 {
		return nil
	}
	mt := rb.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil || mt.Schema.Value == nil || len(mt.Encoding) > 0 {
		return nil
	}
	root := compileBodyNode(mt.Schema.Value, 0)
	if root == nil || root.kind != openapi3.TypeObject || root.nullable {
		return nil
	}
	return &bodyPlan{root: root}
}

// compileBodyNode compiles s, or returns nil when s uses a rule the plan
// does not mirror.
func compileBodyNode(s *openapi3.Schema, depth int) *bodyNode {
	if depth > 4 || s == nil {
		return nil
	}
	if len(s.AllOf) > 0 || len(s.AnyOf) > 0 || len(s.OneOf) > 0 || s.Not != nil || s.Always != nil ||
		s.Discriminator != nil || s.ExclusiveMin.IsSet() || s.ExclusiveMax.IsSet() || s.MultipleOf != nil ||
		s.Default != nil || s.ReadOnly || s.WriteOnly || s.AllowEmptyValue || s.MaxProps != nil ||
		s.Const != nil || len(s.PrefixItems) > 0 || s.Contains != nil || len(s.PatternProperties) > 0 ||
		s.PropertyNames != nil || s.If != nil || len(s.DependentRequired) > 0 {
		return nil
	}
	types := s.Type.Slice()
	if len(types) != 1 {
		return nil
	}
	n := &bodyNode{kind: types[0], nullable: s.Nullable}
	// Rules of another kind than the node's are ignored by the validator;
	// a schema that has them is not one of ours, and not worth mirroring.
	if n.kind != openapi3.TypeString && (s.MinLength != 0 || s.MaxLength != nil || s.Pattern != "") ||
		n.kind != openapi3.TypeArray && (s.Items != nil || s.MinItems != 0 || s.MaxItems != nil || s.UniqueItems) ||
		n.kind != openapi3.TypeObject && (len(s.Properties) > 0 || len(s.Required) > 0 || s.MinProps != 0 || s.AdditionalProperties.Has != nil || s.AdditionalProperties.Schema != nil) ||
		n.kind != openapi3.TypeInteger && (s.Min != nil || s.Max != nil) ||
		n.kind != openapi3.TypeString && len(s.Enum) > 0 {
		return nil
	}
	switch n.kind {
	case openapi3.TypeBoolean:
		if s.Format != "" {
			return nil
		}
	case openapi3.TypeInteger:
		switch s.Format {
		case "", "int64":
		case "int32":
			lo, hi := float64(math.MinInt32), float64(math.MaxInt32)
			n.min, n.max = tighter(s.Min, &lo, true), tighter(s.Max, &hi, false)
		default:
			return nil
		}
		if n.min == nil {
			n.min = s.Min
		}
		if n.max == nil {
			n.max = s.Max
		}
	case openapi3.TypeString:
		for _, v := range s.Enum {
			e, ok := v.(string)
			if !ok {
				return nil
			}
			n.enum = append(n.enum, e)
		}
		n.minLength, n.maxLength = s.MinLength, s.MaxLength
		if s.Pattern != "" {
			// kin-openapi rewrites \u escapes before compiling; other
			// patterns it compiles as they are.
			if strings.Contains(s.Pattern, `\u`) {
				return nil
			}
			var err error
			if n.pattern, err = regexp.Compile(s.Pattern); err != nil {
				return nil
			}
		}
		if s.Format != "" {
			n.format = stringFormat(s.Format)
		}
	case openapi3.TypeArray:
		if s.Items == nil {
			return nil
		}
		n.items = compileBodyNode(s.Items.Value, depth+1)
		// Items of strings only: their equality (uniqueItems) is that of
		// their decoded text.
		if n.items == nil || n.items.kind != openapi3.TypeString || n.items.nullable {
			return nil
		}
		n.minItems, n.maxItems, n.uniqueItems = s.MinItems, s.MaxItems, s.UniqueItems
	case openapi3.TypeObject:
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has || s.AdditionalProperties.Schema != nil || len(s.Properties) > 64 {
			return nil
		}
		n.names = sortedKeys(s.Properties)
		for _, name := range n.names {
			ref := s.Properties[name]
			if ref == nil || ref.Value == nil {
				return nil
			}
			p := compileBodyNode(ref.Value, depth+1)
			// Nested objects would need their own key checks; none of
			// ours has them.
			if p == nil || p.kind == openapi3.TypeObject {
				return nil
			}
			n.props = append(n.props, p)
		}
		for _, name := range s.Required {
			i := slices.Index(n.names, name)
			if i < 0 {
				return nil // the validator refuses every body then
			}
			n.required |= 1 << i
		}
		n.minProps = s.MinProps
	default:
		return nil
	}
	return n
}

// tighter returns the tighter of the schema's bound b and the format's f.
func tighter(b, f *float64, lower bool) *float64 {
	if b == nil || (lower && *f > *b) || (!lower && *f < *b) {
		return f
	}
	return b
}

// bodyReader reads a JSON body that json.Valid accepted and that the edge
// checks found to be valid text within the shape limits.
type bodyReader struct {
	data []byte
	pos  int
}

// accepts reports whether the validator would accept body, valid JSON
// that passed the edge checks.
func (pl *bodyPlan) accepts(body []byte) bool {
	r := bodyReader{data: body}
	r.space()
	if !r.value(pl.root) {
		return false
	}
	r.space()
	return r.pos == len(r.data)
}

func (r *bodyReader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\r', '\n':
			r.pos++
		default:
			return
		}
	}
}

// value reads the value at r.pos and reports whether n accepts it.
func (r *bodyReader) value(n *bodyNode) bool {
	if r.pos >= len(r.data) {
		return false
	}
	c := r.data[r.pos]
	if c == 'n' {
		r.pos += len("null")
		return n.nullable
	}
	switch n.kind {
	case openapi3.TypeObject:
		return c == '{' && r.object(n)
	case openapi3.TypeArray:
		return c == '[' && r.array(n)
	case openapi3.TypeString:
		if c != '"' {
			return false
		}
		s, ok := r.str()
		return ok && n.acceptsString(s)
	case openapi3.TypeBoolean:
		switch {
		case bytes.HasPrefix(r.data[r.pos:], []byte("true")):
			r.pos += len("true")
		case bytes.HasPrefix(r.data[r.pos:], []byte("false")):
			r.pos += len("false")
		default:
			return false
		}
		return true
	case openapi3.TypeInteger:
		return r.integer(n)
	}
	return false
}

// object reads an object and reports whether n accepts it: known keys,
// each once and spelled without escapes, every required one, and values n
// accepts.
func (r *bodyReader) object(n *bodyNode) bool {
	r.pos++ // {
	var seen uint64
	count := uint64(0)
	for {
		r.space()
		if r.pos >= len(r.data) {
			return false
		}
		switch r.data[r.pos] {
		case '}':
			r.pos++
			return seen&n.required == n.required && count >= n.minProps
		case ',':
			r.pos++
			r.space()
		}
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			return false
		}
		end := bytes.IndexByte(r.data[r.pos+1:], '"')
		if end < 0 {
			return false
		}
		key := r.data[r.pos+1 : r.pos+1+end]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		r.pos += end + 2
		i := n.property(key)
		if i < 0 || seen&(1<<i) != 0 {
			return false
		}
		seen |= 1 << i
		count++
		r.space()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return false
		}
		r.pos++
		r.space()
		if !r.value(n.props[i]) {
			return false
		}
	}
}

// property returns the index of the property named key, or -1.
func (n *bodyNode) property(key []byte) int {
	for i, name := range n.names {
		if name == string(key) { // no copy
			return i
		}
	}
	return -1
}

// array reads an array of strings and reports whether n accepts it.
func (r *bodyReader) array(n *bodyNode) bool {
	r.pos++ // [
	var items []string
	count := uint64(0)
	for {
		r.space()
		if r.pos >= len(r.data) {
			return false
		}
		switch r.data[r.pos] {
		case ']':
			r.pos++
			return count >= n.minItems && (n.maxItems == nil || count <= *n.maxItems)
		case ',':
			r.pos++
			r.space()
		}
		if count++; n.maxItems != nil && count > *n.maxItems {
			return false
		}
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			return false
		}
		s, ok := r.str()
		if !ok || !n.items.acceptsString(s) {
			return false
		}
		if n.uniqueItems {
			if slices.Contains(items, s) {
				return false
			}
			// s may share the body's memory: keep a copy.
			items = append(items, strings.Clone(s))
		}
	}
}

// str reads a string and returns its decoded text, which may share r's
// memory until the next call. It reports false for text the plan leaves
// to the validator: not valid UTF-8, or holding NUL.
func (r *bodyReader) str() (string, bool) {
	start := r.pos + 1
	i := start
	esc := false
	for i < len(r.data) {
		c := r.data[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			esc = true
			i += 2
			continue
		}
		i++
	}
	if i >= len(r.data) {
		return "", false
	}
	raw := r.data[start:i]
	r.pos = i + 1
	if !esc {
		s := unsafeString(raw)
		return s, validText(s)
	}
	// Escapes: decode as the validator's decoder does.
	var s string
	if err := json.Unmarshal(r.data[start-1:i+1], &s); err != nil {
		return "", false
	}
	// encoding/json turns a lone surrogate escape into U+FFFD; the edge
	// checks refused those already, but stay on the safe side.
	if strings.ContainsRune(s, utf8.RuneError) && bytes.Contains(raw, []byte(`\u`)) {
		return "", false
	}
	return s, validText(s)
}

// acceptsString reports whether the validator accepts the string s for n.
func (n *bodyNode) acceptsString(s string) bool {
	if len(n.enum) > 0 && !slices.Contains(n.enum, s) {
		return false
	}
	if n.minLength != 0 || n.maxLength != nil {
		// The validator's count: code points, a surrogate (which valid
		// text never holds) counting two.
		length := uint64(0)
		for _, c := range s {
			if utf16.IsSurrogate(c) {
				length += 2
			} else {
				length++
			}
		}
		if length < n.minLength || (n.maxLength != nil && length > *n.maxLength) {
			return false
		}
	}
	if n.pattern != nil && !n.pattern.MatchString(s) {
		return false
	}
	if n.format != nil && n.format.Validate(s) != nil {
		return false
	}
	return true
}

// integer reads a number and reports whether n accepts it. Only plain
// integers of at most maxPlannedIntegerDigits digits are judged ("-0",
// "1.0", "1e2" go to the validator): they are exact as a float64, and the
// handler decodes them to the same int64 the validator's value binds to.
func (r *bodyReader) integer(n *bodyNode) bool {
	start := r.pos
	if r.pos < len(r.data) && r.data[r.pos] == '-' {
		r.pos++
	}
	digits := r.pos
	for r.pos < len(r.data) && r.data[r.pos] >= '0' && r.data[r.pos] <= '9' {
		r.pos++
	}
	nd := r.pos - digits
	if nd == 0 || nd > maxPlannedIntegerDigits || (r.data[digits] == '0' && (nd > 1 || digits > start)) {
		return false
	}
	if r.pos < len(r.data) && !endOfScalar(r.data[r.pos]) {
		return false // a fraction or an exponent
	}
	v, err := strconv.ParseInt(unsafeString(r.data[start:r.pos]), 10, 64)
	if err != nil {
		return false
	}
	f := float64(v)
	return (n.min == nil || *n.min <= f) && (n.max == nil || *n.max >= f)
}

// unsafeString views b as a string without copying it. The body it views
// is not written to while the plan reads it, and no such string outlives
// the plan's reading.
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
