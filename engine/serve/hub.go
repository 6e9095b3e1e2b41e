package serve

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// keepFinished is how many finished sessions a new subscriber is sent.
const keepFinished = 20

// defaultBacklogBytes bounds the backlog when Options.BacklogBytes is 0.
const defaultBacklogBytes = 32 << 20

// subBuffer is how many messages a subscriber may fall behind before it
// is dropped: it reconnects, and the engine never waits for it.
const subBuffer = 4096

// hub fans every session's events out to the event-stream subscribers
// and keeps what a new subscriber is sent first: the sessions in flight
// and the last finished ones, each with its events so far.
type hub struct {
	mu       sync.Mutex
	live     []*sessionLog // in flight, oldest first
	finished []*sessionLog // the last keepFinished, oldest first
	subs     map[*subscriber]struct{}
	began    int // sessions begun
	// running counts each model's attempts between attempt_started and
	// their end, for the health message.
	running map[string]int
	dropped func() // counts a dropped subscriber (metrics)
	// limit bounds bytes, the size of every kept session's messages.
	limit, bytes int
}

// sessionLog is one session as the stream tells it: its session message,
// then its events, each an encoded SSE message.
type sessionLog struct {
	n      int    // the order sessions began in
	client string // who asked (wire.Session.Client)
	id     string
	msgs   [][]byte
	size   int // bytes in msgs
	// evicted says its messages were let go to bound the backlog: the
	// log stays, empty, so that new subscribers are told it is missing.
	evicted bool
	ended   bool
	started map[string]string // attempt id -> model, while it runs
}

// subscriber is one event-stream client. ch is closed when the hub drops
// it (it fell behind) or it leaves.
type subscriber struct {
	ch chan []byte
	// client is who subscribed; all says it sees every client's
	// sessions, else only client's own.
	client string
	all    bool
	// missing are the sessions in flight left out of its backlog: their
	// later messages would make no sense to it.
	missing map[*sessionLog]bool
}

// sees reports whether sub is sent l's messages.
func (sub *subscriber) sees(l *sessionLog) bool {
	return (sub.all || sub.client == l.client) && !sub.missing[l]
}

func newHub(limit int) *hub {
	return &hub{subs: map[*subscriber]struct{}{}, running: map[string]int{}, limit: cmpOr(limit, defaultBacklogBytes)}
}

// keep adds msg to l's log, unless l was evicted, and keeps the backlog
// within its bound. Called with h.mu held.
func (h *hub) keep(l *sessionLog, msg []byte) {
	if l.evicted {
		return
	}
	l.msgs = append(l.msgs, msg)
	l.size += len(msg)
	h.bytes += len(msg)
	// The oldest finished sessions go first; in flight, the oldest too,
	// l itself last.
	for _, list := range [][]*sessionLog{h.finished, h.live} {
		for _, old := range list {
			if h.bytes <= h.limit {
				return
			}
			h.evict(old)
		}
	}
}

// evict lets l's messages go. Called with h.mu held.
func (h *hub) evict(l *sessionLog) {
	if l.evicted {
		return
	}
	h.bytes -= l.size
	l.msgs, l.size, l.evicted = nil, 0, true
}

// sseMessage encodes one SSE message: "event: typ\ndata: json\n\n".
func sseMessage(typ string, v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		// Every value sent is built here and marshals; say so rather than
		// send a broken line.
		data, _ = json.Marshal(map[string]string{"type": "error", "error": err.Error()})
	}
	var b bytes.Buffer
	b.Grow(len(typ) + len(data) + 16)
	b.WriteString("event: ")
	b.WriteString(typ)
	b.WriteString("\ndata: ")
	b.Write(data)
	b.WriteString("\n\n")
	return b.Bytes()
}

// begin announces a session and returns its log.
func (h *hub) begin(info wire.Session) *sessionLog {
	msg := sseMessage(wire.EventSession, info)
	l := &sessionLog{started: map[string]string{}, client: info.Client, id: info.Session}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.began++
	l.n = h.began
	h.live = append(h.live, l)
	h.keep(l, msg)
	h.broadcast(l, msg)
	return l
}

