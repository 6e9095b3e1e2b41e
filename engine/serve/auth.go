package serve

import (
	"context"
	"crypto/subtle"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

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

type callerKey struct{}

// caller is who made a request: a client token's index ("0", "1", ...),
// "admin", "watcher" or "loopback" (a server without tokens); all says it
// sees every client's sessions.
type caller struct {
	who string
	all bool
}

// clientOf is who made r: a token index, "admin" or "loopback".
func clientOf(r *http.Request) string { return callerOf(r).who }

func callerOf(r *http.Request) caller {
	c, _ := r.Context().Value(callerKey{}).(caller)
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

// identify reads r's token: ok is false when the server wants one and r
// has none it knows; a watch token alone is no client's.
func (s *Server) identify(r *http.Request) (c caller, ok bool) {
	if len(s.o.Tokens) == 0 {
		return caller{who: "loopback", all: true}, true
	}
	tok := bearer(r)
	watch := len(s.o.WatchTokens) > 0 && match(tok, s.o.WatchTokens) >= 0
	if i := match(tok, s.o.Tokens); i >= 0 {
		return caller{who: strconv.Itoa(i), all: watch}, true
	}
	if s.o.AdminToken != "" && match(tok, []string{s.o.AdminToken}) == 0 {
		return caller{who: "admin", all: true}, true
	}
	if watch {
		return caller{who: "watcher", all: true}, true
	}
	return caller{}, false
}

// client requires a client token when the server has any (the admin
// token serves too), and names the client in the request's context.
func (s *Server) client(h http.HandlerFunc) http.HandlerFunc {
	return s.auth(false, h)
}

// watcher is client, where a watch token serves too (the event stream).
func (s *Server) watcher(h http.HandlerFunc) http.HandlerFunc {
	return s.auth(true, h)
}

func (s *Server) auth(watchers bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.identify(r)
		if !ok || (c.who == "watcher" && !watchers) {
			refuseEarly(w, r)
			w.Header().Set("WWW-Authenticate", `Bearer realm="council"`)
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
				"a client token is required: send Authorization: Bearer <token> (one of the tokens in the server's serve.tokens_env)")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	}
}

// metricsAuth lets a watcher or the admin read /metrics; a client token
// serves only from loopback (a local scraper), as every request does on
// a server without tokens.
func (s *Server) metricsAuth(h http.HandlerFunc) http.HandlerFunc {
	return s.watcher(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if !callerOf(r).all && !IsLoopback(host) {
			writeError(w, http.StatusForbidden, "permission_error", "watch_token_required",
				"/metrics beyond loopback needs a watch token (serve.watch_tokens_env) or the admin token")
			return
		}
		h(w, r)
	})
}
