package providers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrNoKey is returned by [ResolveKey] when neither source yields a key.
var ErrNoKey = errors.New("no API key")

// keyCmdTimeout bounds an api_key_cmd, children included; a variable so
// that tests can shorten it.
var keyCmdTimeout = 30 * time.Second

// keyCmdWaitDelay is how long Wait waits, after the command is killed or
// has exited, for pipes a stray grandchild still holds open.
const keyCmdWaitDelay = 2 * time.Second

// maxKeyBytes bounds what an api_key_cmd may print.
const maxKeyBytes = 64 << 10

// ResolveKey finds an API key: the output of cmd when cmd is set (run
// through "sh -c", as a password manager would be), else the environment
// variable env. The key is returned, never logged; errors name the variable
// or the command, never the key.
//
// The command runs in a process group of its own; when ctx ends or the
// 30-second timeout passes, the whole group is killed, so a password
// manager's children (gpg, pinentry) do not outlive it. A failing
// command's stderr is not shown: a command that fails may print the key.
func ResolveKey(ctx context.Context, env, cmd string) (string, error) {
	if cmd != "" {
		return runKeyCmd(ctx, cmd)
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

func runKeyCmd(ctx context.Context, cmd string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, keyCmdTimeout)
	defer cancel()
	c := exec.CommandContext(ctx, "sh", "-c", cmd)
	ownProcessGroup(c)
	c.WaitDelay = keyCmdWaitDelay
	// Stderr stays nil, the null device: it may hold the key.
	var out strings.Builder
	c.Stdout = &limitedWriter{w: &out, n: maxKeyBytes}
	err := c.Run()
	shown := Clean(cmd, "") // the command itself may hold a secret
	if err != nil {
		switch {
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			return "", fmt.Errorf("api_key_cmd %q timed out after %s", shown, keyCmdTimeout)
		case ctx.Err() != nil:
			return "", fmt.Errorf("api_key_cmd %q: %w", shown, ctx.Err())
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return "", fmt.Errorf("api_key_cmd %q failed: %s (its output is not shown: it may hold the key)", shown, ee.ProcessState)
		}
		return "", fmt.Errorf("api_key_cmd %q failed: %s", shown, Clean(err.Error(), ""))
	}
	key := strings.TrimSpace(out.String())
	if key == "" {
		return "", fmt.Errorf("api_key_cmd %q printed nothing: %w", shown, ErrNoKey)
	}
	return key, nil
}

// limitedWriter keeps the first n bytes written and discards the rest.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
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
	const bearer = "Bearer "
	var b strings.Builder
	for {
		i := strings.Index(s, bearer)
		if i < 0 {
			break
		}
		j := i + len(bearer)
		end := j
		for end < len(s) && isTokenByte(s[end]) {
			end++
		}
		b.WriteString(s[:j])
		if end > j {
			b.WriteString("[REDACTED]")
		}
		s = s[end:]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}

// isTokenByte reports whether c may be part of a bearer token (RFC 6750's
// b64token, and the "*" of a masked one).
func isTokenByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/=*", c) >= 0
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
