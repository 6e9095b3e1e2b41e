package serve

import (
	"encoding/json"
	"slices"
	"sync"
	"unicode/utf8"

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
	msgs   []entry
	size   int // bytes counted for msgs
	// lazy counts msgs not encoded yet.
	lazy int
	// evicted says its messages were let go to bound the backlog: the
	// log stays, empty, so that new subscribers are told it is missing.
	evicted bool
	ended   bool
	started map[string]string // attempt id -> model, while it runs
}

// entry is one kept message: encoded (msg), or an event encoded only
// when someone reads it (lazy). size is msg's length, or for a lazy
// entry an upper bound on it (eventBound), so the backlog's count never
// falls short of what it would send.
type entry struct {
	msg  []byte
	ev   engine.Event
	info *wire.Session // set for a lazy session message, instead of ev
	// sum is a lazy session_done's summary, encoded; ev is then the event
	// without it (publishDone).
	sum  []byte
	size int
}

// message encodes e.
func (e *entry) message() []byte {
	if e.info != nil {
		return sseMessage(wire.EventSession, *e.info)
	}
	if e.sum != nil {
		return doneMessage(e.ev, e.sum)
	}
	return eventMessage(e.ev)
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

// keep adds e to l's log, unless l was evicted, and keeps the backlog
// within its bound. Called with h.mu held.
func (h *hub) keep(l *sessionLog, e entry) {
	if l.evicted {
		return
	}
	l.msgs = append(l.msgs, e)
	l.size += e.size
	h.bytes += e.size
	if e.msg == nil {
		l.lazy++
	}
	if h.bytes <= h.limit {
		return
	}
	// Over the bound by the upper bounds: count exactly before letting
	// anything go, so that what goes is what eager encoding would let go.
	h.settle()
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

// settle encodes every kept lazy entry, counting its exact size. Each
// entry is encoded once at most; only a backlog near its bound pays.
// Called with h.mu held.
func (h *hub) settle() {
	for _, list := range [][]*sessionLog{h.finished, h.live} {
		for _, l := range list {
			h.encode(l)
		}
	}
}

// encode encodes l's lazy entries, counting their exact sizes (never
// more than their bounds). Called with h.mu held, past the bound only.
func (h *hub) encode(l *sessionLog) {
	if l.lazy == 0 {
		return
	}
	for i := range l.msgs {
		if e := &l.msgs[i]; e.msg == nil {
			e.msg = e.message()
			e.ev, e.info, e.sum = engine.Event{}, nil, nil
			l.size += len(e.msg) - e.size
			h.bytes += len(e.msg) - e.size
			e.size = len(e.msg)
		}
	}
	l.lazy = 0
}

// evict lets l's messages go. Called with h.mu held.
func (h *hub) evict(l *sessionLog) {
	if l.evicted {
		return
	}
	h.bytes -= l.size
	l.msgs, l.size, l.lazy, l.evicted = nil, 0, 0, true
}

// sseMessage encodes one SSE message: "event: typ\ndata: json\n\n".
func sseMessage(typ string, v any) []byte {
	data, err := json.Marshal(v)
	return frame(typ, data, err)
}

// eventMessage is ev's SSE message. It calls ev's MarshalJSON itself:
// json.Marshal would check and compact its output again, the same bytes.
func eventMessage(ev engine.Event) []byte {
	data, err := ev.MarshalJSON()
	return frame(ev.Type.String(), data, err)
}

// frame wraps data, typ's JSON, in an SSE message.
func frame(typ string, data []byte, err error) []byte {
	if err != nil {
		// Every value sent is built here and marshals; say so rather than
		// send a broken line.
		data, _ = json.Marshal(map[string]string{"type": "error", "error": err.Error()})
	}
	b := make([]byte, 0, len("event: \ndata: \n\n")+len(typ)+len(data))
	b = append(append(b, "event: "...), typ...)
	b = append(append(b, "\ndata: "...), data...)
	return append(b, "\n\n"...)
}

// eventSlack bounds the bytes of an event's message besides its free
// strings' values: the SSE framing, every key and every number, enum
// and boolean of an event without Detail or Summary, or of a session
// message (TestEventBound checks it against the widest of each).
const eventSlack = 1024

// eventBound is an upper bound on the length of ev's SSE message, cheap
// to count; -1 when there is none cheap (an event with a Summary, or with
// a Detail other than session_started's description without a response
// format: those are encoded at once).
func eventBound(ev engine.Event) int {
	if ev.Summary != nil {
		return -1
	}
	n := eventSlack
	if d := ev.Detail; d != nil {
		m, ok := infoBound(d)
		if !ok {
			return -1
		}
		n += m
	}
	for _, s := range [...]string{ev.Session, ev.Model, string(ev.Role), ev.Attempt, ev.Text, ev.Vote,
		string(ev.Reason), ev.Err, ev.TieBreak} {
		n += quotedBound(s)
	}
	return n
}

// infoSlack bounds what session_started's description adds to its
// event's message besides its strings' values: its keys and numbers.
const infoSlack = 512

// infoBound is an upper bound on what d adds to its event's message when
// d is only a session's description (session_started) without a
// response format, whose schema has no cheap bound; false otherwise.
// Every session starts with one: nobody watching, it is kept unencoded.
func infoBound(d *engine.Detail) (int, bool) {
	in := d.Info
	if in == nil || in.Settings.Format != nil || d.Status != "" || d.Elapsed != 0 || d.Reviewer != "" || d.Ranking != nil ||
		d.Invalid || d.Raw != "" || d.Why != "" || d.Route != nil || d.Section != nil || d.Sections != nil ||
		d.Retry != 0 || d.Retries != 0 || d.RetryIn != 0 {
		return 0, false
	}
	n := infoSlack
	for _, s := range [...]string{string(in.Strategy), in.Tier, in.Settings.System, in.Input} {
		n += quotedBound(s)
	}
	for _, list := range [...][]string{in.Models, in.Settings.Stop} {
		for _, s := range list {
			n += quotedBound(s) + 1
		}
	}
	return n, true
}

// sessionBound is an upper bound on the length of info's SSE message,
// as eventBound is for an event's.
func sessionBound(info wire.Session) int {
	n := eventSlack
	for _, s := range [...]string{info.Session, info.Strategy, info.Tier, info.Prompt, info.Client, info.Model} {
		n += quotedBound(s)
	}
	for _, m := range info.Models {
		n += quotedBound(m) + 1
	}
	return n
}

// quotedBound is an upper bound on the length of s as a JSON string, as
// encoding/json writes it: a quote, a backslash or a control byte takes
// at most 6 bytes (\u00XX), as do <, > and & (escaped for HTML); U+2028
// and U+2029 take 6 for their 3; invalid UTF-8 takes 6 (\ufffd) a byte.
func quotedBound(s string) int {
	n, ascii := len(s)+2, true
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			n += 5
		case c == 0xE2: // the first byte of U+2028 and U+2029
			n += 3
		case c >= 0x80:
			ascii = false
		}
	}
	if !ascii && !utf8.ValidString(s) {
		return 6*len(s) + 2
	}
	return n
}

