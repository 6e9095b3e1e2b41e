package config

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// Defaults of the [serve] table.
const (
	DefaultServeAddr    = "127.0.0.1:8484"
	DefaultDrainTimeout = 30 * time.Second
	// DefaultMaxBodyBytes bounds a request body: room for a prompt at the
	// default max_prompt_bytes, its conversation and JSON escaping.
	DefaultMaxBodyBytes = 4 << 20
)

// ServeConfig is the [serve] table: `council serve`, the OpenAI-compatible
// server (the engine ignores it). Tokens are never in the config: it names
// the environment variables that hold them.
type ServeConfig struct {
	// Addr is where the server listens (default 127.0.0.1:8484, loopback
	// only); --addr wins over it.
	Addr string `toml:"addr"`
	// TokensEnv names the variable holding the client tokens, a
	// comma-separated list; a server off loopback refuses to start without them.
	TokensEnv string `toml:"tokens_env"`
	// AdminTokenEnv names the variable holding the admin token; admin
	// actions (force a breaker, reset it, chaos knobs) are off without it.
	AdminTokenEnv string `toml:"admin_token_env"`
	// RateLimitRPM is how many chat completions each client may ask for
	// per minute (a burst of as many, refilled evenly); 0: no limit.
	RateLimitRPM int `toml:"rate_limit_rpm"`
	// DrainTimeout is how long a shutdown lets sessions in flight finish
	// before cancelling them (reason shutdown); default 30s.
	DrainTimeout Duration `toml:"drain_timeout"`
	// MaxBodyBytes bounds a request body (default 4 MiB); the prompt
	// inside it is bounded by limits.max_prompt_bytes.
	MaxBodyBytes int `toml:"max_body_bytes"`
}

// serveDefaults fills the [serve] keys that are not written.
func (c *Config) serveDefaults(unset func(bool, ...string) bool) {
	s := &c.Serve
	if unset(s.Addr == "", "serve", "addr") {
		s.Addr = DefaultServeAddr
	}
	if unset(s.DrainTimeout.Duration == 0, "serve", "drain_timeout") {
		s.DrainTimeout.Duration = DefaultDrainTimeout
	}
	if unset(s.MaxBodyBytes == 0, "serve", "max_body_bytes") {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
}

// serve validates the [serve] table.
func (v *validator) serve() {
	s := v.c.Serve
	key := func(k string) []string { return []string{"serve", k} }
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		v.errAt(key("addr"), -1, "want host:port (127.0.0.1:8484), got %q", s.Addr)
	}
	if s.RateLimitRPM < 0 {
		v.errAt(key("rate_limit_rpm"), -1, "cannot be negative, got %d", s.RateLimitRPM)
	}
	if s.DrainTimeout.Duration < 0 {
		v.errAt(key("drain_timeout"), -1, "cannot be negative, got %s", s.DrainTimeout.Duration)
	}
	if s.MaxBodyBytes < 1 {
		v.errAt(key("max_body_bytes"), -1, "must be at least 1 byte, got %d", s.MaxBodyBytes)
	}
	if s.TokensEnv != "" && s.TokensEnv == s.AdminTokenEnv {
		v.errAt(key("admin_token_env"), -1, "must differ from tokens_env (%s): a client token must not be the admin's", s.TokensEnv)
	}
}

// describeServe writes the [serve] table for config check: the variables
// that hold tokens by name, and whether each is set; never a token.
func (c *Config) describeServe(w io.Writer, getenv func(string) string) {
	s := c.Serve
	env := func(name string) string {
		if name == "" {
			return "none"
		}
		if getenv(name) == "" {
			return "env " + name + " (not set)"
		}
		return "env " + name + " (set)"
	}
	rpm := "none"
	if s.RateLimitRPM > 0 {
		rpm = strconv.Itoa(s.RateLimitRPM) + " per minute per client"
	}
	fmt.Fprintln(w, "\nserve")
	fmt.Fprintf(w, "  addr %s, drain %s, body limit %d bytes, rate limit %s\n", s.Addr, fmtDur(s.DrainTimeout.Duration), s.MaxBodyBytes, rpm)
	fmt.Fprintf(w, "  client tokens: %s\n", env(s.TokensEnv))
	admin := env(s.AdminTokenEnv)
	if s.AdminTokenEnv == "" {
		admin = "none (admin actions off)"
	}
	fmt.Fprintf(w, "  admin token: %s\n", admin)
}
