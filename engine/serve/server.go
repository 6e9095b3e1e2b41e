// Package serve is `council serve`: the engine's strategies behind an
// OpenAI-compatible HTTP API (POST /v1/chat/completions, GET /v1/models),
// with every session's events and the models' health on a server-sent
// event stream (GET /v1/council/events), Prometheus metrics, client
// tokens, limits and a graceful drain. It imports no UI package; the JSON
// a watcher reads is in wire.go.
package serve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"
	"golang.org/x/time/rate"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// Options configure a [Server].
type Options struct {
	Engine *engine.Engine
	// Instance names this server in the event stream (its listen address).
	Instance string
	Version  string
	// Tokens are the client tokens; empty: no token is asked for (a
	// loopback server; see [CheckExposure]).
	Tokens []string
	// AdminToken enables the admin actions for whoever presents it; empty:
	// they are off (403).
	AdminToken string
	// WatchTokens read every client's sessions on the event stream, and
	// /metrics from beyond loopback; a client token sees its own sessions.
	WatchTokens []string
	// RateLimitRPM is each client's chat completions per minute; 0: none.
	RateLimitRPM int
	// MaxBodyBytes bounds a request body; 0: 4 MiB.
	MaxBodyBytes int64
	// DrainTimeout is how long [Server.Serve] lets sessions in flight
	// finish once its context ends, before cancelling them (shutdown).
	DrainTimeout time.Duration
	// BacklogBytes bounds what the event stream keeps for a new
	// subscriber; 0: 32 MiB.
	BacklogBytes int
	// MaxSessions bounds the sessions in flight; 0: no bound. As many more
	// may wait QueueTimeout for a place; the rest are refused at once
	// (503 overloaded).
	MaxSessions  int
	QueueTimeout time.Duration
	// AccessLog receives one line per request (time, method, path,
	// status, model, session, duration, a hash of the token: never a
	// token, never a prompt); nil: none.
	AccessLog io.Writer
	// ReadTimeout bounds reading a request's body; 0: 30 s.
	ReadTimeout time.Duration
	// WriteTimeout bounds each write of a response (each chunk of a
	// stream on its own); 0: 30 s.
	WriteTimeout time.Duration
}

// Server serves one engine. Build it with [New].
type Server struct {
	o       Options
	eng     *engine.Engine
	hub     *hub
	metrics *metrics
	mux     *http.ServeMux
	started time.Time

	// sessions is the parent of every session's context: cancelled with
	// [engine.ErrShutdown] when a drain runs out of time.
	sessions       context.Context
	cancelSessions context.CancelCauseFunc
	// closing is closed when a shutdown starts: event streams end once
	// no session is in flight.
	closing   chan struct{}
	closeOnce sync.Once

	lmu      sync.Mutex
	limiters map[string]*rate.Limiter
	access   *slog.Logger

	// slots are the places of Options.MaxSessions; waiting counts the
	// requests queued for one.
	slots   *semaphore.Weighted
	waiting atomic.Int64

	// conns are the open connections, each with how many sessions or
	// event streams it carries: a drain cuts those that carry none.
	cmu     sync.Mutex
	conns   map[net.Conn]int
	cutting bool // a drain has cut the idle ones; no new session starts
}

// New builds a server over o.Engine.
func New(o Options) *Server {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	o.ReadTimeout = cmpOr(o.ReadTimeout, 30*time.Second)
	o.WriteTimeout = cmpOr(o.WriteTimeout, 30*time.Second)
	s := &Server{o: o, eng: o.Engine, hub: newHub(o.BacklogBytes), started: time.Now(), closing: make(chan struct{}),
		limiters: map[string]*rate.Limiter{}, conns: map[net.Conn]int{}}
	if o.AccessLog != nil {
		s.access = slog.New(slog.NewTextHandler(o.AccessLog, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey {
				return slog.Attr{} // every line is a request
			}
			return a
		}}))
	}
	if o.MaxSessions > 0 {
		s.slots = semaphore.NewWeighted(int64(o.MaxSessions))
	}
	s.sessions, s.cancelSessions = context.WithCancelCause(context.Background())
	s.metrics = newMetrics(s)
	s.hub.dropped = s.metrics.sseDropped.Inc
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.client(s.chat))
	mux.HandleFunc("GET /v1/models", s.client(s.models))
	mux.HandleFunc("GET /v1/models/{id...}", s.client(s.model))
	mux.HandleFunc("GET /v1/council/events", s.watcher(s.events))
	for action, h := range s.adminHandlers() {
		mux.HandleFunc("POST "+wire.AdminPath(action), s.admin(h))
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.metricsAuth(s.metrics.handler.ServeHTTP))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.mux = mux
	return s
}

