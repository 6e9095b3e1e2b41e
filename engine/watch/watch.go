// Package watch is the client side of `council watch`: it attaches to one
// or more `council serve` instances through their event streams
// (GET /v1/council/events, server-sent events), reconnects with capped,
// jittered exponential backoff, resumes from the backlog a server sends
// on connect without repeating what it has already delivered, merges the
// instances' health into one breaker board (volumes summed, the worst
// state shown, as Netflix's Turbine merged Hystrix streams), and sends the
// admin actions (force, reset, tune a breaker) when given the admin token.
//
// A [Hub] delivers everything on one channel of [Update]s and implements
// the dashboard's backend (health, breaker actions, config); it imports
// no UI package.
package watch

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// EventsPath is the event stream's path under a server's base URL.
const EventsPath = "/v1/council/events"

// Errors the hub's backend methods answer.
var (
	// ErrReadOnly: breaker actions need the admin token.
	ErrReadOnly = errors.New("watching is read-only: give --admin-token (or COUNCIL_ADMIN_TOKEN) for breaker actions")
	// ErrWatching: sessions start on the servers, not here.
	ErrWatching = errors.New("watching: sessions start on the servers (send them traffic), not here")
)

// Options configure a [Hub]. The zero value works.
type Options struct {
	// Token is sent as `Authorization: Bearer` on the event stream;
	// AdminToken on the admin actions (none: the hub is read-only).
	Token, AdminToken string
	// Client makes the requests (default: an http.Client without a
	// timeout, since a stream lasts).
	Client *http.Client
	// Backoff paces reconnection.
	Backoff Backoff
	// Jitter draws a number in [0, 1) for the backoff's jitter (default
	// math/rand/v2's Float64).
	Jitter func() float64
	// Idle is how long a stream may stay silent before it is taken for
	// dead and reconnected (default 45s: a server sends health every
	// second and a ping every 15 s, so a silent one is cut off, as by a
	// network partition that never closes the connection).
	Idle time.Duration
}

// Backoff is capped exponential backoff with jitter: before reconnect
// attempt n the wait is half of min(Max, Base·2^(n-1)) plus a random part
// of the other half, so that instances dropped together do not all come
// back at once. The zero value waits 500ms, 1s, 2s... up to 30s.
type Backoff struct {
	Base, Max time.Duration
}

// Delay is the wait before attempt n (from 1), with r in [0, 1) the
// jitter's draw.
func (b Backoff) Delay(n int, r float64) time.Duration {
	base, ceil := b.Base, b.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if ceil <= 0 {
		ceil = 30 * time.Second
	}
	d := base
	for i := 1; i < n && d < ceil; i++ {
		d *= 2
	}
	d = min(d, ceil)
	return d/2 + time.Duration(r*float64(d/2))
}

// State is an instance's connection state.
type State uint8

// Connection states.
const (
	Connecting   State = iota // the first attempt, or one under way
	Connected                 // the stream's hello arrived
	Reconnecting              // dropped (or refused): waiting to try again
)

// String returns "connecting", "connected" or "reconnecting".
func (s State) String() string {
	return [...]string{"connecting", "connected", "reconnecting"}[s]
}

// Status is an instance's connection, as a screen says it.
type Status struct {
	State State
	// Attempt is the reconnect attempt waited for, In how long until it
	// (Reconnecting); Err why the last connection ended.
	Attempt int
	In      time.Duration
	Err     string
	// Hello is the server's last hello (nil before the first).
	Hello *wire.Hello
}

// Kind is what an [Update] carries.
type Kind uint8

// Update kinds.
const (
	KindStatus  Kind = iota + 1 // an instance's connection changed
	KindSession                 // a session the hub has not delivered before
	KindEvent                   // one of its events (never one delivered before)
	KindHealth                  // an instance's health arrived: the board's rows
	// KindLost: the server restarted before the session ended; its end
	// will never come.
	KindLost
)

// Update is one thing the hub delivers.
type Update struct {
	Kind Kind
	// Instance is the server's label (its URL's host:port).
	Instance string
	// Key identifies the session across instances and server restarts
	// (KindSession, KindEvent).
	Key     string
	Status  Status        // KindStatus
	Session *wire.Session // KindSession
	Event   engine.Event  // KindEvent
	// Health is the whole board (KindHealth): see [Rows].
	Health []engine.ModelHealth
	// InFlight is the instance's sessions in flight (KindHealth).
	InFlight int
	// Shared is whether the instance shares its state with a fleet
	// (KindHealth): "shared", "degraded", or "" for a server alone.
	Shared string
}

