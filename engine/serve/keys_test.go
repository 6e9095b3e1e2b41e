package serve

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	_ "github.com/council-dev/council/providers/openai"
)

// TestProviderKeyNeverLeaves: a vendor that echoes the request's
// Authorization header in its error leaks nothing to the server's
// client: not in the answer, not in the event stream.
func TestProviderKeyNeverLeaves(t *testing.T) {
	const key = "sk-test-NEVER-SHOWN-0123456789"
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"message":"bad key: `+r.Header.Get("Authorization")+`","type":"invalid_request_error","code":"invalid_api_key"}}`)
	}))
	defer vendor.Close()
	cfg, err := config.Parse([]byte(`
[providers.oa]
kind = "openai"
base_url = "`+vendor.URL+`/v1"
api_key_env = "OA_KEY"
[[models]]
id = "oa/mini"
provider = "oa"
model = "gpt-4.1-mini"
`), "k.toml")
	if err != nil {
		t.Fatal(err)
	}
	f, _ := providers.Lookup("openai")
	p, err := f.New(t.Context(), providers.Settings{Name: "oa", Kind: "openai", BaseURL: vendor.URL + "/v1", APIKey: key, KeyEnv: "OA_KEY"})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(cfg, map[string]providers.Provider{"oa/mini": p})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	srv := New(Options{Engine: eng, Instance: "k", DrainTimeout: time.Second})
	sub, _ := srv.hub.subscribe("", true)
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(context.Background(), "POST", "/v1/chat/completions",
		strings.NewReader(`{"model":"oa/mini","messages":[{"role":"user","content":"hi"}]}`))
	srv.Handler().ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusBadGateway || !strings.Contains(body, "oa/mini") {
		t.Fatalf("got %d %s; want a 502 naming the model", rec.Code, body)
	}
	if !strings.Contains(body, "bad key") {
		t.Errorf("the vendor's message did not come through (nothing was tested): %s", body)
	}
	srv.hub.unsubscribe(sub)
	var stream strings.Builder
	for m := range sub.ch {
		stream.Write(m)
	}
	if !strings.Contains(stream.String(), "session_done") {
		t.Fatal("the event stream did not carry the session")
	}
	for what, s := range map[string]string{"response": body, "event stream": stream.String()} {
		if strings.Contains(s, "NEVER-SHOWN") {
			t.Errorf("the provider key reached the %s: %s", what, s)
		}
	}
}
