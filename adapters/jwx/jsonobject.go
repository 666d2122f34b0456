package jwx

import (
	"encoding/json"
	"errors"
	"fmt"
)

// A token's header and claims are flat JSON objects read member by
// member, rather than decoded by encoding/json into a struct, because
// encoding/json matches member names without regard to case ("EXP" fills
// Exp) and lets a repeated member silently replace the first, and this
// package must do neither. The walk below also allocates nothing for
// plain names.

var (
	errNotJSON   = errors.New("not valid JSON")
	errNotObject = errors.New("not a JSON object")
)

// members calls visit with the name (unescaped) and the raw value of each
// member of the JSON object b, in order, and stops at visit's first error.
// b is checked with json.Valid first; the walk relies on that and checks
// no syntax itself.
func members(b []byte, visit func(name, value []byte) error) error {
	if !json.Valid(b) {
		return errNotJSON
	}
	i := skipSpace(b, 0)
	if b[i] != '{' { // valid JSON has a value after its leading space
		return errNotObject
	}
	if i = skipSpace(b, i+1); b[i] == '}' {
		return nil
	}
	for {
		end := stringEnd(b, i) // a member starts with its name
		name, err := unquote(b[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(b, skipSpace(b, end)+1) // past the ':'
		vend := valueEnd(b, i)
		if err := visit(name, b[i:vend]); err != nil {
			return err
		}
		if i = skipSpace(b, vend); b[i] == '}' {
			return nil
		}
		i = skipSpace(b, i+1) // past the ','
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// stringEnd returns the index just past the string that opens at b[i].
// In valid JSON a backslash escapes one character (\uXXXX continues with
// hex digits), so skipping the character after it is enough.
func stringEnd(b []byte, i int) int {
	for i++; b[i] != '"'; i++ {
		if b[i] == '\\' {
			i++
		}
	}
	return i + 1
}

// valueEnd returns the index just past the value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // a number, true, false or null
		for i < len(b) && !isValueEnd(b[i]) {
			i++
		}
		return i
	}
}

func isValueEnd(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}

// unquote returns the content of the JSON string raw (quotes included).
// Plain printable ASCII is returned in place; anything else (escapes,
// other bytes) goes through encoding/json, so that it reads exactly as
// encoding/json reads it (invalid UTF-8 becomes U+FFFD).
func unquote(raw []byte) ([]byte, error) {
	s := raw[1 : len(raw)-1]
	if isPlain(s) {
		return s, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("decode string: %w", err)
	}
	return []byte(v), nil
}

func isPlain(s []byte) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7e || c == '\\' {
			return false
		}
	}
	return true
}

// jsonString returns the value of raw when it is a JSON string.
func jsonString(raw []byte) (string, bool) {
	if !isJSONString(raw) {
		return "", false
	}
	s, err := unquote(raw)
	return string(s), err == nil
}

// isJSONNumber and isJSONString tell a valid JSON value's type from its
// first byte (the walk has skipped the space before it).
func isJSONNumber(v []byte) bool {
	return len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))
}

func isJSONString(v []byte) bool { return len(v) > 0 && v[0] == '"' }

// nameSet remembers the member names seen in one object, to refuse a
// repeated one. The names a caller knows are bits; others (none in a
// token this package issues) are kept as strings.
type nameSet struct {
	known uint32
	other []string
}

// add records a name, known by its bit (or -1 when unknown), and reports
// whether it was new.
func (s *nameSet) add(bit int, name []byte) bool {
	if bit >= 0 {
		if s.known&(1<<bit) != 0 {
			return false
		}
		s.known |= 1 << bit
		return true
	}
	for _, o := range s.other {
		if o == string(name) {
			return false
		}
	}
	s.other = append(s.other, string(name))
	return true
}

func (s *nameSet) has(bit int) bool { return s.known&(1<<bit) != 0 }