// Hub watches several instances.
type Hub struct {
	opts  Options
	insts []*instance
	out   chan Update

	mu     sync.Mutex
	health map[string][]wire.ModelHealth // per instance label, the latest
}

// instance is one server.
type instance struct {
	h      *Hub
	label  string
	events string // the stream's URL
	base   string
	// Known sessions by server id (reset when the server restarts), and
	// the epoch that tells a restarted server's sessions apart.
	seen map[string]*seenSession
	// finished are the ids of the sessions seen to end, oldest first:
	// past keepFinished, the oldest are forgotten (a server's backlog
	// holds far fewer, so none of them can come back).
	finished []string
	started  int64
	epoch    int
}

// keepFinished is how many finished sessions an instance remembers.
const keepFinished = 256

type seenSession struct {
	key     string
	lastSeq int
	done    bool // its session_done was delivered
}

// New returns a hub for the servers at urls (each a base URL such as
// http://127.0.0.1:8484).
func New(urls []string, o Options) (*Hub, error) {
	if len(urls) == 0 {
		return nil, errors.New("give at least one server URL (such as http://127.0.0.1:8484)")
	}
	if o.Client == nil {
		o.Client = &http.Client{}
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	if o.Idle <= 0 {
		o.Idle = 45 * time.Second
	}
	h := &Hub{opts: o, out: make(chan Update, 256), health: map[string][]wire.ModelHealth{}}
	labels := map[string]bool{}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%q is not a server URL: want http://HOST:PORT or https://HOST:PORT", raw)
		}
		if u.User != nil {
			return nil, fmt.Errorf("%s: give the token with --token or COUNCIL_TOKEN, not in the URL", u.Host)
		}
		if labels[u.Host] {
			return nil, fmt.Errorf("%s is given twice", u.Host)
		}
		labels[u.Host] = true
		base := strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
		h.insts = append(h.insts, &instance{h: h, label: u.Host, base: base, events: base + EventsPath, seen: map[string]*seenSession{}})
	}
	return h, nil
}

// Instances are the servers' labels, in the order given.
func (h *Hub) Instances() []string {
	out := make([]string, len(h.insts))
	for i, in := range h.insts {
		out[i] = in.label
	}
	return out
}

// Admin reports whether the hub was given an admin token.
func (h *Hub) Admin() bool { return h.opts.AdminToken != "" }

// Connect connects to every instance until ctx ends; then the updates'
// channel is closed, once every connection is gone.
func (h *Hub) Connect(ctx context.Context) {
	var wg sync.WaitGroup
	for _, in := range h.insts {
		wg.Go(func() { in.run(ctx) })
	}
	go func() {
		wg.Wait()
		close(h.out)
	}()
}

// Updates is the channel of everything the instances say; read it until
// it is closed.
func (h *Hub) Updates() <-chan Update { return h.out }

func (in *instance) send(ctx context.Context, u Update) bool {
	u.Instance = in.label
	select {
	case in.h.out <- u:
		return true
	case <-ctx.Done():
		return false
	}
}

// run keeps the instance's stream connected until ctx ends.
func (in *instance) run(ctx context.Context) {
	attempt := 0
	in.send(ctx, Update{Kind: KindStatus, Status: Status{State: Connecting}})
	for {
		var hello *wire.Hello
		err := in.stream(ctx, &hello)
		if ctx.Err() != nil {
			return
		}
		if hello != nil {
			attempt = 0 // it was up: start the backoff again
		}
		attempt++
		d := in.h.opts.Backoff.Delay(attempt, in.h.opts.Jitter())
		msg := "the stream ended"
		if err != nil && !errors.Is(err, errEOF) {
			msg = err.Error()
		}
		if !in.send(ctx, Update{Kind: KindStatus, Status: Status{State: Reconnecting, Attempt: attempt, In: d, Err: msg, Hello: hello}}) {
			return
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if !in.send(ctx, Update{Kind: KindStatus, Status: Status{State: Connecting, Attempt: attempt, Hello: hello}}) {
			return
		}
	}
}
