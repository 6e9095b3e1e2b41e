package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/council-dev/council/providers"
)

// wire records what came over the wire for one request, beneath the SDK:
// the status and headers of the response, the body of an error response
// (the SDK cannot parse every server's error shape), and whether the
// stream's terminating "data: [DONE]" line arrived (the SDK ends the same
// way on [DONE] and on a bare EOF).
type wire struct {
	model    string
	provider string
	limits   providers.Limits // with their defaults
	status   int
	header   http.Header
	body     []byte
	sawDone  atomic.Bool
}

// response records res's status and headers for classify. It reads at
// most limits.MaxErrorBodyBytes of an error response (false: res's body is
// then that, in memory), and bounds each event of a stream by
// limits.MaxEventBytes (see [providers.LimitEvents]); reads end with the
// request's context.
func (w *wire) response(res *http.Response) bool {
	w.status = res.StatusCode
	w.header = res.Header
	if res.StatusCode >= 400 {
		b, _ := providers.ReadErrorBody(res.Body, w.limits.MaxErrorBodyBytes)
		w.body = b
		res.Body = io.NopCloser(bytes.NewReader(b))
		return false
	}
	res.Body = &doneWatcher{rc: providers.LimitEvents(res.Body, w.limits.MaxEventBytes, w.provider), w: w}
	return true
}

// rejectsStreamOptions reports a 400/422 that names stream_options.
func (w *wire) rejectsStreamOptions() bool {
	return (w.status == 400 || w.status == 422) && bytes.Contains(w.body, []byte("stream_options"))
}

// doneWatcher passes a response body through, noting a "data: [DONE]" line.
type doneWatcher struct {
	rc io.ReadCloser
	w  *wire
	// line is the start of the current line, enough to recognise [DONE];
	// n is how much of it is kept.
	line [16]byte
	n    int
}

// Read looks for line ends with bytes.IndexByte rather than byte by byte:
// it reads every byte of the answer, on the attempt's path.
func (d *doneWatcher) Read(p []byte) (int, error) {
	n, err := d.rc.Read(p)
	b := p[:n]
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			i = len(b)
		}
		// A '\r' ends a line too; it is rare enough to look for within
		// the line only.
		if j := bytes.IndexByte(b[:i], '\r'); j >= 0 {
			i = j
		}
		d.keep(b[:i])
		if i == len(b) {
			break
		}
		d.check()
		b = b[i+1:]
	}
	if err == io.EOF {
		d.check()
	}
	return n, err
}

// keep adds the start of b to the current line.
func (d *doneWatcher) keep(b []byte) {
	d.n += copy(d.line[d.n:], b)
}

func (d *doneWatcher) check() {
	line := d.line[:d.n]
	if bytes.HasPrefix(line, []byte("data: [DONE]")) || bytes.HasPrefix(line, []byte("data:[DONE]")) {
		d.w.sawDone.Store(true)
	}
	d.n = 0
}

func (d *doneWatcher) Close() error { return d.rc.Close() }

// classify turns any failure into a *providers.Error (or the context's
// cause, when the caller cancelled). midStream says whether the response
// headers had arrived.
func (c *Client) classify(ctx context.Context, w *wire, err error, midStream bool) error {
	if ctx.Err() != nil {
		return c.ctxErr(ctx, midStream)
	}
	if w.status >= 400 {
		return c.httpErr(w, time.Now())
	}
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		return c.eventErr(se.Event.Data)
	}
	var pe *providers.Error
	if errors.As(err, &pe) {
		return pe
	}
	if err == nil {
		err = errors.New("unknown failure")
	}
	if midStream {
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			return c.errorf(providers.KindInvalid, err, "stream ended without its final event: connection closed mid-stream")
		case isNetErr(err):
			return c.errorf(providers.KindError, err, "connection lost mid-stream: %s", c.clean(netMessage(err)))
		default:
			return c.errorf(providers.KindInvalid, err, "malformed stream: %s", c.clean(err.Error()))
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return c.errorf(providers.KindTimeout, err, "no response from %s: %s", c.baseURL, c.clean(netMessage(err)))
	}
	return c.errorf(providers.KindError, err, "cannot reach %s: %s", c.baseURL, c.clean(netMessage(err)))
}

func (c *Client) errorf(kind providers.Kind, cause error, format string, args ...any) *providers.Error {
	return &providers.Error{Kind: kind, Provider: c.name, Message: c.clean(fmt.Sprintf(format, args...)), Err: cause}
}

