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
	// DefaultReadTimeout bounds reading a request's body.
	DefaultReadTimeout = 30 * time.Second
	// DefaultWriteTimeout bounds each write of a response.
	DefaultWriteTimeout = 30 * time.Second
	// DefaultBacklogBytes bounds what the event stream keeps for new
	// subscribers.
	DefaultBacklogBytes = 32 << 20
	// DefaultQueueTimeout is how long a chat completion may wait for a
	// place among max_sessions before it is refused.
	DefaultQueueTimeout = 2 * time.Second
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
	// WatchTokensEnv names the variable holding the watchers' tokens, a
	// comma-separated list: they read every client's sessions on the event
	// stream and /metrics (a client token sees only its own sessions).
	WatchTokensEnv string `toml:"watch_tokens_env"`
	// ReadTimeout bounds reading a request's body (default 30s).
	ReadTimeout Duration `toml:"read_timeout"`
	// WriteTimeout bounds each write of a response, every chunk of a
	// stream on its own (default 30s): a client that stops reading is cut.
	WriteTimeout Duration `toml:"write_timeout"`
	// BacklogBytes bounds the sessions the event stream keeps for a new
	// subscriber (default 32 MiB); the oldest finished go first.
	BacklogBytes int `toml:"backlog_bytes"`
	// MaxSessions bounds the sessions in flight (default: max_concurrency);
	// as many more may wait QueueTimeout, the rest are refused (503).
	MaxSessions int `toml:"max_sessions"`
	// QueueTimeout is how long a request waits for a place (default 2s).
	QueueTimeout Duration `toml:"queue_timeout"`
	// AccessLog is the file the access log is appended to; empty: stderr.
	AccessLog string `toml:"access_log"`
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
	if unset(s.ReadTimeout.Duration == 0, "serve", "read_timeout") {
		s.ReadTimeout.Duration = DefaultReadTimeout
	}
	if unset(s.WriteTimeout.Duration == 0, "serve", "write_timeout") {
		s.WriteTimeout.Duration = DefaultWriteTimeout
	}
	if unset(s.BacklogBytes == 0, "serve", "backlog_bytes") {
		s.BacklogBytes = DefaultBacklogBytes
	}
	if unset(s.MaxSessions == 0, "serve", "max_sessions") {
		s.MaxSessions = max(c.MaxConcurrency, 1)
	}
	if unset(s.QueueTimeout.Duration == 0, "serve", "queue_timeout") {
		s.QueueTimeout.Duration = DefaultQueueTimeout
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
	for k, d := range map[string]time.Duration{"read_timeout": s.ReadTimeout.Duration, "write_timeout": s.WriteTimeout.Duration} {
		if d <= 0 {
			v.errAt(key(k), -1, "must be positive, got %s", d)
		}
	}
	if s.QueueTimeout.Duration < 0 {
		v.errAt(key("queue_timeout"), -1, "cannot be negative, got %s", s.QueueTimeout.Duration)
	}
	if s.BacklogBytes < 1 {
		v.errAt(key("backlog_bytes"), -1, "must be at least 1 byte, got %d", s.BacklogBytes)
	}
	if s.MaxSessions < 1 {
		v.errAt(key("max_sessions"), -1, "must be at least 1, got %d", s.MaxSessions)
	}
	if s.WatchTokensEnv != "" && s.WatchTokensEnv == s.AdminTokenEnv {
		v.errAt(key("watch_tokens_env"), -1, "must differ from admin_token_env (%s)", s.AdminTokenEnv)
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
	if s.WatchTokensEnv != "" {
		fmt.Fprintf(w, "  watch tokens: %s\n", env(s.WatchTokensEnv))
	}
	log := s.AccessLog
	if log == "" {
		log = "stderr"
	}
	fmt.Fprintf(w, "  read %s, write %s per write, sessions %d (queue %s), backlog %d bytes, access log %s\n",
		fmtDur(s.ReadTimeout.Duration), fmtDur(s.WriteTimeout.Duration), s.MaxSessions, fmtDur(s.QueueTimeout.Duration), s.BacklogBytes, log)
}
