package serve

import (
	"net/http"
	"time"

	"github.com/council-dev/council/engine/wire"
)

// Event-stream timing.
const (
	healthEvery = time.Second
	pingEvery   = 15 * time.Second
)

// events is GET /v1/council/events: hello, the backlog, then every
// session's events as they happen (a client token's own sessions only;
// a watcher's, the admin's or on a server without tokens, all), health every second and a ping
// comment every 15 s, until the client leaves, falls behind (dropped) or
// the server shuts down.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if !s.hold(r) {
		aerr := shuttingDown()
		writeError(w, aerr.status, aerr.typ, aerr.code, aerr.msg)
		return
	}
	defer s.release(r)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	c := callerOf(r)
	sub, backlog := s.hub.subscribe(c.who, c.all)
	defer s.hub.unsubscribe(sub)
	s.metrics.sseSubs.Inc()
	defer s.metrics.sseSubs.Dec()

	// Each write has serve.write_timeout (Handler): a subscriber that
	// stops reading is cut off rather than holding its handler forever.
	write := func(b []byte) bool {
		_, err := w.Write(b)
		return err == nil
	}
	flush := func() bool { return rc.Flush() == nil }
	hello := wire.Hello{Type: wire.EventHello, Instance: s.o.Instance, Version: s.o.Version,
		StartedMS: s.started.UnixMilli(), Admin: s.o.AdminToken != "", Tiers: wire.TiersOf(s.eng.Config())}
	if !write(sseMessage(wire.EventHello, hello)) {
		return
	}
	for _, m := range backlog {
		if !write(m) {
			return
		}
	}
	if !write(s.healthMessage()) || !flush() {
		return
	}
	// A drain keeps the stream open until no session is in flight, so a
	// watcher sees each one end; closing is nil once the drain has begun.
	closing, draining := s.closing, false
	health := time.NewTicker(healthEvery)
	defer health.Stop()
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	for {
		select {
		case m, ok := <-sub.ch:
			if !ok {
				return // dropped: it fell behind; it reconnects
			}
			if !write(m) {
				return
			}
			// Whatever else is ready goes in the same flush.
			for more := true; more; {
				select {
				case m, ok := <-sub.ch:
					if !ok {
						return
					}
					if !write(m) {
						return
					}
				default:
					more = false
				}
			}
		case <-health.C:
			if !write(s.healthMessage()) {
				return
			}
		case <-ping.C:
			if !write([]byte(": ping\n\n")) {
				return
			}
		case <-r.Context().Done():
			return
		case <-closing:
			closing, draining = nil, true
		}
		if !flush() {
			return
		}
		if draining && s.hub.idle() {
			// The last session's end is in sub.ch already (the hub sends
			// it before it counts the session ended): send what is left.
			for {
				select {
				case m, ok := <-sub.ch:
					if !ok || !write(m) {
						return
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// healthMessage is the health SSE message, now.
func (s *Server) healthMessage() []byte {
	n, _, _ := s.hub.counts()
	return sseMessage(wire.EventHealth, wire.Health{Type: wire.EventHealth, Instance: s.o.Instance, TMS: time.Now().UnixMilli(),
		InFlight: n, Models: s.modelHealth(), Shared: s.eng.SharedStatus()})
}