// begin announces a session and returns its log.
func (h *hub) begin(info wire.Session) *sessionLog {
	// Room for a race of one's messages: grown by appends from one, an
	// entry being an event's size, they were a tenth of a call's bytes.
	l := &sessionLog{started: map[string]string{}, client: info.Client, id: info.Session, msgs: make([]entry, 0, 8)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.began++
	l.n = h.began
	h.live = append(h.live, l)
	if !h.watched(l) { // encoded when the backlog is read
		h.keep(l, entry{info: &info, size: sessionBound(info)})
		return l
	}
	msg := sseMessage(wire.EventSession, info)
	h.keep(l, entry{msg: msg, size: len(msg)})
	h.broadcast(l, msg)
	return l
}

// publish sends one of l's events; session_done moves l to the finished.
func (h *hub) publish(l *sessionLog, ev engine.Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	// An event is encoded now only when someone is sent it, or when no
	// cheap bound on its size is known; else when the backlog is read.
	var msg []byte
	e := entry{ev: ev, size: eventBound(ev)}
	if e.size < 0 || h.watched(l) {
		msg = eventMessage(ev)
		e = entry{msg: msg, size: len(msg)}
	}
	h.keep(l, e)
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
	if msg != nil {
		h.broadcast(l, msg)
	}
	if ev.Type == engine.SessionDone {
		h.end(l)
	}
}

// publishDone is publish for session_done, whose summary's JSON the
// caller has (sum, ev.Summary encoded): the message is the event without
// its summary with sum spliced in where json.Marshal puts it, the same
// bytes, so the summary is encoded once for the answer and the stream.
// Like publish's, the message is made only when someone is sent it or
// the backlog is read; sum must not change after.
func (h *hub) publishDone(l *sessionLog, ev engine.Event, sum []byte) {
	if ev.Detail != nil || ev.Summary == nil {
		// summary is then not the event's last key.
		h.publish(l, ev)
		return
	}
	bare := ev
	bare.Summary = nil
	e := entry{ev: bare, sum: sum, size: -1}
	if n := eventBound(bare); n >= 0 {
		e.size = n + len(`,"summary":`) + len(sum)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var msg []byte
	if e.size < 0 || h.watched(l) {
		msg = e.message()
		e = entry{msg: msg, size: len(msg)}
	}
	h.keep(l, e)
	if msg != nil {
		h.broadcast(l, msg)
	}
	h.end(l)
}

// doneMessage is session_done's message: bare, the event without its
// summary, with sum, the summary's JSON, spliced in as its last key.
func doneMessage(bare engine.Event, sum []byte) []byte {
	data, err := bare.MarshalJSON()
	if err == nil {
		data = append(append(append(data[:len(data)-1], `,"summary":`...), sum...), '}')
	}
	return frame(bare.Type.String(), data, err)
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

// watched reports whether a subscriber sees l. Called with h.mu held.
func (h *hub) watched(l *sessionLog) bool {
	for sub := range h.subs {
		if sub.sees(l) {
			return true
		}
	}
	return false
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
	logs := make([]*sessionLog, 0, len(h.finished)+len(h.live))
	logs = append(append(logs, h.finished...), h.live...)
	slices.SortFunc(logs, func(a, b *sessionLog) int { return a.n - b.n })
	sub := &subscriber{ch: make(chan []byte, subBuffer), client: client, all: seesAll}
	var kept []entry
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
		kept = append(kept, l.msgs...)
	}
	h.subs[sub] = struct{}{}
	limit := h.limit
	h.mu.Unlock()

	// Lazy entries are encoded here, after the lock: a backlog of many
	// megabytes does not hold up every session's events meanwhile. What
	// is kept never changes, so the copies are what the hub holds.
	backlog := make([][]byte, 0, len(kept)+1)
	if len(missing) > 0 {
		backlog = append(backlog, sseMessage(wire.EventDropped, wire.Dropped{Type: wire.EventDropped, Sessions: missing, LimitBytes: limit}))
	}
	for i := range kept {
		if kept[i].msg == nil {
			kept[i].msg = kept[i].message()
		}
		backlog = append(backlog, kept[i].msg)
	}
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
