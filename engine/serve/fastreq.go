package serve

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"github.com/council-dev/council/providers"
)

// readChat reads a chat completion request's body whole and decodes it
// into cr; it returns the bytes read, for the parameters refused
// (contract.go). The shape clients send is read with gjson (fastRead);
// anything else (a key spelled in another case, a value of an unexpected
// type, a number that is not an integer where one is wanted, invalid
// JSON) is decoded by encoding/json, exactly as before, and its errors are
// the client's. encoding/json's scan and reflective decoding of the body
// were ~7 us of the handler's ~11 before the session started
// (BenchmarkOverhead's profile).
func (s *Server) readChat(w http.ResponseWriter, r *http.Request, cr *chatRequest) ([]byte, *apiError) {
	const what = "a chat completion request"
	raw, aerr := s.readRaw(w, r, s.o.MaxBodyBytes, what)
	if aerr != nil {
		return nil, aerr
	}
	if cr.fastRead(raw) {
		return raw, nil
	}
	*cr = chatRequest{}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	if aerr := s.readBody(w, r, s.o.MaxBodyBytes, false, what, cr); aerr != nil {
		return nil, aerr
	}
	return raw, nil
}

// readRaw reads r's body whole, at most limit bytes, within the read
// deadline, which it then clears (a deadline left on the connection would
// end a long answer's context).
func (s *Server) readRaw(w http.ResponseWriter, r *http.Request, limit int64, what string) ([]byte, *apiError) {
	body := http.MaxBytesReader(w, r.Body, limit)
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= limit {
		// net/http ends the body at its declared length.
		b = make([]byte, n)
		if _, err = io.ReadFull(body, b); err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
	} else {
		b, err = io.ReadAll(body)
	}
	if err != nil {
		// The deadline stays: net/http reads what is left of a refused
		// body after the answer, and must not wait for it longer.
		return nil, s.bodyError(w, err, what)
	}
	http.NewResponseController(w).SetReadDeadline(time.Time{})
	return b, nil
}

// fastRead fills cr from body as encoding/json would, for the common
// shape of a request: every key of cr's spelled as its tag, each once,
// each value of its field's type or null (strings read as
// providers.JSONString reads them; keys without escapes). It
// reports false, cr partly filled, for anything else.
func (cr *chatRequest) fastRead(body []byte) bool {
	if !providers.ValidJSON(body) {
		return false
	}
	root := gjson.ParseBytes(body)
	if !root.IsObject() {
		return false
	}
	var seen [len(chatFields)]bool
	ok := true
	root.ForEach(func(k, v gjson.Result) bool {
		i := chatKey(k)
		switch {
		case i == keyOther:
			return true
		case i == keyRefuse || seen[i]:
			ok = false
			return false
		}
		seen[i] = true
		ok = chatFields[i].read(cr, v)
		return ok
	})
	return ok
}

// chatFields are chatRequest's fields by their JSON keys, each with its
// reader. Every field encoding/json reads is here
// (TestFastReadKnowsEveryField): a key left out would be ignored.
var chatFields = [...]struct {
	key  string
	read func(cr *chatRequest, v gjson.Result) bool
}{
	{"model", func(cr *chatRequest, v gjson.Result) bool { return fastString(v, &cr.Model) }},
	{"messages", (*chatRequest).fastMessages},
	{"stream", func(cr *chatRequest, v gjson.Result) bool { return fastBool(v, &cr.Stream) }},
	{"max_tokens", func(cr *chatRequest, v gjson.Result) bool { return fastInt(v, &cr.MaxTokens) }},
	{"max_completion_tokens", func(cr *chatRequest, v gjson.Result) bool { return fastInt(v, &cr.MaxCompletionTokens) }},
	{"temperature", func(cr *chatRequest, v gjson.Result) bool { return fastFloatPtr(v, &cr.Temperature) }},
	{"stop", func(cr *chatRequest, v gjson.Result) bool { cr.Stop = fastRaw(v); return true }},
	{"response_format", func(cr *chatRequest, v gjson.Result) bool { cr.ResponseFormat = fastRaw(v); return true }},
	{"n", func(cr *chatRequest, v gjson.Result) bool { return fastIntPtr(v, &cr.N) }},
	{"stream_options", (*chatRequest).fastStreamOptions},
}

const (
	keyOther  = -1 // a key cr has no field for: ignored, as encoding/json does
	keyRefuse = -2 // a key fastRead leaves to encoding/json
)

