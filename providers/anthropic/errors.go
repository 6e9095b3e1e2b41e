package anthropic

import (
	"context"
	"encoding/json"
	"errors"
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
		return providers.ContextError(ctx, c.name)
	}
	// Already classified: an event over the limit (see New's middleware).
	var own *providers.Error
	if errors.As(err, &own) {
		return own
	}
	perr := &providers.Error{Provider: c.name, Err: providers.RedactErr(err, c.key)}
	var api *sdk.Error
	switch {
	case errors.As(err, &api):
		c.apiError(perr, api, model)
	default:
		perr.SetTransport(err, c.key, isMalformed(err))
	}
	perr.Message = providers.Redact(perr.Message, c.key)
	return perr
}

// apiError fills perr from an error response or an error event, in the
// wording every vendor shares (see [providers.APIMessage]). An error event
// arrives on a 200 response: its Status stays 0.
func (c *Client) apiError(perr *providers.Error, api *sdk.Error, model string) {
	typ := string(api.Type())
	status := api.StatusCode
	inStream := status < 400
	if inStream {
		status = statusOfType[typ]
		if status == 0 {
			status = 500
		}
	} else {
		perr.Status = status
	}
	detail := api.Message
	if detail == "" && !json.Valid([]byte(api.RawJSON())) {
		detail = api.RawJSON() // a proxy's page; ErrorDetail makes it a title
	}
	perr.Kind = providers.KindForStatus(status)
	if status == 529 || typ == "overloaded_error" {
		perr.Kind, status = providers.KindHTTP, 529
	}
	hint := ""
	if perr.Kind == providers.KindAuth {
		hint = "set " + c.keyEnv
	}
	if inStream {
		perr.Message = providers.StreamMessage(perr.Kind, status, typ, detail, hint, c.key)
	} else {
		perr.Message = providers.APIMessage(perr.Kind, status, detail, hint, model, c.key)
	}
	if perr.Kind == providers.KindRateLimited && api.Response != nil {
		perr.RetryAfter = providers.RetryAfter(api.Response.Header, time.Now())
	}
}

func isMalformed(err error) bool {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	return errors.As(err, &syn) || errors.As(err, &typ)
}
