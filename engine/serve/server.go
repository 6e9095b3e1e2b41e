// Package serve is `council serve`: the engine's strategies behind an
// OpenAI-compatible HTTP API (POST /v1/chat/completions, GET /v1/models),
// with every session's events and the models' health on a server-sent
// event stream (GET /v1/council/events), Prometheus metrics, client
// tokens, limits and a graceful drain. It imports no UI package; the JSON
// a watcher reads is in wire.go.
package serve

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

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
	// RateLimitRPM is each client's chat completions per minute; 0: none.
	RateLimitRPM int
	// MaxBodyBytes bounds a request body; 0: 4 MiB.
	MaxBodyBytes int64
	// DrainTimeout is how long [Server.Serve] lets sessions in flight
	// finish once its context ends, before cancelling them (shutdown).
	DrainTimeout time.Duration
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
}

// New builds a server over o.Engine.
func New(o Options) *Server {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 4 << 20
	}
	s := &Server{o: o, eng: o.Engine, hub: newHub(), started: time.Now(), closing: make(chan struct{}),
		limiters: map[string]*rate.Limiter{}}
	s.sessions, s.cancelSessions = context.WithCancelCause(context.Background())
	s.metrics = newMetrics(s)
	s.hub.dropped = s.metrics.sseDropped.Inc
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", s.client(s.chat))
	mux.HandleFunc("GET /v1/models", s.client(s.models))
	mux.HandleFunc("GET /v1/council/events", s.client(s.events))
	mux.HandleFunc("POST /v1/council/admin/breaker", s.admin(s.adminBreaker))
	mux.HandleFunc("POST /v1/council/admin/reset", s.admin(s.adminReset))
	mux.HandleFunc("POST /v1/council/admin/tune", s.admin(s.adminTune))
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", s.client(s.metrics.handler.ServeHTTP))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "invalid_request_error", "not_found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.mux = mux
	return s
}

// Handler is the server's HTTP handler, every endpoint counted.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		s.mux.ServeHTTP(rec, r)
		s.metrics.request(r, rec.code)
	})
}

// Serve serves on ln until ctx ends, then drains: it stops accepting,
// lets sessions in flight finish for Options.DrainTimeout, cancels those
// still running (reason shutdown), ends the event streams once no session
// is in flight (so watchers see every session end), and returns once
// every handler has returned. A drain is not an error:
// it returns nil.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
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

// CheckExposure refuses an address beyond loopback when no client token
// is set: such a server would spend its provider keys for anyone.
func CheckExposure(addr string, tokens []string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: want host:port (127.0.0.1:8484)", addr)
	}
	if IsLoopback(host) || len(tokens) > 0 {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s without client tokens: beyond loopback anyone could spend your provider keys; set [serve] tokens_env to a variable holding a comma-separated list of tokens, or listen on 127.0.0.1", addr)
}

// IsLoopback reports whether host (from host:port) is a loopback name or
// address; "" (every interface) is not.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ParseTokens splits a comma-separated list of tokens, dropping blanks.
func ParseTokens(list string) []string {
	var out []string
	for _, t := range strings.Split(list, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

type clientKey struct{}

// clientOf is who made r: a token index, "admin" or "loopback".
func clientOf(r *http.Request) string {
	c, _ := r.Context().Value(clientKey{}).(string)
	return c
}

// bearer is r's bearer token, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// match compares got with every token in constant time and returns the
// index of the one it equals, or -1.
func match(got string, tokens []string) int {
	found := -1
	for i, t := range tokens {
		if subtle.ConstantTimeCompare([]byte(got), []byte(t)) == 1 && found < 0 {
			found = i
		}
	}
	return found
}

// client requires a client token when the server has any (the admin
// token serves too), and names the client in the request's context.
func (s *Server) client(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		who := "loopback"
		if len(s.o.Tokens) > 0 {
			tok := bearer(r)
			i := match(tok, s.o.Tokens)
			switch {
			case i >= 0:
				who = strconv.Itoa(i)
			case s.o.AdminToken != "" && match(tok, []string{s.o.AdminToken}) == 0:
				who = "admin"
			default:
				w.Header().Set("WWW-Authenticate", `Bearer realm="council"`)
				writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
					"a client token is required: send Authorization: Bearer <token> (one of the tokens in the server's serve.tokens_env)")
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, who)))
	}
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

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in OpenAI's error shape.
func writeError(w http.ResponseWriter, code int, typ, errCode, msg string) {
	writeErrorWith(w, code, typ, errCode, msg, nil)
}

// writeErrorWith adds the session's summary (field council) when there is one.
func writeErrorWith(w http.ResponseWriter, code int, typ, errCode, msg string, sum *engine.Summary) {
	body := struct {
		wire.ErrorBody
		Council *engine.Summary `json:"council,omitempty"`
	}{wire.ErrorBody{Error: wire.ErrorDetail{Message: msg, Type: typ}}, sum}
	if errCode != "" {
		body.Error.Code = &errCode
	}
	writeJSON(w, code, body)
}

// statusRecorder remembers the status written, for metrics; it passes
// Flush and the rest through (http.ResponseController unwraps it).
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
