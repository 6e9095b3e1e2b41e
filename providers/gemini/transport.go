package gemini

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"

	"github.com/council-dev/council/providers"
)

// exchange records what the SDK does not pass on about one call's HTTP
// response: its headers (Retry-After) and the error that broke its body.
type exchange struct {
	mu     sync.Mutex
	status int
	header http.Header
	err    error // the body's read error, hidden from the SDK
}

func (e *exchange) setResponse(status int, h http.Header) {
	e.mu.Lock()
	e.status, e.header = status, h
	e.mu.Unlock()
}

// responseStatus is the response's HTTP status, 0 before there was one.
func (e *exchange) responseStatus() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

func (e *exchange) responseHeader() http.Header {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.header
}

func (e *exchange) setReadErr(err error) {
	e.mu.Lock()
	if e.err == nil {
		e.err = err
	}
	e.mu.Unlock()
}

func (e *exchange) readErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

type exchangeKey struct{}

func withExchange(ctx context.Context, e *exchange) context.Context {
	return context.WithValue(ctx, exchangeKey{}, e)
}

// transport hands each response's headers to the call's exchange and wraps
// its body: bounded by limits (see [providers.Limits.LimitResponse]; the
// SDK would read an error body or one event without end), then quietened.
type transport struct {
	base     http.RoundTripper
	provider string
	limits   providers.Limits
	gateway  providers.Gateway
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	if !t.gateway.IsZero() {
		// A RoundTripper must not change its request: a clone gets the
		// gateway's headers and query, where the SDK's are not set.
		req = req.Clone(req.Context())
		t.gateway.Apply(req)
	}
	resp, err := base.RoundTrip(req)
	ex, _ := req.Context().Value(exchangeKey{}).(*exchange)
	if err != nil || ex == nil {
		return resp, err
	}
	ex.setResponse(resp.StatusCode, resp.Header)
	t.limits.LimitResponse(t.provider, resp)
	resp.Body = &quietBody{rc: resp.Body, ex: ex}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the base.
func (t *transport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.base.(closer); ok {
		c.CloseIdleConnections()
	}
}

// quietBody ends the body cleanly where reading it fails, and keeps the
// error for the stream. The SDK's iterator logs read errors with the
// standard log package (to stderr, under the dashboard) before yielding
// them; a cancelled stream would print "Error context canceled" each time.
type quietBody struct {
	rc io.ReadCloser
	ex *exchange
}

func (b *quietBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		b.ex.setReadErr(err)
		return n, io.EOF
	}
	return n, err
}

// Close never fails: the SDK logs close errors too, and a close error of a
// body already read or abandoned says nothing the stream needs.
func (b *quietBody) Close() error {
	b.rc.Close()
	return nil
}
