package jwx

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzMembersReadsAsEncodingJSON checks the member walk against
// encoding/json's own: for any input, members succeeds exactly on JSON
// objects, and yields the same names, unescaped, and the same values.
func FuzzMembersReadsAsEncodingJSON(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` { } `, `[]`, `"x"`, `7`, `null`, `{"a":1}`, `{"a":1,}`, `{"a" : [1, {"b":"}]"}] , "c":{"d":[]}}`,
		`{"\u0065xp":1,"s":"a\"b\\"}`, `{"x":"\ud800"}`, "{\"\xff\":true}", `{"a":-1.5e3,"b":false,"c":null}`,
		`{"a":1}{}`, `{"a":"b"`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		type member struct {
			name  string
			value string
		}
		var got []member
		err := members(b, func(name, value []byte) error {
			got = append(got, member{string(name), string(value)})
			return nil
		})

		var want map[string]json.RawMessage // nil unless b is an object
		isObject := json.Valid(b) && json.Unmarshal(b, &want) == nil && want != nil
		if (err == nil) != isObject {
			t.Fatalf("%q: members error %v, but encoding/json says object=%t", b, err, isObject)
		}
		if err != nil {
			return
		}
		// encoding/json keeps the last of a repeated name, so compare each
		// name's last value.
		last := map[string]string{}
		for _, m := range got {
			last[m.name] = m.value
		}
		if len(last) != len(want) {
			t.Fatalf("%q: names %v, encoding/json %v", b, last, want)
		}
		for name, v := range want {
			g, ok := last[name]
			if !ok || !bytes.Equal(compact(t, []byte(g)), compact(t, v)) {
				t.Fatalf("%q: member %q = %q, encoding/json %q", b, name, g, v)
			}
		}
	})
}

func compact(t *testing.T, v []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, v); err != nil {
		t.Fatalf("compact %q: %v", v, err)
	}
	return buf.Bytes()
}