// ctxErr is the error of a request whose context is done: the caller's own
// cause when it cancelled, a timeout when a deadline passed.
func (c *Client) ctxErr(ctx context.Context, midStream bool) error {
	cause := context.Cause(ctx)
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return cause
	}
	var pe *providers.Error
	if errors.As(cause, &pe) {
		return cause
	}
	kind := providers.KindOf(cause)
	if kind == providers.KindError {
		kind = providers.KindTimeout
	}
	msg := "timed out waiting for a response"
	switch {
	case kind == providers.KindStalled:
		msg = "stream went silent"
	case midStream:
		msg = "timed out mid-stream"
	}
	return &providers.Error{Kind: kind, Provider: c.name, Message: msg, Err: cause}
}

// apiError is the error object of OpenAI and of the servers that copy it;
// code is a string at OpenAI and a number at OpenRouter.
type apiError struct {
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

func (e apiError) code() string {
	var s string
	if json.Unmarshal(e.Code, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(e.Code, &n) == nil {
		return n.String()
	}
	return ""
}

// parseAPIError reads {"error": {...}}, {"error": "text"}, {"message": ...}
// or, failing all, the body as plain text.
func parseAPIError(body []byte) apiError {
	var env struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
		Detail  string          `json:"detail"`
	}
	if json.Unmarshal(body, &env) != nil {
		return apiError{Message: string(body)}
	}
	var e apiError
	if len(env.Error) > 0 && json.Unmarshal(env.Error, &e) != nil {
		var s string
		if json.Unmarshal(env.Error, &s) == nil {
			e.Message = s
		}
	}
	if e.Message == "" {
		e.Message = env.Message
	}
	if e.Message == "" {
		e.Message = env.Detail
	}
	return e
}

// httpErr classifies a non-2xx response, in the wording every vendor
// shares (see [providers.APIMessage]).
func (c *Client) httpErr(w *wire, now time.Time) *providers.Error {
	e := parseAPIError(w.body)
	pe := &providers.Error{Kind: providers.KindForStatus(w.status), Provider: c.name, Status: w.status}
	wording := w.status
	if w.status != 429 && isOverloaded(e) {
		wording = 529
	}
	hint := ""
	if pe.Kind == providers.KindAuth {
		hint = c.keyHint()
	}
	pe.Message = providers.APIMessage(pe.Kind, wording, e.Message, hint, w.model, c.apiKey)
	if w.status == 404 && e.code() == "" && e.Type == "" && !strings.Contains(strings.ToLower(e.Message), "model") {
		// Not the API's own answer: a server without this endpoint.
		pe.Message = c.clean(fmt.Sprintf("model %q not found, or no chat/completions endpoint under %s", w.model, c.baseURL))
	}
	if w.status == 429 || w.status >= 500 {
		pe.RetryAfter = providers.RetryAfter(w.header, now)
	}
	if wording == 529 {
		pe.Kind = providers.KindHTTP
	}
	return pe
}

func isOverloaded(e apiError) bool {
	s := strings.ToLower(e.Type + " " + e.code() + " " + e.Message)
	return strings.Contains(s, "overloaded")
}

// eventErr classifies an error event inside a 200 stream, such as
// data: {"error": {"message": "...", "type": "server_error"}}.
func (c *Client) eventErr(data []byte) *providers.Error {
	e := parseAPIError(data)
	code := e.code()
	kind := providers.KindHTTP
	s := strings.ToLower(e.Type + " " + code)
	if n, err := strconv.Atoi(code); err == nil && n >= 400 && n < 600 {
		kind = providers.KindForStatus(n)
	} else {
		switch {
		case strings.Contains(s, "rate_limit") || strings.Contains(s, "insufficient_quota"):
			kind = providers.KindRateLimited
		case strings.Contains(s, "auth") || strings.Contains(s, "api_key") || strings.Contains(s, "permission"):
			kind = providers.KindAuth
		}
	}
	label := e.Type
	if label == "" {
		label = code
	}
	status := 0
	if n, err := strconv.Atoi(code); err == nil {
		status = n
	}
	if status == 0 {
		switch {
		case kind == providers.KindRateLimited:
			status = 429
		case kind == providers.KindAuth:
			status = 401
		case isOverloaded(e):
			status = 529
		case strings.Contains(s, "invalid_request"):
			status = 400
		default:
			status = 500
		}
	}
	hint := ""
	if kind == providers.KindAuth {
		hint = c.keyHint()
	}
	// Status stays 0: the response itself was a 200.
	return &providers.Error{Kind: kind, Provider: c.name,
		Message: providers.StreamMessage(kind, status, label, strings.TrimSpace(e.Message), hint, c.apiKey)}
}

// clean makes s safe to show: the key redacted, key-like words masked,
// one line, bounded.
func (c *Client) clean(s string) string {
	return providers.Clean(s, c.apiKey)
}

// isNetErr reports a connection-level failure.
func isNetErr(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, io.EOF) ||
		errors.Is(err, net.ErrClosed)
}

// netMessage drops the url.Error's "Post "URL":" prefix; the base URL is
// named separately, without any credentials it might carry.
func netMessage(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
