package openai

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/council-dev/council/providers"
)

// goModSDKVersion is the openai-go version go.mod requires.
func goModSDKVersion(t *testing.T) string {
	t.Helper()
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`github.com/openai/openai-go/v3 v(\S+)`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod does not require github.com/openai/openai-go/v3")
	}
	return string(m[1])
}

// TestRedirectStaysOnOrigin: the key and the gateway's headers go to the
// base URL's origin only, as the SDK's origin rule had it: a redirect to
// another origin is refused before anything is sent there, and one on the
// same origin is followed.
func TestRedirectStaysOnOrigin(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		if r.Header.Get("Authorization") != "" || r.Header.Get("X-Gateway-Key") != "" {
			t.Errorf("credentials sent to another origin: %v", r.Header)
		}
	}))
	t.Cleanup(other.Close)
	sse := readFile(t, "plain.sse")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away/chat/completions":
			http.Redirect(w, r, other.URL+"/v1/chat/completions", http.StatusTemporaryRedirect)
		case "/moved/chat/completions":
			http.Redirect(w, r, "/v1/chat/completions", http.StatusPermanentRedirect)
		case "/v1/chat/completions":
			if r.Header.Get("Authorization") != "Bearer "+testKey {
				t.Errorf("same-origin redirect lost the key")
			}
			w.Header().Set("Content-Type", "text/event-stream")
			w.Write(sse)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	gw := providers.Gateway{Headers: map[string]string{"X-Gateway-Key": "gw-secret"}}

	c := newClient(t, Options{Settings: providers.Settings{Name: "p", Kind: KindCompatible, BaseURL: srv.URL + "/away", APIKey: testKey, Gateway: gw}})
	_, err := c.Stream(t.Context(), providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
	if err == nil || !errors.Is(err, errOrigin) && !strings.Contains(err.Error(), errOrigin.Error()) {
		t.Errorf("redirect to another origin: err = %v, want the origin refused", err)
	}
	checkSafe(t, err)
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other origin got %d requests, want none", n)
	}

	c = newClient(t, Options{Settings: providers.Settings{Name: "p", Kind: KindCompatible, BaseURL: srv.URL + "/moved", APIKey: testKey, Gateway: gw}})
	s, err := c.Stream(t.Context(), providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatalf("same-origin redirect: %v", err)
	}
	if text, _, err := drain(s); err != nil || text == "" {
		t.Errorf("same-origin redirect: answer %q, err %v", text, err)
	}
}

// TestChatURL resolves paths as the SDK did: against the base URL with a
// "/"-ended path, its query left off.
func TestChatURL(t *testing.T) {
	for base, want := range map[string]string{
		defaultBaseURL:                        "https://api.openai.com/v1/chat/completions",
		"http://127.0.0.1:8080":               "http://127.0.0.1:8080/chat/completions",
		"http://127.0.0.1:8080/v1":            "http://127.0.0.1:8080/v1/chat/completions",
		"http://h/openai/v1/":                 "http://h/openai/v1/chat/completions",
		"https://h/v1?api-version=2024-10-21": "https://h/v1/chat/completions",
	} {
		u, err := chatURL(base)
		if err != nil || u.String() != want {
			t.Errorf("chatURL(%q) = %v, %v; want %s", base, u, err, want)
		}
	}
}

// TestChunkNestedTooDeep: a chunk nested past encoding/json's limit is a
// malformed stream, as json.Unmarshal had it, not a recursion to the
// stack's limit (stream.read checks chunks with providers.ValidJSON).
func TestChunkNestedTooDeep(t *testing.T) {
	deep := strings.Repeat("[", 400<<10) + strings.Repeat("]", 400<<10)
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"x\":"+deep+"}\n\n")
	})
	c := newClient(t, Options{Settings: providers.Settings{Name: "p", Kind: KindCompatible, BaseURL: srv.URL}})
	s, err := c.Stream(t.Context(), providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = drain(s)
	if providers.KindOf(err) != providers.KindInvalid || !strings.Contains(err.Error(), "malformed stream") || !strings.Contains(err.Error(), "depth") {
		t.Errorf("err = %v, want a malformed stream (exceeded max depth)", err)
	}
}
