// Package watchtest serves the event stream `council watch` reads, from
// the sessions of a real engine (over simulated models in tests), and
// carries HTTP to it in memory so that tests can run inside a
// testing/synctest bubble, where real network I/O cannot.
//
// It speaks the stream's contract (hello, the backlog of sessions, each
// session's announcement then its events, health every second, the admin
// endpoints); it is for tests and for trying the dashboard by hand, not a
// server to deploy (that is `council serve`).
package watchtest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/wire"
)

// backlogFinished is how many finished sessions a new stream is sent.
const backlogFinished = 20

// Server is an instance: an engine whose sessions are streamed.
type Server struct {
	// Instance and Version are what hello says.
	Instance, Version string
	// Token, when set, is required on the stream; AdminToken enables the
	// admin endpoints.
	Token, AdminToken string
	// Started is the instance's start, in hello (a new value is a
	// restart).
	Started time.Time

	eng *engine.Engine
	wg  sync.WaitGroup

	mu       sync.Mutex
	sessions []*session // in flight and recently finished, oldest first
	subs     map[*sub]struct{}
	inFlight int
	// Admin calls received, for tests: "breaker sim/swift open"...
	Calls []string
}

type session struct {
	info   wire.Session
	frames []frame
	done   bool
}

type frame struct{ event, data string }

type sub struct {
	ch   chan frame
	gone chan struct{} // closed to drop the connection
	once sync.Once
}

func (s *sub) drop() { s.once.Do(func() { close(s.gone) }) }

// NewServer serves eng's sessions.
func NewServer(eng *engine.Engine, instance string) *Server {
	return &Server{Instance: instance, Version: "test", Started: time.Now(), eng: eng, subs: map[*sub]struct{}{}}
}

// Run starts a session on the engine and streams it; the session runs on
// until it ends (Wait waits for every one).
func (s *Server) Run(ctx context.Context, req engine.SessionRequest) error {
	ch, err := s.eng.Start(ctx, req)
	if err != nil {
		return err
	}
	s.wg.Go(func() { s.pump(req, ch) })
	return nil
}

// Wait waits for every session Run started to end.
func (s *Server) Wait() { s.wg.Wait() }

func (s *Server) pump(req engine.SessionRequest, ch <-chan engine.Event) {
	var cur *session
	for ev := range ch {
		if cur == nil {
			models := req.Models
			if len(models) == 0 {
				models = s.eng.Config().Tiers[orTier(req.Tier, s.eng.Config().DefaultTier)].Models
			}
			strategy := req.Strategy
			if strategy == "" {
				strategy = s.eng.Config().DefaultStrategy
			}
			cur = &session{info: wire.Session{Type: "session", Session: ev.Session, Strategy: string(strategy),
				Tier: req.Tier, Models: models, Prompt: req.Prompt, StartedMS: time.Now().UnixMilli(), Client: "loopback"}}
			b, _ := json.Marshal(cur.info)
			s.mu.Lock()
			s.inFlight++
			s.sessions = append(s.sessions, cur)
			s.broadcastLocked(cur, frame{"session", string(b)}, false)
			s.mu.Unlock()
		}
		b, _ := json.Marshal(ev)
		s.mu.Lock()
		s.broadcastLocked(cur, frame{ev.Type.String(), string(b)}, true)
		if ev.Type == engine.SessionDone {
			cur.done = true
			s.inFlight--
			s.trimLocked()
		}
		s.mu.Unlock()
	}
}

func orTier(t, def string) string {
	if t == "" {
		return def
	}
	return t
}

// broadcastLocked sends f to every stream (and keeps it in the session's
// backlog when keep).
func (s *Server) broadcastLocked(cur *session, f frame, keep bool) {
	if keep {
		cur.frames = append(cur.frames, f)
	}
	for c := range s.subs {
		select {
		case c.ch <- f:
		default:
			c.drop() // too slow: drop it, as a server would
		}
	}
}

// trimLocked keeps the sessions in flight and the last finished ones.
func (s *Server) trimLocked() {
	finished := 0
	for i := len(s.sessions) - 1; i >= 0; i-- {
		if s.sessions[i].done {
			finished++
			if finished > backlogFinished {
				s.sessions = append(s.sessions[:i], s.sessions[i+1:]...)
			}
		}
	}
}

