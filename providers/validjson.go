package providers

import (
	"encoding/json"
	"strconv"

	"github.com/tidwall/gjson"
)

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// ValidJSON reports whether b is one JSON value, white space around it
// allowed: what encoding/json's json.Valid says, at gjson's speed (a
// third of the time or less). A value nested deeper than encoding/json
// allows is reported invalid, for encoding/json to refuse with its own
// error: gjson checks nesting by recursion, which a body of a few
// megabytes of "[" would follow to the goroutine stack's limit, a fatal
// error. Only a value longer than the limit can be nested that deep, so
// a short one is not scanned for it.
func ValidJSON(b []byte) bool {
	return (len(b) <= maxJSONDepth || shallow(b)) && gjson.ValidBytes(b)
}

// shallow reports whether b's arrays and objects, outside its strings,
// nest at most maxJSONDepth deep.
func shallow(b []byte) bool {
	depth := 0
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if in {
			switch c {
			case '\\':
				i++
			case '"':
				in = false
			}
			continue
		}
		switch c {
		case '"':
			in = true
		case '[', '{':
			if depth++; depth > maxJSONDepth {
				return false
			}
		case ']', '}':
			depth--
		}
	}
	return true
}

// JSONInt reads v, a value gjson found, into n as encoding/json reads a
// number into an int64: null leaves n as it is, and what is not an
// integer (3.0, 1e3, a string, out of range) reports false, for
// encoding/json to decode and refuse in its own words.
func JSONInt(v gjson.Result, n *int64) bool {
	switch v.Type {
	case gjson.Null:
		return true
	case gjson.Number:
		i, err := strconv.ParseInt(v.Raw, 10, 64)
		if err != nil {
			return false
		}
		*n = i
		return true
	}
	return false
}

// JSONString reads v into s as encoding/json reads a string: null leaves
// s as it is, and a string with escapes or other than printable ASCII is
// decoded by encoding/json itself, so that invalid UTF-8 and lone
// surrogates read as they always did. s may share v's memory.
func JSONString(v gjson.Result, s *string) bool {
	switch v.Type {
	case gjson.Null:
		return true
	case gjson.String:
		raw := v.Raw[1 : len(v.Raw)-1]
		if plainASCII(raw) {
			*s = raw
			return true
		}
		return json.Unmarshal([]byte(v.Raw), s) == nil
	}
	return false
}

// plainASCII reports a JSON string's body that reads as it is: printable
// ASCII without escapes.
func plainASCII(raw string) bool {
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 0x20 || c >= 0x80 || c == '\\' || c == '"' {
			return false
		}
	}
	return true
}
