package httpapi

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Limits of a JSON body's shape. No operation accepts a body anywhere near
// them (the largest holds about 30 values, 2 levels deep), so a body past
// them is refused before the schema validator sees it: decoding and
// validating cost about 1 µs a value, errors included, and a 1 MiB body
// can hold half a million values.
const (
	maxJSONValues = 1000 // values in the body: members, items, and the body itself
	maxJSONDepth  = 32   // objects and arrays nested in each other
)

// Field error codes of the edge checks.
const (
	codeInvalidText = "invalid_text"
	codeTooComplex  = "too_complex"
)

// validText reports whether s may reach a store: PostgreSQL's text refuses
// NUL and invalid UTF-8 (surrogate halves included, which utf8 counts
// invalid), and would answer such input with an error, not a refusal.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func invalidTextMessage(name string) string {
	return name + " must be valid UTF-8 text without NUL characters"
}

// checkParams adds an invalid_text error for every query parameter, path
// parameter and declared header parameter of the request that is not valid
// text. Query parameters the operation does not declare are checked too:
// the rule holds for every text input, whoever reads it.
func (fs *fieldErrors) checkParams(c *gin.Context, op *operation) {
	// A query without escapes decodes to its own text ('+' to a space):
	// when that is valid, so is every name and value in it.
	if raw := c.Request.URL.RawQuery; strings.IndexByte(raw, '%') >= 0 || !validText(raw) {
		query := c.Request.URL.Query()
		for _, name := range sortedKeys(query) {
			fs.checkValues("query", name, query[name])
		}
	}
	for _, p := range c.Params {
		fs.checkValue("path", p.Key, p.Value)
	}
	for _, h := range op.headers {
		fs.checkValues("header", h.name, c.Request.Header[h.key])
	}
}

// checkValue is checkValues for a single value.
func (fs *fieldErrors) checkValue(where, name, value string) {
	if validText(name) && validText(value) {
		return
	}
	fs.checkValues(where, name, []string{value})
}

// checkValues adds an invalid_text error for the parameter name of where
// (query, path, header) when its name or one of its values is not text.
func (fs *fieldErrors) checkValues(where, name string, values []string) {
	if !validText(name) {
		fs.add(where, codeInvalidText, "a "+where+" parameter name is not valid UTF-8 text without NUL characters")
		return
	}
	for _, v := range values {
		if !validText(v) {
			name = clip(name)
			fs.add(where+"."+name, codeInvalidText, invalidTextMessage(name))
			return
		}
	}
}

// jsonScan checks a JSON body in one pass over its bytes, before anything
// decodes it: encoding/json turns invalid UTF-8 and lone surrogate escapes
// ("\ud800") into U+FFFD, so only the raw bytes tell them from a real
// U+FFFD. It refuses, as field errors naming where they are, strings and
// keys that are not valid text, and stops at the first broken shape limit
// (more than maxJSONValues values, or nesting deeper than maxJSONDepth).
// The body must be valid JSON (json.Valid) already, so the scanner skips
// the checks of syntax.
type jsonScan struct {
	data   []byte
	pos    int
	fs     *fieldErrors
	path   []segment
	values int
	shape  bool // a shape limit was broken
	stop   bool // the client is gone, the error list is full or a shape limit is broken
}

// segment is one step of the path to the current value: an object's
// current key (as its raw bytes, decoded only to name a field) or an
// array's current index.
type segment struct {
	key   []byte
	esc   bool // the key holds escapes
	index int  // -1 in an object
}

// checkJSON scans body and adds its field errors to fs. It reports whether
// the body broke a shape limit, in which case it must not be handed to the
// schema validator.
func (fs *fieldErrors) checkJSON(body []byte) (shapeBroken bool) {
	s := &jsonScan{data: body, fs: fs}
	s.value(0)
	return s.shape
}

func (s *jsonScan) value(depth int) {
	if s.stop {
		return
	}
	if s.values++; s.values > maxJSONValues {
		s.tooComplex("body must hold at most " + strconv.Itoa(maxJSONValues) + " values")
		return
	}
	s.space()
	switch s.data[s.pos] {
	case '{', '[':
		if depth >= maxJSONDepth {
			s.tooComplex("body must not nest objects and arrays more than " + strconv.Itoa(maxJSONDepth) + " deep")
			return
		}
		s.container(depth)
	case '"':
		if _, ok := s.str(); !ok {
			field, name := s.field()
			s.fs.add(field, codeInvalidText, invalidTextMessage(name))
		}
	default:
		// A number, true, false or null.
		for s.pos < len(s.data) && !endOfScalar(s.data[s.pos]) {
			s.pos++
		}
	}
	s.stop = s.stop || s.fs.done()
}

