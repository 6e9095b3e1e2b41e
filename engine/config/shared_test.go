package config

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestSharedDefaultsAndErrors: [shared] defaults to no Redis, fleet
// "council" and a 50ms timeout; a bad key is an error naming it, and a
// bad URL's error never shows its password.
func TestSharedDefaultsAndErrors(t *testing.T) {
	c, err := Parse([]byte(serveBase), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if want := (SharedConfig{Fleet: "council", Timeout: Duration{50 * time.Millisecond}}); c.Shared != want {
		t.Errorf("defaults %+v, want %+v", c.Shared, want)
	}
	for _, tc := range []struct{ table, key string }{
		{"[shared]\nredis_url = \"http://u:hunter2@h:1\"\n", "shared.redis_url"},
		{"[shared]\ntimeout = \"-1s\"\n", "shared.timeout"},
		{"[shared]\nmax_cost_usd_per_day = -1.0\n", "shared.max_cost_usd_per_day"},
		{"[shared]\nredis = \"x\"\n", "shared.redis"},
	} {
		_, err := Parse([]byte(tc.table+serveBase), "c.toml")
		var ce *Error
		if !errors.As(err, &ce) || ce.Key != tc.key {
			t.Errorf("%q: got %v, want an error at key %s", tc.table, err, tc.key)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// TestRedactURL: a password, in the user info or the query, is replaced.
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://:s3cret@h:6379/0":         "redis://:xxxxx@h:6379/0",
		"redis://u:s3cret@h:6379/0":        "redis://u:xxxxx@h:6379/0",
		"redis://h:6379/0?password=s3cret": "redis://h:6379/0?password=xxxxx",
		"redis://h:6379/0":                 "redis://h:6379/0",
		"unix:///run/redis.sock?db=1":      "unix:///run/redis.sock?db=1",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDescribeShared: config check shows the URL without its password
// and the password's variable by name.
func TestDescribeShared(t *testing.T) {
	c, err := Parse([]byte("[shared]\nredis_url = \"redis://:s3cret@h:6379/0\"\nredis_password_env = \"RP\"\nmax_cost_usd_per_day = 20.0\n"+serveBase), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c.describeShared(&out, func(k string) string { return map[string]string{"RP": "pw"}[k] })
	got := out.String()
	for _, w := range []string{"redis://:xxxxx@h:6379/0", "fleet council", "timeout 50ms", "daily cap $20", "env RP (set)"} {
		if !strings.Contains(got, w) {
			t.Errorf("describe lacks %q:\n%s", w, got)
		}
	}
	if strings.Contains(got, "s3cret") || strings.Contains(got, "pw\n") {
		t.Errorf("describe shows a password:\n%s", got)
	}
}
