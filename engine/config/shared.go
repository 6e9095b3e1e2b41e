package config

import (
	"fmt"
	"io"
	"net/url"
	"time"
)

// Defaults of the [shared] table.
const (
	DefaultSharedFleet   = "council"
	DefaultSharedTimeout = 50 * time.Millisecond
)

// SharedConfig is the [shared] table: the state a fleet of `council serve`
// replicas shares through Redis (breakers, rate-limit holds, client rate
// limits, spending). Without redis_url each replica keeps its own. The
// password is never in the config: redis_password_env names the variable
// that holds it.
type SharedConfig struct {
	// RedisURL is the Redis to share state through ("redis://host:6379/0",
	// "unix:///run/redis.sock"); --redis wins over it. Empty: no sharing.
	RedisURL string `toml:"redis_url"`
	// RedisPasswordEnv names the variable holding Redis's password.
	RedisPasswordEnv string `toml:"redis_password_env"`
	// Fleet namespaces the keys, so that fleets can share one Redis.
	Fleet string `toml:"fleet"`
	// Timeout bounds each Redis call (default 50ms): past it the replica
	// uses its own state and reports shared: degraded.
	Timeout Duration `toml:"timeout"`
	// MaxCostUSDPerDay caps what the fleet spends in a UTC day, with the
	// reservation rule of max_run_cost_usd; 0: none.
	MaxCostUSDPerDay float64 `toml:"max_cost_usd_per_day"`
}

// sharedDefaults fills the [shared] keys that are not written.
func (c *Config) sharedDefaults(unset func(bool, ...string) bool) {
	s := &c.Shared
	if unset(s.Fleet == "", "shared", "fleet") {
		s.Fleet = DefaultSharedFleet
	}
	if unset(s.Timeout.Duration == 0, "shared", "timeout") {
		s.Timeout.Duration = DefaultSharedTimeout
	}
}

// shared validates the [shared] table.
func (v *validator) shared() {
	s := v.c.Shared
	key := func(k string) []string { return []string{"shared", k} }
	if s.RedisURL != "" {
		if err := CheckRedisURL(s.RedisURL); err != nil {
			v.errAt(key("redis_url"), -1, "%v", err)
		}
	}
	if s.Timeout.Duration <= 0 {
		v.errAt(key("timeout"), -1, "must be positive, got %s", s.Timeout.Duration)
	}
	if s.MaxCostUSDPerDay < 0 {
		v.errAt(key("max_cost_usd_per_day"), -1, "cannot be negative, got %g", s.MaxCostUSDPerDay)
	}
	if s.Fleet == "" {
		v.errAt(key("fleet"), -1, "cannot be empty")
	}
}

// CheckRedisURL reports whether u is a Redis URL council can use; its
// error never repeats a password written in u.
func CheckRedisURL(u string) error {
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("not a URL: %s", RedactURL(u))
	}
	switch p.Scheme {
	case "redis", "rediss", "unix":
		return nil
	}
	return fmt.Errorf("want redis://, rediss:// or unix://, got %s", RedactURL(u))
}

// RedactURL is u with any password replaced by "xxxxx", for messages.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparseable URL)"
	}
	if p.User != nil {
		if _, ok := p.User.Password(); ok {
			p.User = url.UserPassword(p.User.Username(), "xxxxx")
		}
	}
	q := p.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		p.RawQuery = q.Encode()
	}
	return p.String()
}

// describeShared writes the [shared] table for config check: the URL
// without its password, and the password's variable by name only.
func (c *Config) describeShared(w io.Writer, getenv func(string) string) {
	s := c.Shared
	if s.RedisURL == "" {
		return
	}
	pw := "none"
	if s.RedisPasswordEnv != "" {
		pw = "env " + s.RedisPasswordEnv + " (not set)"
		if getenv(s.RedisPasswordEnv) != "" {
			pw = "env " + s.RedisPasswordEnv + " (set)"
		}
	}
	day := "none"
	if s.MaxCostUSDPerDay > 0 {
		day = fmt.Sprintf("$%g", s.MaxCostUSDPerDay)
	}
	fmt.Fprintln(w, "\nshared")
	fmt.Fprintf(w, "  redis %s, fleet %s, timeout %s, daily cap %s\n", RedactURL(s.RedisURL), s.Fleet, fmtDur(s.Timeout.Duration), day)
	fmt.Fprintf(w, "  redis password: %s\n", pw)
}
