package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"google.golang.org/genai"

	"github.com/council-dev/council/providers"
)

// classify turns any error of a call into what the engine reads: the cause
// of the caller's context when it was cancelled, a [providers.KindTimeout]
// error past its deadline, else a classified *[providers.Error].
func (c *Client) classify(ctx context.Context, ex *exchange, model string, err error) error {
	if ctx.Err() != nil {
		return providers.ContextError(ctx, c.name)
	}
	// A broken body reaches the SDK as a clean end (see quietBody); what
	// it then complains about (a cut JSON line) is not the cause.
	if rerr := ex.readErr(); rerr != nil {
		err = rerr
	}
	// Already classified: an event over the limit (see transport).
	var own *providers.Error
	if errors.As(err, &own) {
		return own
	}
	perr := &providers.Error{Provider: c.name, Err: providers.RedactErr(err, c.key)}
	var api genai.APIError
	var apiPtr *genai.APIError
	switch {
	case errors.As(err, &api):
		c.apiError(perr, api, ex, model)
	case errors.As(err, &apiPtr) && apiPtr != nil:
		c.apiError(perr, *apiPtr, ex, model)
	default:
		perr.SetTransport(err, c.key, isMalformed(err))
	}
	perr.Message = providers.Redact(perr.Message, c.key)
	return perr
}

// apiError fills perr from an error response, or an error object sent in
// the stream (whose code is an HTTP status as well).
func (c *Client) apiError(perr *providers.Error, api genai.APIError, ex *exchange, model string) {
	status := api.Code
	if status < 400 {
		status = statusOf[api.Status]
	}
	if status == 0 {
		status = http.StatusInternalServerError
	}
	// An error object inside a stream that began well: Status stays 0,
	// as for the other vendors.
	inStream := ex.responseStatus() == http.StatusOK
	if !inStream {
		perr.Status = status
	}
	perr.Kind = providers.KindForStatus(status)
	// An invalid key is a 400 INVALID_ARGUMENT whose reason says so.
	if status == 400 && hasReason(api, "API_KEY_INVALID") {
		perr.Kind = providers.KindAuth
	}
	wording := status
	if status == 503 && strings.Contains(strings.ToLower(api.Message), "overloaded") {
		wording = 529
	}
	hint := ""
	if perr.Kind == providers.KindAuth {
		hint = "set " + c.keyEnv
	}
	if inStream {
		perr.Message = providers.StreamMessage(perr.Kind, wording, api.Status, api.Message, hint, c.key)
	} else {
		perr.Message = providers.APIMessage(perr.Kind, wording, api.Message, hint, model, c.key)
	}
	if perr.Kind == providers.KindRateLimited {
		perr.RetryAfter = providers.RetryAfter(ex.responseHeader(), time.Now())
		if perr.RetryAfter == 0 {
			perr.RetryAfter = retryDelay(api)
		}
	}
}

// statusOf maps google.rpc status names to HTTP statuses, for an error
// whose code is missing.
var statusOf = map[string]int{
	"INVALID_ARGUMENT":    400,
	"FAILED_PRECONDITION": 400,
	"UNAUTHENTICATED":     401,
	"PERMISSION_DENIED":   403,
	"NOT_FOUND":           404,
	"RESOURCE_EXHAUSTED":  429,
	"CANCELLED":           499,
	"INTERNAL":            500,
	"UNAVAILABLE":         503,
	"DEADLINE_EXCEEDED":   504,
}

// hasReason reports whether one of the error's google.rpc.ErrorInfo
// details carries reason.
func hasReason(api genai.APIError, reason string) bool {
	for _, d := range api.Details {
		if r, _ := d["reason"].(string); r == reason {
			return true
		}
	}
	return false
}

// retryDelay reads a google.rpc.RetryInfo detail ("retryDelay": "19s"),
// which the Gemini API sends with RESOURCE_EXHAUSTED.
func retryDelay(api genai.APIError) time.Duration {
	for _, d := range api.Details {
		if s, ok := d["retryDelay"].(string); ok {
			if dur, err := time.ParseDuration(s); err == nil && dur > 0 {
				return dur
			}
		}
	}
	return 0
}

func isMalformed(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ) ||
		strings.Contains(err.Error(), "iterateResponseStream")
}