// Handler is the server's HTTP handler, every endpoint counted. Each
// write of a response has Options.WriteTimeout to go out, and a body
// Options.ReadTimeout to come in.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK, rc: http.NewResponseController(w), wait: s.o.WriteTimeout}
		if r.ContentLength != 0 {
			// Cleared once the body is read (readBody): a deadline left
			// on the connection would end a long answer's context.
			rec.rc.SetReadDeadline(time.Now().Add(s.o.ReadTimeout))
		}
		began := time.Now()
		s.mux.ServeHTTP(rec, r)
		s.metrics.request(r, rec.code)
		if rec.Header().Get("Content-Length") != "" {
			// The whole answer is written: it goes out now rather than
			// after the access log's line.
			rec.Flush()
		}
		if s.access != nil {
			s.access.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.code), slog.String("model", cmpOr(rec.model, "-")), slog.String("session", cmpOr(rec.session, "-")),
				slog.Float64("duration_ms", float64(time.Since(began).Microseconds())/1000), slog.String("token", tokenHash(bearer(r))))
		}
	})
}

// tokenHash names a token in the access log without giving it away: the
// first 8 hex digits of its SHA-256, or "-" when there is none.
func tokenHash(tok string) string {
	if tok == "" {
		return "-"
	}
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:4])
}

// noteRequest tells the access log which model and session w's request
// was about.
func noteRequest(w http.ResponseWriter, model, session string) {
	if rec, ok := w.(*statusRecorder); ok {
		rec.model, rec.session = model, session
	}
}

type connKey struct{}

// hold counts a session or event stream on r's connection, so that a
// drain waits for it; false once the drain has begun (answer 503).
func (s *Server) hold(r *http.Request) bool {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if s.cutting {
		return false
	}
	if _, ok := s.conns[c]; ok {
		s.conns[c]++
	}
	return true
}

// release undoes hold.
func (s *Server) release(r *http.Request) {
	c, _ := r.Context().Value(connKey{}).(net.Conn)
	s.cmu.Lock()
	defer s.cmu.Unlock()
	if n, ok := s.conns[c]; ok && n > 0 {
		s.conns[c] = n - 1
	}
}

// trackConn keeps the set of open connections (http.Server.ConnState).
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = 0
		if s.cutting {
			c.SetReadDeadline(time.Now()) // accepted as the drain began
		}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
}

// cutIdle ends, at once, the reads of every connection that carries no
// session or event stream — a slow body, headers still coming, a client
// between requests — so that a drain waits only for sessions.
func (s *Server) cutIdle() {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	s.cutting = true
	now := time.Now()
	for c, n := range s.conns {
		if n == 0 {
			c.SetReadDeadline(now)
		}
	}
}

// Serve serves on ln until ctx ends, then drains: it stops accepting,
// lets sessions in flight finish for Options.DrainTimeout, cancels those
// still running (reason shutdown), ends the event streams once no session
// is in flight (so watchers see every session end), and returns once
// every handler has returned. A drain is not an error:
// it returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ConnState: s.trackConn,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		}}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		s.cancelSessions(engine.ErrShutdown)
		return err
	case <-ctx.Done():
	}
	s.closeOnce.Do(func() { close(s.closing) })
	dctx, cancel := context.WithTimeout(context.Background(), s.o.DrainTimeout)
	// Shutdown closes idle connections itself; one that is not idle but
	// carries no session is cut here, so the drain waits only for sessions.
	s.cutIdle()
	err := hs.Shutdown(dctx)
	cancel()
	if err != nil {
		// Out of time: the sessions still running end now, as cancelled
		// by a shutdown, and their handlers answer and return.
		s.cancelSessions(engine.ErrShutdown)
		wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
		if hs.Shutdown(wctx) != nil {
			hs.Close()
		}
		wcancel()
	}
	s.cancelSessions(engine.ErrShutdown)
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// earlyGrace is how long the rest of a refused request's body may take to
// arrive after the answer: enough for an honest client's body already on
// its way (the answer is read more surely when it was all sent), too
// short for a slow one to hold the connection.
const earlyGrace = time.Second

// refuseEarly prepares an answer given before r's body is read: it goes
// out at once (net/http would otherwise read the body first, to keep the
// connection), and the connection closes after it.
func refuseEarly(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 {
		return
	}
	w.Header().Set("Connection", "close")
	http.NewResponseController(w).SetReadDeadline(time.Now().Add(earlyGrace))
}

// readBody decodes r's JSON body, at most limit bytes, into v: exactly
// one value, nothing but space after it. It clears the read deadline
// [Server.Handler] set, so that the answer's wait does not end the
// request's context.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64, strict bool, what string, v any) *apiError {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if strict {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		// The value was read whole: data after it is named first, as when
		// the body was read raw and then decoded.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errTrailing
			if terr != nil && !isSyntax(terr) {
				err = terr
			}
		} else {
			http.NewResponseController(w).SetReadDeadline(time.Time{})
		}
		return s.bodyError(w, err, what)
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errTrailing
			if terr != nil && !isSyntax(terr) {
				err = terr
			}
		}
	}
	if err == nil {
		http.NewResponseController(w).SetReadDeadline(time.Time{})
		return nil
	}
	// The deadline stays: net/http reads what is left of a refused body
	// after the answer, and must not wait for it longer.
	return s.bodyError(w, err, what)
}

// bodyError is readBody's answer to err.
func (s *Server) bodyError(w http.ResponseWriter, err error, what string) *apiError {
	var tooBig *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &tooBig):
		return &apiError{http.StatusRequestEntityTooLarge, "invalid_request_error", "request_too_large",
			fmt.Sprintf("request body over %d bytes (serve.max_body_bytes)", tooBig.Limit), ""}
	case errors.As(err, &ne) && ne.Timeout():
		w.Header().Set("Connection", "close")
		if s.isCutting() {
			return shuttingDown()
		}
		return &apiError{http.StatusRequestTimeout, "invalid_request_error", "request_timeout",
			fmt.Sprintf("the request body did not arrive within %s (serve.read_timeout)", s.o.ReadTimeout), ""}
	case errors.Is(err, errTrailing):
		return badRequest("invalid_json", "the body has data after its JSON object: send exactly one object")
	}
	return badRequest("invalid_json", "the body is not %s: %v", what, err)
}

// errTrailing is a body with more than its JSON value.
var errTrailing = errors.New("trailing data")

func isSyntax(err error) bool {
	var se *json.SyntaxError
	return errors.As(err, &se)
}

// isCutting reports whether a drain has begun cutting connections.
func (s *Server) isCutting() bool {
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.cutting
}

// shuttingDown is the answer to a request that comes during a drain.
func shuttingDown() *apiError {
	return &apiError{http.StatusServiceUnavailable, "server_error", "shutting_down", "the server is shutting down; try again", ""}
}

// admin requires the admin token; without one configured, admin actions
// are off.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.o.AdminToken == "" {
			writeError(w, http.StatusForbidden, "permission_error", "admin_disabled",
				"admin actions are off on this server: set serve.admin_token_env to a variable holding an admin token")
			return
		}
		if match(bearer(r), []string{s.o.AdminToken}) != 0 {
			writeError(w, http.StatusForbidden, "permission_error", "admin_token_required",
				"this action needs the admin token: send Authorization: Bearer <admin token>")
			return
		}
		h(w, r)
	}
}