// publish sends one of l's events; session_done moves l to the finished.
func (h *hub) publish(l *sessionLog, ev engine.Event) {
	msg := sseMessage(ev.Type.String(), ev)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.keep(l, msg)
	switch ev.Type {
	case engine.AttemptStarted:
		if _, again := l.started[ev.Attempt]; !again { // a retried call starts again
			l.started[ev.Attempt] = ev.Model
			h.running[ev.Model]++
		}
	case engine.AttemptDone, engine.AttemptFailed, engine.AttemptCancelled:
		if m, ok := l.started[ev.Attempt]; ok {
			delete(l.started, ev.Attempt)
			h.running[m]--
		}
	}
	h.broadcast(l, msg)
	if ev.Type == engine.SessionDone {
		h.end(l)
	}
}

// idle reports whether no session is in flight.
func (h *hub) idle() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.live) == 0
}

// end moves l from the live sessions to the finished ones. Called with
// h.mu held; a session whose handler stopped reading early ends here too.
func (h *hub) end(l *sessionLog) {
	for i, s := range h.live {
		if s == l {
			h.live = append(h.live[:i], h.live[i+1:]...)
			break
		}
	}
	for a, m := range l.started {
		h.running[m]--
		delete(l.started, a)
	}
	l.ended = true
	h.finished = append(h.finished, l)
	if len(h.finished) > keepFinished {
		h.evict(h.finished[0])
		h.finished[0] = nil
		h.finished = h.finished[1:]
	}
}

// abandon ends a session whose events stopped before session_done (the
// engine closed).
func (h *hub) abandon(l *sessionLog) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, s := range h.live {
		if s == l {
			h.end(l)
			return
		}
	}
}

// broadcast hands l's msg to every subscriber that sees l without
// waiting: one whose buffer is full is dropped. Called with h.mu held.
func (h *hub) broadcast(l *sessionLog, msg []byte) {
	for sub := range h.subs {
		if !sub.sees(l) {
			continue
		}
		select {
		case sub.ch <- msg:
		default:
			delete(h.subs, sub)
			close(sub.ch)
			if h.dropped != nil {
				h.dropped()
			}
		}
	}
}

// subscribe registers a subscriber (client, or every client's sessions
// when all) and returns the backlog it must write before what arrives on
// its channel: the last finished sessions and those in flight that it
// sees, in the order they began, each with its events so far.
func (h *hub) subscribe(client string, seesAll bool) (*subscriber, [][]byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	logs := make([]*sessionLog, 0, len(h.finished)+len(h.live))
	logs = append(append(logs, h.finished...), h.live...)
	slices.SortFunc(logs, func(a, b *sessionLog) int { return a.n - b.n })
	sub := &subscriber{ch: make(chan []byte, subBuffer), client: client, all: seesAll}
	var backlog [][]byte
	var missing []string
	for _, l := range logs {
		if !sub.sees(l) {
			continue
		}
		if l.evicted {
			missing = append(missing, l.id)
			if !l.ended {
				if sub.missing == nil {
					sub.missing = map[*sessionLog]bool{}
				}
				sub.missing[l] = true
			}
			continue
		}
		backlog = append(backlog, l.msgs...)
	}
	if len(missing) > 0 {
		d := sseMessage(wire.EventDropped, wire.Dropped{Type: wire.EventDropped, Sessions: missing, LimitBytes: h.limit})
		backlog = append([][]byte{d}, backlog...)
	}
	h.subs[sub] = struct{}{}
	return sub, backlog
}

// unsubscribe removes sub, unless the hub has dropped it already.
func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[sub]; ok {
		delete(h.subs, sub)
		close(sub.ch)
	}
}

// counts returns the sessions in flight, each model's running attempts
// and the number of subscribers.
func (h *hub) counts() (inFlight int, running map[string]int, subs int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	running = make(map[string]int, len(h.running))
	for m, n := range h.running {
		running[m] = n
	}
	return len(h.live), running, len(h.subs)
}
