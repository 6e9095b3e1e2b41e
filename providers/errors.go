package providers

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind classifies a failure for the engine, the breaker and the user. The
// names are the attempt_failed kinds of the event stream.
type Kind uint8

const (
	// KindError is any other failure (connection reset, refused, DNS).
	KindError Kind = iota
	// KindTimeout means a deadline passed.
	KindTimeout
	// KindStalled means the stream went silent for longer than allowed.
	KindStalled
	// KindRateLimited is HTTP 429 or a vendor's rate-limit error.
	KindRateLimited
	// KindHTTP is any other non-2xx status: 404, 5xx, overloaded.
	KindHTTP
	// KindAuth is HTTP 401 or 403: a missing or wrong key.
	KindAuth
	// KindInvalid is a malformed or truncated stream, or an invalid answer.
	KindInvalid
	// KindInternal is a bug in council itself (a recovered panic), never
	// the model's fault: it counts no breaker failure.
	KindInternal
)

var kindNames = [...]string{
	KindError:       "error",
	KindTimeout:     "timeout",
	KindStalled:     "stalled",
	KindRateLimited: "rate_limited",
	KindHTTP:        "http",
	KindAuth:        "auth",
	KindInvalid:     "invalid",
	KindInternal:    "internal",
}

// String returns the kind's wire name ("rate_limited").
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Error is a classified provider failure. Message must be safe to show: it
// never contains a key or an Authorization header.
type Error struct {
	Kind       Kind
	Provider   string        // provider name from the config ("openai")
	Status     int           // HTTP status, 0 when there was none
	RetryAfter time.Duration // from Retry-After, when the server sent one
	Message    string        // plain, safe, one line
	Err        error         // the cause, for errors.Is; never printed
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Status != 0 {
		msg = fmt.Sprintf("HTTP %d: %s", e.Status, msg)
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter.Round(time.Second))
	}
	if e.Provider != "" {
		return e.Provider + ": " + msg
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// ErrStalled is the cause of an attempt the engine stopped because its
// stream went silent.
var ErrStalled = errors.New("stream stalled")

// KindOf classifies any error: an *Error keeps its kind, deadlines are
// timeouts, everything else is KindError.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	switch {
	case errors.Is(err, ErrStalled):
		return KindStalled
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	}
	return KindError
}

// KindForStatus maps an HTTP status to a kind.
func KindForStatus(status int) Kind {
	switch {
	case status == 401 || status == 403:
		return KindAuth
	case status == 429:
		return KindRateLimited
	case status == 408:
		return KindTimeout
	default:
		return KindHTTP
	}
}
