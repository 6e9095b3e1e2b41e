package providers

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// RetryAfter reads how long a server asks a client to wait:
// retry-after-ms (OpenAI and Anthropic, milliseconds), else Retry-After
// (seconds or an HTTP date), else the reset time of whichever
// x-ratelimit budget is exhausted (x-ratelimit-reset-requests/-tokens,
// durations; Anthropic's anthropic-ratelimit-*-reset, RFC 3339 times),
// else X-Ratelimit-Reset (OpenRouter: epoch milliseconds).
// Zero when the server says nothing usable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e12 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil {
			if s > 0 && s < 1e9 {
				return time.Duration(s * float64(time.Second))
			}
			return 0
		}
		if t, err := http.ParseTime(v); err == nil {
			if d := t.Sub(now); d > 0 {
				return d
			}
			return 0
		}
	}
	var d time.Duration
	for _, budget := range []string{"requests", "tokens"} {
		if strings.TrimSpace(h.Get("X-Ratelimit-Remaining-"+budget)) != "0" {
			continue
		}
		if r, err := time.ParseDuration(strings.TrimSpace(h.Get("X-Ratelimit-Reset-" + budget))); err == nil && r > d {
			d = r
		}
	}
	// Anthropic: an exhausted budget's reset as an RFC 3339 time.
	for _, budget := range []string{"requests", "tokens", "input-tokens", "output-tokens"} {
		if strings.TrimSpace(h.Get("Anthropic-Ratelimit-"+budget+"-Remaining")) != "0" {
			continue
		}
		if at, err := time.Parse(time.RFC3339, strings.TrimSpace(h.Get("Anthropic-Ratelimit-"+budget+"-Reset"))); err == nil {
			ref := now
			if t, err := http.ParseTime(h.Get("Date")); err == nil {
				ref = t
			}
			if r := at.Sub(ref); r > d {
				d = r
			}
		}
	}
	if d > 0 {
		return d
	}
	// An epoch is the server's clock: measured from the response's Date
	// where it has one, a skewed local clock does not matter.
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		now = t
	}
	return resetAt(h.Get("X-Ratelimit-Reset"), now)
}

// resetAt reads X-Ratelimit-Reset: OpenRouter sends the moment the limit
// resets in epoch milliseconds; others send epoch seconds, or a duration
// ("1m30s", "12s"). Zero for a moment past or nothing usable.
func resetAt(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil {
		var at time.Time
		switch {
		case n >= 1e12: // epoch milliseconds
			at = time.UnixMilli(int64(n))
		case n >= 1e9: // epoch seconds
			at = time.Unix(int64(n), 0)
		case n > 0: // seconds from now
			return time.Duration(n * float64(time.Second))
		default:
			return 0
		}
		if d := at.Sub(now); d > 0 && d < 24*time.Hour {
			return d
		}
		return 0
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return d
	}
	return 0
}

// ContextError is what a stream reports once its caller's context is done:
// the cause itself for a cancellation (so the engine sees why it
// cancelled), a timeout error for a deadline.
func ContextError(ctx context.Context, provider string) error {
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &Error{Kind: KindTimeout, Provider: provider, Message: "deadline exceeded", Err: cause}
	}
	return cause
}

// IsTimeout reports a deadline or a network timeout.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// keyLike matches strings shaped like vendor API keys, masked or not,
// which error messages sometimes quote ("Incorrect API key provided:
// sk-abc1****wxyz").
var keyLike = regexp.MustCompile(`\b(?:sk|gsk|xai|pk|rk|csk)[-_][A-Za-z0-9*_.\-]{3,}`)

// maxMessage bounds a message shown in a pane.
const maxMessage = 300

// Clean makes a message safe and fit to show: the key redacted (see
// [Redact]), key-shaped words masked, terminal escapes removed (see
// [SafeText]), one line, at most 300 characters.
func Clean(s, key string) string {
	s = Redact(SafeText(s), key)
	s = keyLike.ReplaceAllString(s, "[REDACTED]")
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxMessage {
		s = string(r[:maxMessage]) + "…"
	}
	return s
}

// RedactErr stands for an SDK error in the chain of an *[Error]: its text
// is redacted, and the SDK error itself stays reachable (for errors.Is and
// errors.As) only when its own text holds no secret, as it does not when a
// server echoes the key back.
func RedactErr(err error, key string) error {
	msg := err.Error()
	if safe := Redact(msg, key); safe != msg {
		return redactedErr{msg: safe}
	}
	return redactedErr{msg: msg, err: err}
}

type redactedErr struct {
	msg string
	err error
}

func (r redactedErr) Error() string { return r.msg }
func (r redactedErr) Unwrap() error { return r.err }

// SetTransport classifies a failure that is not the API's own answer: a
// timeout, a malformed stream (as the caller judges it), or else a failed
// connection. The message is cleaned of key.
func (e *Error) SetTransport(err error, key string, malformed bool) {
	switch {
	case IsTimeout(err):
		e.Kind, e.Message = KindTimeout, "timed out: "+Clean(err.Error(), key)
	case malformed:
		e.Kind, e.Message = KindInvalid, "malformed event: "+Clean(err.Error(), key)
	default:
		e.Kind, e.Message = KindError, "connection failed: "+Clean(err.Error(), key)
	}
}
