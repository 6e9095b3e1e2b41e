package serve

import (
	"cmp"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// chatBodies are requests in the shape clients send and around it: every
// one fastRead takes must decode as encoding/json decodes it.
var chatBodies = []string{
	`{"model":"council/race","stream":false,"messages":[{"role":"user","content":"hi"}]}`,
	`{"model":"council/race@quick","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":[{"type":"text","text":"hi"}]}]}`,
	` { "model" : "m" , "messages" : [ { "role" : "user" , "content" : "a\nb" } ] , "temperature" : 0.25 , "n" : 1 , "max_tokens" : 64 } `,
	`{"model":"m","messages":[],"stop":["END", "\n\n"],"response_format":{"type":"json_object"},"max_completion_tokens":12}`,
	`{"model":"m","messages":null,"stop":null,"response_format":null,"temperature":null,"n":null,"stream_options":null,"stream":null,"max_tokens":null}`,
	`{"model":null,"messages":[null,{"role":null,"content":null},{}]}`,
	`{"model":"m","messages":[{"role":"user","content":"hi","name":"x","extra":{"a":[1,2]}}],"user":"u","seed":7,"logit_bias":{}}`,
	`{"model":"m","messages":[{"role":"user","content":"café ☕"}]}`,
	`{"Model":"m","messages":[]}`, `{"MODEL":"m"}`, `{"ſtream":true}`, `{"max_tokens":1.5}`, `{"max_tokens":1e3}`,
	`{"max_tokens":99999999999999999999}`, `{"temperature":1e400}`, `{"n":-1}`, `{"n":2.0}`, `{"model":"m","model":"n"}`,
	`{"messages":[{"role":"user","role":"system"}]}`, `{"messages":[{"Role":"user"}]}`, `{"messages":[1]}`, `{"messages":{}}`,
	`{"model":"a\u0041"}`, `{"mod\u0065l":"m"}`, "{\"model\":\"\xff\"}", `{"stream":"yes"}`, `{"stream_options":{"include_usage":1}}`,
	`{"stream_options":{"INCLUDE_USAGE":true}}`, `{"stream_options":[]}`, `{"model":5}`, `[]`, `null`, `"x"`, `{}`, `{} {}`, `{"model":"m"}x`,
	`{"model":"m",}`, `{"messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":false,"x":1}}`,
	`{"max_tokens":-0}`, `{"max_tokens":-5}`, `{"temperature":-0.0}`, `{"temperature":2E-1}`, `{"n":0}`,
}

// checkFastRead fails when fastRead takes body and decodes it otherwise
// than encoding/json, or takes a body encoding/json refuses.
func checkFastRead(t *testing.T, body []byte) {
	t.Helper()
	var fast chatRequest
	if !fast.fastRead(body) {
		return // encoding/json decodes it
	}
	var slow chatRequest
	if err := json.Unmarshal(body, &slow); err != nil {
		t.Fatalf("fastRead took %q, which encoding/json refuses: %v", body, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fastRead(%q) =\n%#v\nencoding/json:\n%#v", body, fast, slow)
	}
}

func TestFastReadAgreesWithEncodingJSON(t *testing.T) {
	took := 0
	for _, b := range chatBodies {
		checkFastRead(t, []byte(b))
		var cr chatRequest
		if cr.fastRead([]byte(b)) {
			took++
		}
	}
	// The common shapes, the first seven, and a few more are taken: a
	// fastRead that refused everything would agree with anything.
	if took < 12 {
		t.Errorf("fastRead took %d of %d bodies, want the common shapes (12 or more)", took, len(chatBodies))
	}
	for _, b := range chatBodies[:8] {
		var cr chatRequest
		if !cr.fastRead([]byte(b)) {
			t.Errorf("fastRead refused a common shape: %s", b)
		}
	}
}

func FuzzFastRead(f *testing.F) {
	for _, b := range chatBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastRead(t, b) })
}

// TestFastReadKnowsEveryField: every field of chatRequest encoding/json
// reads has its reader in chatFields, and no reader is for a field it
// does not read: a field added to the request and not to fastRead would
// be ignored on the fast path, a parameter silently dropped.
func TestFastReadKnowsEveryField(t *testing.T) {
	var tagged []string
	rt := reflect.TypeFor[chatRequest]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		tagged = append(tagged, cmp.Or(name, f.Name))
	}
	var known []string
	for _, f := range chatFields {
		known = append(known, f.key)
	}
	slices.Sort(tagged)
	slices.Sort(known)
	if !slices.Equal(tagged, known) {
		t.Errorf("chatRequest's JSON fields %v, fastRead reads %v", tagged, known)
	}
}
