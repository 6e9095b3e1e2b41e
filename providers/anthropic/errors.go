package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/council-dev/council/providers"
)

// statusOfType maps the error types of Anthropic's error events to the HTTP
// status the same error has as a response; an event mid-stream arrives on a
// 200 response.
var statusOfType = map[string]int{
	"invalid_request_error": 400,
	"authentication_error":  401,
	"billing_error":         402,
	"permission_error":      403,
	"not_found_error":       404,
	"request_too_large":     413,
	"rate_limit_error":      429,
	"api_error":             500,
	"timeout_error":         504,
	"overloaded_error":      529,
}

// classify turns any error of a call into what the engine reads: the cause
// of the caller's context when it was cancelled, a [providers.KindTimeout]
// error past its deadline, else a classified *[providers.Error].
func (c *Client) classify(ctx context.Context, model string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return contextError(ctx, c.name)
	}
	perr := &providers.Error{Provider: c.name, Err: redact(err, c.key)}
	var api *sdk.Error
	switch {
	case errors.As(err, &api):
		c.apiError(perr, api, model)
	case isTimeout(err):
		perr.Kind = providers.KindTimeout
		perr.Message = "timed out: " + oneLine(err.Error())
	case isMalformed(err):
		perr.Kind = providers.KindInvalid
		perr.Message = "malformed event: " + oneLine(err.Error())
	default:
		perr.Kind = providers.KindError
		perr.Message = "connection failed: " + oneLine(err.Error())
	}
	perr.Message = providers.Redact(perr.Message, c.key)
	return perr
}

// apiError fills perr from an error response or an error event.
func (c *Client) apiError(perr *providers.Error, api *sdk.Error, model string) {
	typ := string(api.Type())
	status := api.StatusCode
	if status < 400 { // an error event on a 200 stream
		status = statusOfType[typ]
		if status == 0 {
			status = 500
		}
	} else {
		perr.Status = status
	}
	msg := oneLine(api.Message)
	if msg == "" {
		msg = http.StatusText(status)
	}
	perr.Kind = providers.KindForStatus(status)
	switch {
	case status == 529 || typ == "overloaded_error":
		perr.Kind = providers.KindHTTP
		perr.Message = "overloaded"
	case perr.Kind == providers.KindAuth:
		perr.Message = fmt.Sprintf("%s: set %s to a valid key", msg, c.keyEnv)
	case status == 404:
		perr.Message = fmt.Sprintf("model %q not found", model)
	case perr.Kind == providers.KindRateLimited:
		perr.Message = "rate limited: " + msg
		if api.Response != nil {
			perr.RetryAfter = retryAfter(api.Response.Header)
		}
	default:
		perr.Message = msg
	}
}

// contextError is what a stream reports once its caller's context is done:
// the cause itself for a cancellation (so the engine sees why it cancelled),
// a timeout error for a deadline.
func contextError(ctx context.Context, name string) error {
	cause := context.Cause(ctx)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &providers.Error{Kind: providers.KindTimeout, Provider: name,
			Message: "deadline exceeded", Err: cause}
	}
	return cause
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

func isMalformed(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ)
}

// retryAfter reads Retry-After (seconds or an HTTP date) and Anthropic's
// retry-after-ms, preferring the finer one.
func retryAfter(h http.Header) time.Duration {
	if ms, err := strconv.ParseFloat(h.Get("Retry-After-Ms"), 64); err == nil && ms > 0 {
		return time.Duration(ms * float64(time.Millisecond))
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// redacted stands for an SDK error in the chain of a *providers.Error: its
// text is redacted, and the SDK error itself is reachable (for errors.Is
// and errors.As) only when its own text holds no secret, as when a server
// echoes the key back.
type redacted struct {
	msg string
	err error
}

func redact(err error, key string) error {
	msg := err.Error()
	safe := providers.Redact(msg, key)
	if safe != msg {
		return redacted{msg: safe}
	}
	return redacted{msg: msg, err: err}
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }
