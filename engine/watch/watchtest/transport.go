package watchtest

import (
	"context"
	"io"
	"net/http"
	"sync"
)

// Transport carries requests to handlers in memory, by host ("h1:8484"),
// so that a client and its servers run inside one synctest bubble. A
// request to an unknown host fails as a refused connection would; a
// handler's response streams through a pipe, and closing the body ends
// the handler's request context.
type Transport struct {
	mu       sync.Mutex
	handlers map[string]http.Handler
	down     map[string]bool
	wg       sync.WaitGroup
}

// NewTransport returns a transport with no hosts.
func NewTransport() *Transport {
	return &Transport{handlers: map[string]http.Handler{}, down: map[string]bool{}}
}

// Handle serves host with h.
func (t *Transport) Handle(host string, h http.Handler) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.handlers[host] = h
}

// SetDown makes requests to host fail (or succeed again), as a server
// that is down.
func (t *Transport) SetDown(host string, down bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.down[host] = down
}

// Client is an http.Client over t.
func (t *Transport) Client() *http.Client { return &http.Client{Transport: t} }

// Wait waits for every handler to return.
func (t *Transport) Wait() { t.wg.Wait() }

// errRefused is a host that is down or unknown.
type errRefused struct{ host string }

func (e errRefused) Error() string { return "connect: connection refused (" + e.host + ")" }

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	h, down := t.handlers[req.URL.Host], t.down[req.URL.Host]
	t.mu.Unlock()
	if h == nil || down {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errRefused{req.URL.Host}
	}
	ctx, cancel := context.WithCancel(req.Context())
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	t.wg.Go(func() {
		defer cancel()
		h.ServeHTTP(w, req.WithContext(ctx))
		w.WriteHeader(http.StatusOK) // a handler that wrote nothing
		pw.Close()
	})
	select {
	case <-w.ready:
	case <-req.Context().Done():
		cancel()
		pr.Close()
		return nil, req.Context().Err()
	}
	return &http.Response{StatusCode: w.code, Status: http.StatusText(w.code), Header: w.sent, Proto: "HTTP/1.1",
		ProtoMajor: 1, ProtoMinor: 1, Body: &body{pr, cancel}, Request: req, ContentLength: -1}, nil
}

type body struct {
	*io.PipeReader
	cancel context.CancelFunc
}

func (b *body) Close() error {
	b.cancel()
	return b.PipeReader.Close()
}

// pipeWriter is a ResponseWriter whose body is a pipe.
type pipeWriter struct {
	header, sent http.Header
	pw           *io.PipeWriter
	code         int
	once         sync.Once
	ready        chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) WriteHeader(code int) {
	w.once.Do(func() {
		w.code, w.sent = code, w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.pw.Write(p)
}

// Flush is a no-op: every write goes through at once.
func (w *pipeWriter) Flush() {}
