package providers

import (
	"strings"
	"testing"
)

func TestErrorDetail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text stays", "plain text stays"},
		{"<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>", "502 Bad Gateway"},
		{"<!DOCTYPE html><html><head><TITLE>Attention &amp; <b>care</b></TITLE></head></html>", "Attention & care"},
		{"<html><body><h1>oops</h1></body></html>", "503 Service Unavailable"},
		{"<p>a fragment, not a page</p>", "<p>a fragment, not a page</p>"},
		{"  \r\n<HTML><HEAD><TITLE></TITLE></HEAD></HTML>", "503 Service Unavailable"},
	}
	for _, tt := range tests {
		if got := ErrorDetail(tt.in, 503); got != tt.want {
			t.Errorf("ErrorDetail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAPIMessage(t *testing.T) {
	const key = "sk-secret-123456"
	tests := []struct {
		kind         Kind
		status       int
		detail, hint string
		model, want  string
	}{
		{KindAuth, 401, "Invalid API key.", "set X_API_KEY", "m", "authentication failed: Invalid API key; set X_API_KEY to a valid key"},
		{KindAuth, 403, "", "set X_API_KEY", "m", "access denied; set X_API_KEY to a key with access"},
		{KindHTTP, 404, "no such model", "", "gpt-9", `model "gpt-9" not found: no such model`},
		{KindRateLimited, 429, "slow down", "", "m", "rate limited: slow down"},
		{KindHTTP, 529, "Overloaded", "", "m", "overloaded"},
		{KindHTTP, 500, "boom " + key, "", "m", "server error: boom [REDACTED]"},
		{KindHTTP, 400, "bad temperature", "", "m", "request rejected: bad temperature"},
	}
	for _, tt := range tests {
		if got := APIMessage(tt.kind, tt.status, tt.detail, tt.hint, tt.model, key); got != tt.want {
			t.Errorf("APIMessage(%v, %d, %q) = %q, want %q", tt.kind, tt.status, tt.detail, got, tt.want)
		}
	}
	long := APIMessage(KindAuth, 401, strings.Repeat("word ", 200), "set X_API_KEY", "m", key)
	if !strings.HasSuffix(long, "…; set X_API_KEY to a valid key") || len([]rune(long)) > maxMessage {
		t.Errorf("long message (%d runes) lost its hint: %q", len([]rune(long)), long)
	}
	if got := StreamMessage(KindHTTP, 500, "server_error", "The server had an error.", "", key); got != "server error mid-stream: The server had an error (server_error)" {
		t.Errorf("StreamMessage = %q", got)
	}
}
