package providers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNoKey is returned by [ResolveKey] when neither source yields a key.
var ErrNoKey = errors.New("no API key")

// ResolveKey finds an API key: the output of cmd when cmd is set (run
// through "sh -c", as a password manager would be), else the environment
// variable env. The key is returned, never logged; errors name the variable
// or the command, never the key.
func ResolveKey(ctx context.Context, env, cmd string) (string, error) {
	if cmd != "" {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c := exec.CommandContext(ctx, "sh", "-c", cmd)
		var stderr bytes.Buffer
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if len(msg) > 200 {
				msg = msg[:200]
			}
			return "", fmt.Errorf("api_key_cmd %q failed: %v %s", cmd, err, msg)
		}
		key := strings.TrimSpace(string(out))
		if key == "" {
			return "", fmt.Errorf("api_key_cmd %q printed nothing: %w", cmd, ErrNoKey)
		}
		return key, nil
	}
	if env == "" {
		return "", ErrNoKey
	}
	key := strings.TrimSpace(os.Getenv(env))
	if key == "" {
		return "", fmt.Errorf("%w: set %s", ErrNoKey, env)
	}
	return key, nil
}

// Redact replaces every occurrence of each secret in s (and any
// "Bearer ..." token) with "[REDACTED]". SDK errors echo request details;
// everything shown to a user passes through here.
func Redact(s string, secrets ...string) string {
	for _, k := range secrets {
		if len(k) >= 4 {
			s = strings.ReplaceAll(s, k, "[REDACTED]")
		}
	}
	if i := strings.Index(s, "Bearer "); i >= 0 {
		j := i + len("Bearer ")
		end := j
		for end < len(s) && s[end] != ' ' && s[end] != '"' && s[end] != '\n' && s[end] != ',' {
			end++
		}
		if end > j {
			s = s[:j] + "[REDACTED]" + Redact(s[end:])
		}
	}
	return s
}

// NoKey is the error of a provider that has no key: it names the variable
// to set.
func NoKey(provider, env string) *Error {
	return &Error{Kind: KindAuth, Provider: provider, Message: "no API key: set " + env, Err: ErrNoKey}
}

// ParseBaseURL checks a configured base_url: it must be an http(s) URL
// with a host. The error names the provider and never shows key.
func ParseBaseURL(provider, raw, key string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("provider %s: base_url %q is not an http(s) URL", provider, Redact(raw, key))
	}
	return u, nil
}