// tooComplex stops the scan on a broken shape limit: the request is
// refused whatever the rest of the body holds.
func (s *jsonScan) tooComplex(message string) {
	s.shape, s.stop = true, true
	s.fs.add("body", codeTooComplex, message)
}

// container scans an object or an array at s.pos.
func (s *jsonScan) container(depth int) {
	object := s.data[s.pos] == '{'
	s.pos++
	s.path = append(s.path, segment{index: -1})
	defer func() { s.path = s.path[:len(s.path)-1] }()
	top := len(s.path) - 1
	for n := 0; !s.stop; n++ {
		s.space()
		if c := s.data[s.pos]; c == '}' || c == ']' {
			s.pos++
			return
		}
		if c := s.data[s.pos]; c == ',' {
			s.pos++
			s.space()
		}
		if !object {
			s.path[top] = segment{index: n}
			s.value(depth + 1)
			continue
		}
		start := s.pos + 1
		esc, ok := s.str()
		key := s.data[start : s.pos-1]
		s.space()
		s.pos++ // the colon
		if !ok {
			// The key is not text: name the object, and leave its value
			// unvisited, as its path could not be named.
			s.path = s.path[:top]
			field, name := s.field()
			s.fs.add(field, codeInvalidText, name+" has a field name that is not valid UTF-8 text without NUL characters")
			s.path = append(s.path, segment{index: -1})
			s.skip()
			continue
		}
		s.path[top] = segment{key: key, esc: esc, index: -1}
		s.value(depth + 1)
	}
}

// str scans the string at s.pos, returning whether it holds escapes and
// whether it is valid text: valid UTF-8, no \u0000, and every \uXXXX
// surrogate escape part of a pair.
func (s *jsonScan) str() (esc, ok bool) {
	ok = true
	s.pos++ // the opening quote
	for {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return esc, ok
		case c == '\\':
			esc = true
			if s.data[s.pos+1] != 'u' {
				s.pos += 2
				continue
			}
			r := hex4(s.data[s.pos+2 : s.pos+6])
			s.pos += 6
			switch {
			case r == 0:
				ok = false
			case r >= 0xD800 && r < 0xDC00:
				// A high surrogate must be followed by a low one.
				if s.pos+6 <= len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					if lo := hex4(s.data[s.pos+2 : s.pos+6]); lo >= 0xDC00 && lo < 0xE000 {
						s.pos += 6
						continue
					}
				}
				ok = false
			case r >= 0xDC00 && r < 0xE000:
				ok = false
			}
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				ok = false
			}
			s.pos += size
		}
	}
}

// hex4 decodes four hex digits (json.Valid checked them).
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// skip goes past the value at s.pos without looking inside it.
func (s *jsonScan) skip() {
	s.space()
	depth := 0
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case '"':
			s.str()
			if depth == 0 {
				return
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return // the end of the enclosing container
			}
			if depth--; depth == 0 {
				s.pos++
				return
			}
		case ',':
			if depth == 0 {
				return
			}
		}
		s.pos++
	}
}

func endOfScalar(c byte) bool {
	switch c {
	case ',', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

func (s *jsonScan) space() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

// field names the current value: its field ("body.tags.3") and its last
// step ("3"), or "body" for the whole body.
func (s *jsonScan) field() (field, name string) {
	if len(s.path) == 0 {
		return "body", "body"
	}
	var b strings.Builder
	b.WriteString("body")
	for _, seg := range s.path {
		b.WriteByte('.')
		name = seg.name()
		b.WriteString(name)
	}
	return b.String(), name
}

func (seg segment) name() string {
	if seg.index >= 0 {
		return strconv.Itoa(seg.index)
	}
	if !seg.esc {
		return clip(string(seg.key))
	}
	var k string
	// Cannot fail: the key was scanned as valid text.
	_ = json.Unmarshal(append(append([]byte{'"'}, seg.key...), '"'), &k)
	return clip(k)
}