// admit takes a place among Options.MaxSessions, waiting at most
// Options.QueueTimeout in a queue as long as the bound; release gives it
// back. A request beyond them is refused at once, so that a client gets a
// fast 503 it may retry elsewhere rather than a session that would start
// too late to finish.
func (s *Server) admit(ctx context.Context) (release func(), aerr *apiError) {
	if s.slots == nil {
		return func() {}, nil
	}
	release = func() { s.slots.Release(1) }
	if s.slots.TryAcquire(1) {
		return release, nil
	}
	overloaded := &apiError{http.StatusServiceUnavailable, "server_error", "overloaded",
		fmt.Sprintf("the server is overloaded: %d sessions in flight (serve.max_sessions) and as many waiting; retry shortly", s.o.MaxSessions), ""}
	if s.waiting.Add(1) > int64(s.o.MaxSessions) {
		s.waiting.Add(-1)
		return nil, overloaded
	}
	defer s.waiting.Add(-1)
	qctx, cancel := context.WithTimeout(ctx, s.o.QueueTimeout)
	defer cancel()
	if s.slots.Acquire(qctx, 1) != nil {
		return nil, overloaded
	}
	return release, nil
}

// retryAfterDefault is the Retry-After of a 503 that knows no better
// (shutting down, a breaker forced open): every 503 carries one.
const retryAfterDefault = 5

// allow takes one request from client's rate limit.
func (s *Server) allow(client string) (bool, time.Duration) {
	rpm := s.o.RateLimitRPM
	if rpm <= 0 {
		return true, 0
	}
	if sh := s.eng.Shared(); sh != nil {
		// One budget for the fleet; the replica's own while it cannot be
		// reached.
		if ok, wait, err := sh.TakeRate(s.sessions, client, rpm, time.Now()); err == nil {
			return ok, wait
		}
	}
	s.lmu.Lock()
	l := s.limiters[client]
	if l == nil {
		l = rate.NewLimiter(rate.Every(time.Minute/time.Duration(rpm)), rpm)
		s.limiters[client] = l
	}
	s.lmu.Unlock()
	r := l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return false, d
	}
	return true, 0
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	n, _, _ := s.hub.counts()
	body := map[string]any{"status": "ok", "in_flight": n, "version": s.o.Version}
	if st := s.eng.SharedStatus(); st != "" {
		body["shared"] = st // "shared", or "degraded" while Redis is unreachable
	}
	writeJSON(w, http.StatusOK, body)
}

// modelHealth is every model's health, as the health message carries it.
func (s *Server) modelHealth() []wire.ModelHealth {
	_, running, _ := s.hub.counts()
	hs := s.eng.Health()
	out := make([]wire.ModelHealth, len(hs))
	for i, h := range hs {
		out[i] = wire.HealthOf(h, running[h.ID])
	}
	return out
}

// oneHealth is model id's health, for an admin action's answer.
func (s *Server) oneHealth(id string) (wire.ModelHealth, bool) {
	for _, h := range s.modelHealth() {
		if h.Model == id {
			return h, true
		}
	}
	return wire.ModelHealth{}, false
}

// writeJSON answers v as JSON, its length declared: the answer can then
// leave before the handler's bookkeeping (see Handler) without being sent
// chunked.
func writeJSON(w http.ResponseWriter, code int, v any) {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	writeJSONBytes(w, code, b.Bytes())
}

// writeJSONBytes answers with b, JSON already encoded.
func writeJSONBytes(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// writeError answers in OpenAI's error shape.
func writeError(w http.ResponseWriter, code int, typ, errCode, msg string) {
	writeErrorWith(w, code, typ, errCode, msg, nil)
}

// writeErrorWith adds the session's summary (field council) when there is one.
func writeErrorWith(w http.ResponseWriter, code int, typ, errCode, msg string, sum *engine.Summary) {
	if code == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterDefault))
	}
	body := struct {
		wire.ErrorBody
		Council *engine.Summary `json:"council,omitempty"`
	}{wire.ErrorBody{Error: wire.ErrorDetail{Message: msg, Type: typ}}, sum}
	if errCode != "" {
		body.Error.Code = &errCode
	}
	writeJSON(w, code, body)
}

// statusRecorder remembers the status written, for metrics, and gives
// each write its own deadline; it passes Flush and the rest through
// (http.ResponseController unwraps it).
type statusRecorder struct {
	http.ResponseWriter
	code int
	rc   *http.ResponseController
	wait time.Duration
	// model and session are the access log's (noteRequest).
	model, session string
}

// deadline gives the next write wait to go out: a client that stops
// reading is cut then, its context cancelled (and with it its session).
func (r *statusRecorder) deadline() {
	r.rc.SetWriteDeadline(time.Now().Add(r.wait))
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.deadline()
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.deadline()
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	r.deadline()
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
