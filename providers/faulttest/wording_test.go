package faulttest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/providertest"
)

// cloudflare401 is the shape of the page Cloudflare answers for a gateway
// in front of an OpenAI-compatible server when the key is wrong.
const cloudflare401 = `<!DOCTYPE html>
<!--[if lt IE 7]> <html class="no-js ie6 oldie" lang="en-US"> <![endif]-->
<html class="no-js" lang="en-US"><head>
<title>Attention Required! | Cloudflare</title>
<meta charset="UTF-8" /><style>body{margin:0}</style></head>
<body><div id="cf-wrapper"><h1>Sorry, you have been blocked</h1></div></body></html>`

// One wording per kind across vendors: an HTML page becomes its title, a
// long message is cut before the key hint, never the hint; a rate limit's
// reset headers become RetryAfter.
func TestOneWordingAcrossVendors(t *testing.T) {
	html := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=UTF-8")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(cloudflare401))
		}
	}
	long := "Incorrect API key provided. " + strings.Repeat("You can find your API key at the dashboard. ", 20)
	forEach(t, func(t *testing.T, v vendor) {
		t.Run("html 401", func(t *testing.T) {
			pe := v.wantKind(t, v.call(t, html(401), longDeadline, providers.Limits{}), providers.KindAuth)
			want := "authentication failed: Attention Required! | Cloudflare; set " + v.keyEnv + " to a valid key"
			if pe.Message != want || pe.Status != 401 {
				t.Errorf("message %q status %d, want %q 401", pe.Message, pe.Status, want)
			}
		})
		t.Run("html 502", func(t *testing.T) {
			pe := v.wantKind(t, v.call(t, html(502), longDeadline, providers.Limits{}), providers.KindHTTP)
			if strings.ContainsAny(pe.Message, "<>") || !strings.HasPrefix(pe.Message, "server error: Attention Required!") {
				t.Errorf("message %q, want the page's title and no markup", pe.Message)
			}
		})
		t.Run("long 401 keeps the hint", func(t *testing.T) {
			pe := v.wantKind(t, v.call(t, providertest.ErrorStatus(v.d, 401, long, nil), longDeadline, providers.Limits{}), providers.KindAuth)
			if !strings.HasPrefix(pe.Message, "authentication failed: Incorrect API key provided") ||
				!strings.HasSuffix(pe.Message, "…; set "+v.keyEnv+" to a valid key") || len([]rune(pe.Message)) > 300 {
				t.Errorf("message (%d runes) %q", len([]rune(pe.Message)), pe.Message)
			}
			if strings.Contains(pe.Message, ".;") || strings.Contains(pe.Message, ".:") {
				t.Errorf("message %q has punctuation run together", pe.Message)
			}
		})
		t.Run("429 with reset headers", func(t *testing.T) {
			h := providertest.ErrorStatus(v.d, 429, "Rate limit exceeded", map[string]string{
				"X-Ratelimit-Remaining-Requests": "0", "X-Ratelimit-Reset-Requests": "2m30s"})
			pe := v.wantKind(t, v.call(t, h, longDeadline, providers.Limits{}), providers.KindRateLimited)
			if pe.Message != "rate limited: Rate limit exceeded" || pe.RetryAfter != 150*time.Second || pe.Status != 429 {
				t.Errorf("message %q retry %v status %d", pe.Message, pe.RetryAfter, pe.Status)
			}
		})
	})
}

// An error event inside a stream that began well has Status 0 on every
// vendor and says mid-stream; the same error as a response has its status.
func TestInStreamErrorsHaveNoStatus(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		r := v.call(t, providertest.ErrorMidStream(v.d, "The server had an error"), longDeadline, providers.Limits{})
		pe := v.wantKind(t, r, providers.KindHTTP)
		if pe.Status != 0 || !strings.Contains(pe.Message, "mid-stream") || strings.Contains(r.err.Error(), "HTTP ") {
			t.Errorf("in-stream: status %d, %v", pe.Status, r.err)
		}
		r = v.call(t, providertest.ErrorStatus(v.d, 500, "The server had an error", nil), longDeadline, providers.Limits{})
		pe = v.wantKind(t, r, providers.KindHTTP)
		if pe.Status != 500 || pe.Message != "server error: The server had an error" {
			t.Errorf("response: status %d, message %q", pe.Status, pe.Message)
		}
	})
}
