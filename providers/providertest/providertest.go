// Package providertest holds what the vendor packages' tests share: a fake
// API server that records what it is asked, a replayer of recorded
// streams that splits them at any byte, assertions on streams and
// errors, and the vendors' dialects and the hostile handlers (rate limits,
// resets, black holes, slowloris, endless events and error bodies) of the
// fault-injection suite in package faulttest. It is imported by tests
// only.
package providertest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/council-dev/council/providers"
)

// Received is what the fake API saw of one request.
type Received struct {
	Method, Path, Query string
	Header              http.Header
	Body                map[string]any
}

// Server is an httptest server standing in for a vendor's API: it records
// each request, then runs the handler the test gave it.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	reqs  []Received
	calls atomic.Int32
}

// NewServer starts a Server running h; it is closed when the test ends.
func NewServer(t testing.TB, h http.HandlerFunc) *Server {
	t.Helper()
	s := &Server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		rec := Received{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone()}
		_ = json.Unmarshal(body, &rec.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// Calls is how many requests the server has had.
func (s *Server) Calls() int { return int(s.calls.Load()) }

// Last is the latest request; the test fails when there was none.
func (s *Server) Last(t testing.TB) Received {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return s.reqs[len(s.reqs)-1]
}

// Replay serves the recorded stream at path as the API does: with the
// given headers, chunk bytes at a time (splitting events and UTF-8
// sequences), flushing after each write.
func Replay(t testing.TB, path string, chunk int, header map[string]string) http.HandlerFunc {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(http.StatusOK)
		for rest := data; len(rest) > 0; {
			n := min(chunk, len(rest))
			if _, err := w.Write(rest[:n]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			rest = rest[n:]
		}
	}
}

// Drain reads a stream to its end and closes it (twice: Close must be
// idempotent), returning its text, every usage it reported and its error.
func Drain(t testing.TB, s providers.Stream) (text string, usages []providers.Usage, err error) {
	t.Helper()
	var b strings.Builder
	for s.Next() {
		c := s.Chunk()
		b.WriteString(c.Text)
		if c.Usage != nil {
			usages = append(usages, *c.Usage)
		}
	}
	if s.Next() {
		t.Error("Next = true after the end")
	}
	err = s.Err()
	if cerr := s.Close(); cerr != nil {
		t.Errorf("Close: %v", cerr)
	}
	if cerr := s.Close(); cerr != nil {
		t.Errorf("second Close: %v", cerr)
	}
	return b.String(), usages, err
}

// AssertNoSecret fails if any secret appears anywhere in err's chain,
// however it is printed.
func AssertNoSecret(t testing.TB, err error, secrets ...string) {
	t.Helper()
	for e := err; e != nil; e = errors.Unwrap(e) {
		for _, s := range []string{e.Error(), fmt.Sprintf("%v", e), fmt.Sprintf("%+v", e), fmt.Sprintf("%#v", e)} {
			for _, secret := range secrets {
				if strings.Contains(s, secret) {
					t.Errorf("a secret appears in an error: %q", s)
				}
			}
		}
	}
}

// AsProviderError returns err as a *providers.Error of the given
// provider; the test fails when it is not one.
func AsProviderError(t testing.TB, err error, provider string) *providers.Error {
	t.Helper()
	var pe *providers.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *providers.Error", err, err)
	}
	if pe.Provider != provider {
		t.Errorf("Provider = %q, want %q", pe.Provider, provider)
	}
	return pe
}
