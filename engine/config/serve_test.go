package config

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const serveBase = "[providers.sim]\nkind = \"sim\"\n[[models]]\nid = \"sim/a\"\nprovider = \"sim\"\n"

// TestServeDefaults: an absent [serve] table listens on loopback with the
// documented defaults, and written keys are read.
func TestServeDefaults(t *testing.T) {
	c, err := Parse([]byte(serveBase), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := c.Serve
	if s.Addr != DefaultServeAddr || s.DrainTimeout.Duration != DefaultDrainTimeout || s.MaxBodyBytes != DefaultMaxBodyBytes || s.RateLimitRPM != 0 ||
		s.ReadTimeout.Duration != DefaultReadTimeout || s.WriteTimeout.Duration != DefaultWriteTimeout || s.BacklogBytes != DefaultBacklogBytes ||
		s.MaxSessions != c.MaxConcurrency || s.QueueTimeout.Duration != DefaultQueueTimeout || s.AccessLog != "" || s.WatchTokensEnv != "" {
		t.Errorf("defaults %+v", s)
	}
	c, err = Parse([]byte("[serve]\naddr = \"0.0.0.0:9000\"\ntokens_env = \"CT\"\nadmin_token_env = \"AT\"\nrate_limit_rpm = 30\ndrain_timeout = \"5s\"\nmax_body_bytes = 1000\n"+
		"watch_tokens_env = \"WT\"\nread_timeout = \"3s\"\nwrite_timeout = \"4s\"\nbacklog_bytes = 5000\nmax_sessions = 6\nqueue_timeout = \"500ms\"\naccess_log = \"/tmp/a.log\"\n"+serveBase), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := ServeConfig{Addr: "0.0.0.0:9000", TokensEnv: "CT", AdminTokenEnv: "AT", RateLimitRPM: 30, DrainTimeout: Duration{5 * time.Second}, MaxBodyBytes: 1000,
		WatchTokensEnv: "WT", ReadTimeout: Duration{3 * time.Second}, WriteTimeout: Duration{4 * time.Second}, BacklogBytes: 5000, MaxSessions: 6,
		QueueTimeout: Duration{500 * time.Millisecond}, AccessLog: "/tmp/a.log"}
	if c.Serve != want {
		t.Errorf("got %+v, want %+v", c.Serve, want)
	}
}

// TestServeErrors: a bad or unknown [serve] key is an error naming the
// file, the line and the key.
func TestServeErrors(t *testing.T) {
	for _, tc := range []struct{ table, key string }{
		{"[serve]\naddr = \"8484\"\n", "serve.addr"},
		{"[serve]\nrate_limit_rpm = -1\n", "serve.rate_limit_rpm"},
		{"[serve]\nmax_body_bytes = 0\n", "serve.max_body_bytes"},
		{"[serve]\nread_timeout = \"-1s\"\n", "serve.read_timeout"},
		{"[serve]\nwrite_timeout = \"0s\"\n", "serve.write_timeout"},
		{"[serve]\nbacklog_bytes = -5\n", "serve.backlog_bytes"},
		{"[serve]\nmax_sessions = 0\n", "serve.max_sessions"},
		{"[serve]\nqueue_timeout = \"-1s\"\n", "serve.queue_timeout"},
		{"[serve]\nwatch_tokens_env = \"X\"\nadmin_token_env = \"X\"\n", "serve.watch_tokens_env"},
		{"[serve]\ntokens_env = \"X\"\nadmin_token_env = \"X\"\n", "serve.admin_token_env"},
		{"[serve]\ntoken_env = \"X\"\n", "serve.token_env"},
	} {
		_, err := Parse([]byte(tc.table+serveBase), "c.toml")
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q: got %v, want a *config.Error", tc.table, err)
			continue
		}
		if ce.File != "c.toml" || ce.Line < 2 || ce.Key != tc.key {
			t.Errorf("%q: error at %s:%d key %q (%v), want line >= 2 and key %s", tc.table, ce.File, ce.Line, ce.Key, err, tc.key)
		}
	}
}

// TestDescribeServe: config check names the token variables and whether
// each is set, never a token.
func TestDescribeServe(t *testing.T) {
	c, err := Parse([]byte("[serve]\ntokens_env = \"CT\"\nadmin_token_env = \"AT\"\n"+serveBase), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	c.Describe(&b, func(k string) string {
		if k == "CT" {
			return "secret-client-token"
		}
		return ""
	})
	out := b.String()
	for _, want := range []string{"serve", "addr 127.0.0.1:8484", "client tokens: env CT (set)", "admin token: env AT (not set)",
		"read 30s, write 30s per write, sessions 8 (queue 2s), backlog 33554432 bytes, access log stderr"} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "secret-client-token") {
		t.Errorf("describe printed a token:\n%s", out)
	}
}
