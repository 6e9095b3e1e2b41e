package providertest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Dialect is how one vendor's API streams and fails, enough to stand in for
// it in fault tests.
type Dialect struct {
	// Name is the vendor ("openai", "anthropic", "gemini").
	Name string
	// Start is sent before the first delta (may be empty).
	Start []byte
	// Delta returns one event carrying text.
	Delta func(text string) []byte
	// Final is what ends a stream well.
	Final []byte
	// Error returns the body of an error response with status and msg.
	Error func(status int, msg string) []byte
	// ErrorEvent returns an error event sent inside a 200 stream.
	ErrorEvent func(msg string) []byte
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// OpenAI speaks Chat Completions.
var OpenAI = Dialect{
	Name: "openai",
	Delta: func(text string) []byte {
		return fmt.Appendf(nil, "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%s},\"finish_reason\":null}]}\n\n", quote(text))
	},
	Final: []byte("data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":5,\"total_tokens\":8}}\n\n" +
		"data: [DONE]\n\n"),
	Error: func(status int, msg string) []byte {
		typ := "server_error"
		switch status {
		case 401:
			typ = "invalid_request_error"
		case 429:
			typ = "rate_limit_exceeded"
		}
		return fmt.Appendf(nil, `{"error":{"message":%s,"type":%q,"code":null}}`, quote(msg), typ)
	},
	ErrorEvent: func(msg string) []byte {
		return fmt.Appendf(nil, "data: {\"error\":{\"message\":%s,\"type\":\"server_error\"}}\n\n", quote(msg))
	},
}

// Anthropic speaks the Messages API.
var Anthropic = Dialect{
	Name: "anthropic",
	Start: []byte("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\n" +
		"event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"),
	Delta: func(text string) []byte {
		return fmt.Appendf(nil, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":%s}}\n\n", quote(text))
	},
	Final: []byte("event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n" +
		"event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":5}}\n\n" +
		"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
	Error: func(status int, msg string) []byte {
		typ := "api_error"
		switch status {
		case 401:
			typ = "authentication_error"
		case 429:
			typ = "rate_limit_error"
		case 503:
			typ = "api_error"
		}
		return fmt.Appendf(nil, `{"type":"error","error":{"type":%q,"message":%s}}`, typ, quote(msg))
	},
	ErrorEvent: func(msg string) []byte {
		return fmt.Appendf(nil, "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":%s}}\n\n", quote(msg))
	},
}

// Gemini speaks streamGenerateContent?alt=sse.
var Gemini = Dialect{
	Name: "gemini",
	Delta: func(text string) []byte {
		return fmt.Appendf(nil, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": %s}], \"role\": \"model\"}, \"index\": 0}]}\r\n\r\n", quote(text))
	},
	Final: []byte("data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"\"}], \"role\": \"model\"}, \"finishReason\": \"STOP\", \"index\": 0}], \"usageMetadata\": {\"promptTokenCount\": 3, \"candidatesTokenCount\": 5}}\r\n\r\n"),
	Error: func(status int, msg string) []byte {
		st := map[int]string{400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}[status]
		return fmt.Appendf(nil, `{"error":{"code":%d,"message":%s,"status":%q}}`, status, quote(msg), st)
	},
	ErrorEvent: func(msg string) []byte {
		return fmt.Appendf(nil, "data: {\"error\": {\"code\": 500, \"message\": %s, \"status\": \"INTERNAL\"}}\r\n\r\n", quote(msg))
	},
}

// Dialects is the dialect each built-in provider kind speaks, by kind: a
// kind registered without one here has no stand-in for the fault suite
// (package main's TestEveryKindIsWhole fails), and package faulttest runs
// its faults over every dialect listed (TestSuiteRunsEveryDialect).
var Dialects = map[string]Dialect{
	"openai":            OpenAI,
	"openai-compatible": OpenAI, // the openai package, at another base_url
	"anthropic":         Anthropic,
	"gemini":            Gemini,
}

// Sent counts the bytes a hostile handler wrote, so that a test can check
// that the client hung up long before the handler's cap.
type Sent struct{ n atomic.Int64 }

// Bytes is how many bytes were written.
func (s *Sent) Bytes() int64 { return s.n.Load() }

func streamHeader(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(status)
	w.(http.Flusher).Flush()
}

// ErrorStatus answers status with the dialect's error body for msg and the
// given headers (Retry-After, say).
func ErrorStatus(d Dialect, status int, msg string, header map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(d.Error(status, msg))
	}
}

// Deltas streams n deltas of text and, when final, the final event: with
// final false it is a stream cut without its last event.
func Deltas(d Dialect, n int, text string, final bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		streamHeader(w, http.StatusOK)
		var buf bytes.Buffer
		buf.Write(d.Start)
		delta := d.Delta(text)
		for i := range n {
			buf.Write(delta)
			if buf.Len() >= 32<<10 || i == n-1 {
				if _, err := w.Write(buf.Bytes()); err != nil {
					return
				}
				buf.Reset()
			}
		}
		if final {
			buf.Write(d.Final)
		}
		_, _ = w.Write(buf.Bytes())
	}
}

// ErrorMidStream sends a delta, then an error event with msg.
func ErrorMidStream(d Dialect, msg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		streamHeader(w, http.StatusOK)
		_, _ = w.Write(append(append(append([]byte(nil), d.Start...), d.Delta("partial")...), d.ErrorEvent(msg)...))
	}
}

// ResetMidStream sends a delta, then resets the connection (RST, not FIN).
func ResetMidStream(d Dialect) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		streamHeader(w, http.StatusOK)
		_, _ = w.Write(append(append([]byte(nil), d.Start...), d.Delta("partial")...))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = conn.Close()
	}
}

// BlackHole accepts the request and never answers, until the client goes.
func BlackHole() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }
}

// Slowloris answers status, then one byte of an event stream (or of an
// error body) every interval, until the client goes.
func Slowloris(status int, interval time.Duration, sent *Sent) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		streamHeader(w, status)
		msg := []byte("data: {\"x\": \"")
		t := time.NewTicker(interval)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-r.Context().Done():
				return
			case <-t.C:
			}
			b := []byte{'a'}
			if i < len(msg) {
				b[0] = msg[i]
			}
			if _, err := w.Write(b); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			sent.n.Add(1)
		}
	}
}

// Endless answers status and then writes prefix followed by filler
// (repeated) at full speed, until the client goes or maxBytes are written.
// With filler "a" it is an endless line; with filler "data: a\n" an
// event of data lines that never ends; on a non-2xx status an endless
// error body.
func Endless(status int, prefix, filler string, maxBytes int64, sent *Sent) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		streamHeader(w, status)
		chunk := bytes.Repeat([]byte(filler), (32<<10)/len(filler))
		if _, err := w.Write([]byte(prefix)); err != nil {
			return
		}
		left := maxBytes - int64(len(prefix))
		sent.n.Add(int64(len(prefix)))
		for left > 0 && r.Context().Err() == nil {
			c := chunk[:min(int64(len(chunk)), left)]
			n, err := w.Write(c)
			sent.n.Add(int64(n))
			left -= int64(n)
			if err != nil {
				return
			}
		}
	}
}