// chatKey is k's index in chatFields, keyOther, or keyRefuse for a key
// encoding/json would match otherwise (another case: it folds case) or
// that has escapes.
func chatKey(k gjson.Result) int {
	if strings.IndexByte(k.Raw, '\\') >= 0 {
		return keyRefuse
	}
	for i, f := range chatFields {
		if k.Str == f.key {
			return i
		}
	}
	for _, f := range chatFields {
		// What encoding/json matches: bytes.EqualFold (its foldName).
		if strings.EqualFold(k.Str, f.key) {
			return keyRefuse
		}
	}
	return keyOther
}

// fastString reads a string field as encoding/json does
// (providers.JSONString), copied out of the body: a request's model name
// outlives it in the event stream's backlog.
func fastString(v gjson.Result, dst *string) bool {
	var str string
	if !providers.JSONString(v, &str) {
		return false
	}
	if v.Type == gjson.String {
		*dst = strings.Clone(str)
	}
	return true
}

func fastBool(v gjson.Result, dst *bool) bool {
	switch v.Type {
	case gjson.Null:
		return true
	case gjson.True, gjson.False:
		*dst = v.Type == gjson.True
		return true
	}
	return false
}

// fastInt reads an int field as encoding/json does (providers.JSONInt).
func fastInt(v gjson.Result, dst *int) bool {
	n := int64(*dst)
	if !providers.JSONInt(v, &n) {
		return false
	}
	*dst = int(n)
	return true
}

func fastIntPtr(v gjson.Result, dst **int) bool {
	if v.Type == gjson.Null {
		*dst = nil
		return true
	}
	var n int
	if v.Type != gjson.Number || !fastInt(v, &n) {
		return false
	}
	*dst = &n
	return true
}

func fastFloatPtr(v gjson.Result, dst **float64) bool {
	switch v.Type {
	case gjson.Null:
		*dst = nil
		return true
	case gjson.Number:
		f, err := strconv.ParseFloat(v.Raw, 64)
		if err != nil {
			return false
		}
		*dst = &f
		return true
	}
	return false
}

// fastRaw is v's bytes, as a json.RawMessage field keeps them (null too).
func fastRaw(v gjson.Result) json.RawMessage {
	return json.RawMessage(v.Raw)
}

// fastMessages reads the messages array.
func (cr *chatRequest) fastMessages(v gjson.Result) bool {
	switch {
	case v.Type == gjson.Null:
		cr.Messages = nil
		return true
	case !v.IsArray():
		return false
	}
	ok := true
	v.ForEach(func(_, m gjson.Result) bool {
		cr.Messages = append(cr.Messages, chatMessage{})
		switch {
		case m.Type == gjson.Null:
			return true
		case !m.IsObject():
			ok = false
			return false
		}
		msg := &cr.Messages[len(cr.Messages)-1]
		var role, content bool
		m.ForEach(func(k, v gjson.Result) bool {
			if strings.IndexByte(k.Raw, '\\') >= 0 {
				ok = false
				return false
			}
			switch {
			case k.Str == "role" && !role:
				role = true
				ok = fastString(v, &msg.Role)
			case k.Str == "content" && !content:
				content = true
				msg.Content = fastRaw(v)
			case strings.EqualFold(k.Str, "role") || strings.EqualFold(k.Str, "content"):
				ok = false // another case, or twice: encoding/json's
			}
			return ok
		})
		return ok
	})
	if ok && cr.Messages == nil {
		cr.Messages = []chatMessage{} // [] is an empty slice, not nil
	}
	return ok
}

// fastStreamOptions reads stream_options.
func (cr *chatRequest) fastStreamOptions(v gjson.Result) bool {
	switch {
	case v.Type == gjson.Null:
		cr.StreamOptions = nil
		return true
	case !v.IsObject():
		return false
	}
	cr.StreamOptions = &struct {
		IncludeUsage bool `json:"include_usage"`
	}{}
	ok, seen := true, false
	v.ForEach(func(k, v gjson.Result) bool {
		switch {
		case strings.IndexByte(k.Raw, '\\') >= 0:
			ok = false
		case k.Str == "include_usage" && !seen:
			seen = true
			ok = fastBool(v, &cr.StreamOptions.IncludeUsage)
		case strings.EqualFold(k.Str, "include_usage"):
			ok = false
		}
		return ok
	})
	return ok
}