// Drop ends every open stream, as a server restart or a network cut
// would; clients reconnect.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.subs {
		c.drop()
	}
}

// Streams is how many streams are open.
func (s *Server) Streams() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

func authorized(r *http.Request, token string) bool {
	if token == "" {
		return true
	}
	got := []byte(r.Header.Get("Authorization"))
	return subtle.ConstantTimeCompare(got, []byte("Bearer "+token)) == 1
}

// ServeHTTP serves the stream and the admin endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case watch.EventsPath:
		if !authorized(r, s.Token) {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		s.stream(w, r)
	case wire.AdminPath(wire.AdminBreaker), wire.AdminPath(wire.AdminReset), wire.AdminPath(wire.AdminTune):
		if s.AdminToken == "" || !authorized(r, s.AdminToken) {
			http.Error(w, "admin actions need the admin token", http.StatusForbidden)
			return
		}
		s.admin(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) write(w http.ResponseWriter, f frame) error {
	_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", f.event, f.data)
	if fl, ok := w.(http.Flusher); ok {
		fl.Flush()
	}
	return err
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	hello, _ := json.Marshal(wire.Hello{Type: "hello", Instance: s.Instance, Version: s.Version,
		StartedMS: s.Started.UnixMilli(), Admin: s.AdminToken != "", Tiers: wire.TiersOf(s.eng.Config())})
	c := &sub{ch: make(chan frame, 4096), gone: make(chan struct{})}
	s.mu.Lock()
	backlog := []frame{{"hello", string(hello)}}
	for _, ss := range s.sessions {
		b, _ := json.Marshal(ss.info)
		backlog = append(backlog, frame{"session", string(b)})
		backlog = append(backlog, ss.frames...)
	}
	s.subs[c] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, c)
		s.mu.Unlock()
	}()
	for _, f := range backlog {
		if s.write(w, f) != nil {
			return
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case f := <-c.ch:
			if s.write(w, f) != nil {
				return
			}
		case <-tick.C:
			if s.write(w, frame{"health", s.healthJSON()}) != nil {
				return
			}
		case <-c.gone:
			return
		case <-r.Context().Done():
			return
		}
	}
}

// Health is the instance's health as the stream sends it.
func (s *Server) Health() wire.Health {
	s.mu.Lock()
	n := s.inFlight
	s.mu.Unlock()
	h := wire.Health{Type: "health", Instance: s.Instance, TMS: time.Now().UnixMilli(), InFlight: n}
	for _, m := range s.eng.Health() {
		h.Models = append(h.Models, wire.HealthOf(m, 0))
	}
	return h
}

func (s *Server) healthJSON() string {
	b, _ := json.Marshal(s.Health())
	return string(b)
}

func (s *Server) admin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Model, Force, Knob string
		Delta              float64
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return
	}
	var err error
	action := r.URL.Path[len("/v1/council/admin/"):]
	switch action {
	case "breaker":
		f := map[string]engine.Force{"open": engine.ForceOpen, "closed": engine.ForceClosed, "none": engine.ForceNone}
		force, ok := f[body.Force]
		if !ok {
			http.Error(w, `force must be "open", "closed" or "none"`, http.StatusBadRequest)
			return
		}
		err = s.eng.ForceBreaker(body.Model, force)
		body.Knob = body.Force
	case "reset":
		_, err = s.eng.ResetBreaker(body.Model)
	case "tune":
		_, err = s.eng.Tune(body.Model, body.Knob, body.Delta)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.Calls = append(s.Calls, fmt.Sprintf("%s %s %s", action, body.Model, body.Knob))
	s.mu.Unlock()
	for _, m := range s.eng.Health() {
		if m.ID == body.Model {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(wire.HealthOf(m, 0))
			return
		}
	}
	http.Error(w, "unknown model "+body.Model, http.StatusNotFound)
}

// AdminCalls are the admin actions the server took, in order.
func (s *Server) AdminCalls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.Calls...)
}
