package providers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestKindOf(t *testing.T) {
	tests := []struct {
		err  error
		want Kind
	}{
		{&Error{Kind: KindRateLimited}, KindRateLimited},
		{fmt.Errorf("wrapped: %w", &Error{Kind: KindAuth}), KindAuth},
		{context.DeadlineExceeded, KindTimeout},
		{fmt.Errorf("x: %w", ErrStalled), KindStalled},
		{errors.New("connection reset by peer"), KindError},
	}
	for _, tt := range tests {
		if got := KindOf(tt.err); got != tt.want {
			t.Errorf("KindOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestKindForStatus(t *testing.T) {
	for status, want := range map[int]Kind{401: KindAuth, 403: KindAuth, 429: KindRateLimited, 408: KindTimeout, 404: KindHTTP, 500: KindHTTP, 529: KindHTTP} {
		if got := KindForStatus(status); got != want {
			t.Errorf("KindForStatus(%d) = %s, want %s", status, got, want)
		}
	}
}

func TestErrorMessage(t *testing.T) {
	e := &Error{Kind: KindRateLimited, Provider: "openai", Status: 429, RetryAfter: 2 * time.Second, Message: "slow down"}
	if got, want := e.Error(), "openai: HTTP 429: slow down (retry after 2s)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if b, _ := KindStalled.MarshalText(); string(b) != "stalled" {
		t.Errorf("KindStalled marshals to %q", b)
	}
}

func TestRedact(t *testing.T) {
	const key = "sk-abcdef123456"
	tests := []string{
		"POST https://api.example.com/v1?key=" + key + ": 401",
		`{"Authorization": "Bearer ` + key + `"}`,
		"header Authorization: Bearer other-token-xyz, then more",
	}
	for _, in := range tests {
		out := Redact(in, key)
		if strings.Contains(out, key) || strings.Contains(out, "other-token-xyz") {
			t.Errorf("Redact(%q) = %q still holds a secret", in, out)
		}
		if !strings.Contains(out, "[REDACTED]") {
			t.Errorf("Redact(%q) = %q has no marker", in, out)
		}
	}
	if got := Redact("nothing secret here", key); got != "nothing secret here" {
		t.Errorf("Redact changed a clean message: %q", got)
	}
}

func TestResolveKey(t *testing.T) {
	t.Setenv("COUNCIL_TEST_KEY", " from-env \n")
	if k, err := ResolveKey(t.Context(), "COUNCIL_TEST_KEY", ""); err != nil || k != "from-env" {
		t.Errorf("env: %q, %v", k, err)
	}
	if k, err := ResolveKey(t.Context(), "COUNCIL_TEST_KEY", "printf from-cmd"); err != nil || k != "from-cmd" {
		t.Errorf("cmd wins over env: %q, %v", k, err)
	}
	if _, err := ResolveKey(t.Context(), "COUNCIL_TEST_UNSET", ""); !errors.Is(err, ErrNoKey) || !strings.Contains(err.Error(), "COUNCIL_TEST_UNSET") {
		t.Errorf("unset env: %v, want ErrNoKey naming the variable", err)
	}
	if _, err := ResolveKey(t.Context(), "", "exit 3"); err == nil || !strings.Contains(err.Error(), "exit 3") {
		t.Errorf("failing cmd: %v, want an error naming the command", err)
	}
	if _, err := ResolveKey(t.Context(), "", "true"); !errors.Is(err, ErrNoKey) {
		t.Errorf("silent cmd: %v, want ErrNoKey", err)
	}
}

func TestFailing(t *testing.T) {
	p := Failing(&Error{Kind: KindAuth, Message: "no API key: set X"})
	if _, err := p.Stream(t.Context(), Request{}); KindOf(err) != KindAuth {
		t.Errorf("Failing provider returned %v, want an auth error", err)
	}
}
