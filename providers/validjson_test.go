package providers

import (
	"encoding/json"
	"strings"
	"testing"
)

// validJSONCases are values valid and not, each judged by encoding/json.
var validJSONCases = []string{
	`{}`, ` {"a":1} `, `[1,2.5e3,-0,"x",true,false,null]`, `"str\u00e9\n"`, `0`, `-1.5E-3`,
	`{"a":[{"b":{"c":[]}}]}`, "{\"k\":\"caf\xc3\xa9\"}", "\"\xff\"",
	``, ` `, `{`, `{"a"}`, `{"a":}`, `[1,]`, `{"a":1,}`, `01`, `1.`, `.5`, `+1`, `tru`, `nul`,
	`"\x"`, `"\u12"`, "\"a\tb\"", `{} {}`, `{}x`, `[1] 2`, `{"a":1}}`, `NaN`, `1e`, `--1`,
}

func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range validJSONCases {
		if got, want := ValidJSON([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("ValidJSON(%q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

// TestValidJSONDepth: nesting past encoding/json's limit is invalid, and
// is found without recursion (a recursive check of 4 MB of "[" would
// need gigabytes of stack); just under the limit stays valid.
func TestValidJSONDepth(t *testing.T) {
	deep := []byte(strings.Repeat("[", 4<<20) + strings.Repeat("]", 4<<20))
	if ValidJSON(deep) {
		t.Error("4 MB of nested arrays reported valid: encoding/json refuses them (max depth)")
	}
	if json.Valid(deep) {
		t.Error("encoding/json accepts 4 MB of nested arrays: the limit this copies is gone")
	}
	ok := []byte(strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth))
	if !ValidJSON(ok) || !json.Valid(ok) {
		t.Errorf("%d nested arrays: ValidJSON %v, encoding/json %v, want both valid", maxJSONDepth, ValidJSON(ok), json.Valid(ok))
	}
	// Brackets inside strings are not nesting.
	str := []byte(`{"a":"` + strings.Repeat(`[\"`, maxJSONDepth) + `"}`)
	if !ValidJSON(str) || !json.Valid(str) {
		t.Errorf("brackets in a string: ValidJSON %v, encoding/json %v, want both valid", ValidJSON(str), json.Valid(str))
	}
}

func FuzzValidJSON(f *testing.F) {
	for _, c := range validJSONCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := ValidJSON(b), json.Valid(b); got != want {
			t.Errorf("ValidJSON(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}
