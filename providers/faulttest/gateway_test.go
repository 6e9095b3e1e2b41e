package faulttest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/anthropic"
	"github.com/council-dev/council/providers/gemini"
	"github.com/council-dev/council/providers/openai"
	"github.com/council-dev/council/providers/providertest"
)

// keyHeader is where each vendor's SDK puts the key.
var keyHeader = map[string]string{"openai": "Authorization", "anthropic": "X-Api-Key", "gemini": "X-Goog-Api-Key"}

// A gateway's headers and query parameters arrive exactly, through each
// SDK; where one names what the key or the SDK sets, the SDK's wins.
func TestGatewayHeadersAndQueryArrive(t *testing.T) {
	gw := providers.Gateway{
		Headers: map[string]string{
			"X-Portkey-Provider":    "openai",
			"X-Portkey-Custom-Host": "http://10.0.0.7:8000/v1",
			"Helicone-Auth":         "Bearer sk-helicone-0123456789",
			"HTTP-Referer":          "https://council.example",
			"X-Title":               "council",
			// Reserved: the config refuses these; were one to get through,
			// the SDK's value must still win.
			"Authorization":  "Bearer gateway-would-override",
			"X-Api-Key":      "gateway-would-override",
			"X-Goog-Api-Key": "gateway-would-override",
			"Content-Type":   "text/plain",
		},
		Query: map[string]string{"api-version": "2024-10-21", "alt": "json"},
	}
	for _, v := range vendors {
		t.Run(v.d.Name, func(t *testing.T) {
			srv := providertest.NewServer(t, providertest.Deltas(v.d, 2, "hi ", true))
			hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			t.Cleanup(hc.CloseIdleConnections)
			p := openWithGateway(t, v, srv.URL, hc, gw)
			s, err := p.Stream(t.Context(), providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := providertest.Drain(t, s); err != nil {
				t.Fatal(err)
			}
			got := srv.Last(t)
			for _, k := range []string{"X-Portkey-Provider", "X-Portkey-Custom-Host", "Helicone-Auth", "HTTP-Referer", "X-Title"} {
				if vals := got.Header.Values(k); len(vals) != 1 || vals[0] != gw.Headers[k] {
					t.Errorf("header %s = %q, want exactly [%q]", k, vals, gw.Headers[k])
				}
			}
			kh := keyHeader[v.d.Name]
			if vals := got.Header.Values(kh); len(vals) != 1 || !strings.Contains(vals[0], v.key) {
				t.Errorf("key header %s = %q: the gateway replaced the key", kh, vals)
			}
			if ct := got.Header.Get("Content-Type"); !strings.Contains(ct, "json") {
				t.Errorf("Content-Type = %q, want the SDK's", ct)
			}
			q, _ := url.ParseQuery(got.Query)
			if vals := q["api-version"]; len(vals) != 1 || vals[0] != "2024-10-21" {
				t.Errorf("query api-version = %q (query %q)", vals, got.Query)
			}
			if v.d.Name == "gemini" {
				if vals := q["alt"]; len(vals) != 1 || vals[0] != "sse" {
					t.Errorf("query alt = %q: the SDK's alt=sse must win", vals)
				}
			}
		})
	}
}

func openWithGateway(t *testing.T, v vendor, url string, hc *http.Client, gw providers.Gateway) providers.Provider {
	t.Helper()
	var p providers.Provider
	var err error
	switch v.d.Name {
	case "openai":
		p, err = openai.New(openai.Options{Settings: providers.Settings{Name: "openai", BaseURL: url + "/v1", APIKey: v.key, KeyEnv: v.keyEnv, Gateway: gw}, HTTPClient: hc})
	case "anthropic":
		p, err = anthropic.New(anthropic.Options{Settings: providers.Settings{Name: "anthropic", BaseURL: url, APIKey: v.key, KeyEnv: v.keyEnv, Gateway: gw}, HTTPClient: hc})
	case "gemini":
		p, err = gemini.New(gemini.Options{Settings: providers.Settings{Name: "gemini", BaseURL: url, APIKey: v.key, KeyEnv: v.keyEnv, Gateway: gw}, HTTPClient: hc})
	default:
		t.Fatalf("no vendor %s", v.d.Name)
	}
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// "${VAR}" values come from the environment and are redacted from every
// error like a key: here a server that echoes the request's headers and
// URL back in its error.
func TestGatewaySecretsAreRedacted(t *testing.T) {
	t.Setenv("COUNCIL_TEST_GATEWAY_TOKEN", "gw-token-9f8e7d6c5b4a")
	gw, secrets, err := providers.ResolveGateway(
		map[string]string{"Cf-Aig-Authorization": "Bearer ${COUNCIL_TEST_GATEWAY_TOKEN}", "X-Plain": "plain"},
		map[string]string{"token": "${COUNCIL_TEST_GATEWAY_TOKEN}"})
	if err != nil {
		t.Fatal(err)
	}
	if gw.Headers["Cf-Aig-Authorization"] != "Bearer gw-token-9f8e7d6c5b4a" || gw.Query["token"] != "gw-token-9f8e7d6c5b4a" || gw.Headers["X-Plain"] != "plain" {
		t.Fatalf("resolved %+v", gw)
	}
	for _, v := range vendors {
		t.Run(v.d.Name, func(t *testing.T) {
			echo := func(w http.ResponseWriter, r *http.Request) {
				providertest.ErrorStatus(v.d, 400, "bad request "+r.URL.RawQuery+" "+r.Header.Get("Cf-Aig-Authorization"), nil)(w, r)
			}
			srv := providertest.NewServer(t, echo)
			hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
			t.Cleanup(hc.CloseIdleConnections)
			p := providers.Redacting(openWithGateway(t, v, srv.URL, hc, gw), secrets)
			s, err := p.Stream(context.Background(), providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
			if err == nil {
				_, _, err = providertest.Drain(t, s)
			}
			if err == nil {
				t.Fatal("no error")
			}
			var pe *providers.Error
			if !errors.As(err, &pe) || pe.Kind != providers.KindHTTP {
				t.Fatalf("err %v, want an http *providers.Error", err)
			}
			providertest.AssertNoSecret(t, err, "gw-token-9f8e7d6c5b4a", "9f8e7d6c5b4a")
			if !strings.Contains(err.Error(), "[REDACTED]") {
				t.Errorf("error %q: want the echoed token redacted", err)
			}
		})
	}
	if _, _, err := providers.ResolveGateway(map[string]string{"X-A": "${COUNCIL_TEST_UNSET_VAR_X}"}, nil); !errors.Is(err, providers.ErrUnsetVar) ||
		!strings.Contains(err.Error(), "COUNCIL_TEST_UNSET_VAR_X") {
		t.Errorf("unset variable: err %v", err)
	}
}
