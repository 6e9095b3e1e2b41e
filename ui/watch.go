package ui

import (
	"cmp"
	"fmt"
	"math"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/wire"
)

// Watcher is a backend whose sessions come from servers rather than from
// the prompt line (council watch; *watch.Hub): the dashboard lists them,
// follows the latest or the one picked, and draws the servers' breakers.
type Watcher interface {
	Backend
	// Updates delivers the servers' sessions, events, health and
	// connection states; it is closed when the watch ends.
	Updates() <-chan watch.Update
	// Instances are the servers' labels, in the order given.
	Instances() []string
	// Admin reports whether breaker actions may be sent.
	Admin() bool
}

// watchState is the dashboard's watch mode.
type watchState struct {
	src      Watcher
	inst     map[string]*instState
	sessions []*watchedSession // in the order they were announced
	byKey    map[string]*watchedSession
	seen     int    // sessions announced so far (the last one's number)
	follow   bool   // show each new session as it starts
	shown    string // the key of the session on screen
	sel      int    // the list's selected row
	// spent is what the sessions seen have cost so far, finished or not:
	// it only grows (a session's summary adds what its events did not).
	spent float64
}

type instState struct {
	st       watch.Status
	at       time.Time // when st arrived: a reconnection counts down from it
	inFlight int
	shared   string // "shared", "degraded" or "" (a server alone)
}

// watchedSession is one server session, its events kept as a recorded
// session's are, for history, copy and export.
type watchedSession struct {
	key, inst string
	n         int     // its number in this watch, as the header and lists show it
	cost      float64 // spent so far: its events' costs, then its summary's
	info      wire.Session
	events    []engine.Event
	sum       *engine.Summary
	lost      bool // its server restarted before it ended
}

// watchMsg is a batch of the servers' updates.
type watchMsg struct {
	updates []watch.Update
	closed  bool
}

func newWatchState(w Watcher) *watchState {
	ws := &watchState{src: w, inst: map[string]*instState{}, byKey: map[string]*watchedSession{}, follow: true}
	for _, l := range w.Instances() {
		ws.inst[l] = &instState{}
	}
	return ws
}

// readUpdates blocks for the next update, then gathers what else arrives
// within the frame into one batch, as readEvents does for a session.
func readUpdates(ch <-chan watch.Update) tea.Cmd {
	return func() tea.Msg {
		u, ok := <-ch
		if !ok {
			return watchMsg{closed: true}
		}
		batch := []watch.Update{u}
		timer := time.NewTimer(frameInterval)
		defer timer.Stop()
		for {
			select {
			case u, ok := <-ch:
				if !ok {
					return watchMsg{updates: batch, closed: true}
				}
				batch = append(batch, u)
			case <-timer.C:
				return watchMsg{updates: batch}
			}
		}
	}
}

func (m *Model) onWatch(msg watchMsg) tea.Cmd {
	w := m.watch
	for _, u := range msg.updates {
		switch u.Kind {
		case watch.KindStatus:
			if in := w.inst[u.Instance]; in != nil {
				in.st, in.at = u.Status, m.clock()
			}
			if h := u.Status.Hello; h != nil {
				m.serverTiers(h.Tiers)
			}
		case watch.KindHealth:
			if in := w.inst[u.Instance]; in != nil {
				in.inFlight, in.shared = u.InFlight, u.Shared
			}
			now := m.clock()
			m.board.SetHealth(u.Health, now)
			for _, h := range u.Health {
				if p := m.byID[h.ID]; p != nil {
					p.SetHealth(h, now)
				}
			}
		case watch.KindSession:
			w.seen++
			ws := &watchedSession{key: u.Key, inst: u.Instance, n: w.seen, info: *u.Session}
			w.sessions = append(w.sessions, ws)
			w.byKey[u.Key] = ws
			w.trim()
			if w.follow || w.shown == "" {
				m.showWatched(ws)
			}
		case watch.KindLost:
			if ws := w.byKey[u.Key]; ws != nil {
				ws.lost = true
				if ws.key == w.shown {
					m.running = false
					m.setStatus(fmt.Sprintf("session #%d lost: %s restarted before it ended", ws.n, ws.inst), true)
				}
			}
		case watch.KindEvent:
			ws := w.byKey[u.Key]
			if ws == nil {
				continue
			}
			ws.events = append(ws.events, u.Event)
			w.spent += u.Event.Cost
			ws.cost += u.Event.Cost
			if s := u.Event.Summary; s != nil && s.CostUSD > ws.cost {
				w.spent += s.CostUSD - ws.cost
				ws.cost = s.CostUSD
			}
			if in := detail(u.Event).Info; in != nil && u.Event.Type == engine.SessionStarted {
				ws.describe(*in, u.Event.Text)
			}
			if u.Event.Type == engine.SessionDone && u.Event.Summary != nil {
				ws.sum = u.Event.Summary
				m.keepWatched(ws)
			}
			if ws.key == w.shown {
				m.apply(u.Event)
				if u.Event.Type == engine.SessionDone {
					m.running = false
				}
			}
		}
	}
	m.refreshZoom(false)
	if msg.closed {
		return nil
	}
	return readUpdates(w.src.Updates())
}

// describe takes what the session's session_started says of it over its
// session message, for the list and the history (the header reads the
// event itself).
func (ws *watchedSession) describe(in engine.SessionInfo, prompt string) {
	ws.info.Strategy, ws.info.Tier = cmp.Or(string(in.Strategy), ws.info.Strategy), cmp.Or(in.Tier, ws.info.Tier)
	ws.info.Prompt = cmp.Or(prompt, ws.info.Prompt)
	if len(in.Models) > 0 {
		ws.info.Models = in.Models
	}
}

// keepWatched puts a finished session in the history (H), where it can be
// shown again and exported (x, X) like a recorded one.
func (m *Model) keepWatched(ws *watchedSession) {
	req := engine.SessionRequest{Prompt: ws.info.Prompt, Strategy: config.Strategy(ws.info.Strategy), Tier: ws.info.Tier, Models: ws.info.Models}
	if ws.sum != nil && ws.sum.Strategy != "" {
		req.Strategy = ws.sum.Strategy
	}
	if len(ws.events) > 0 {
		if in := detail(ws.events[0]).Info; in != nil {
			req.Settings, req.MaxCostUSD, req.DocumentName = in.Settings, in.CostCapUSD, in.Input
		}
	}
	cfg := m.b.Config()
	if cfg == nil {
		cfg = m.cfg
	}
	h := record.NewHeader(cfg, req, m.board.health, m.opts.Version, m.clock())
	m.past = append(m.past, pastSession{n: ws.n, req: req, header: h, events: ws.events, sum: ws.sum})
	const maxPast = 100
	if len(m.past) > maxPast {
		m.past = m.past[len(m.past)-maxPast:]
	}
}

// watchedHeader is a watched session's log header with the council as the
// servers describe it now (their health may have come after the session
// ended), so that the exported log plays back.
func (m *Model) watchedHeader(ps pastSession) record.Header {
	return record.NewHeader(m.b.Config(), ps.req, ps.header.Health, m.opts.Version, ps.header.Recorded)
}

// showWatched puts a watched session on screen: its panes, timeline and
// votes as its events so far drew them; the rest arrive as they come.
func (m *Model) showWatched(ws *watchedSession) {
	w := m.watch
	w.shown = ws.key
	m.gen++
	m.sessionN, m.summary, m.sessionCost = ws.n, nil, 0
	m.startWall, m.lastT = m.clock(), 0
	m.strategy = config.Strategy(ws.info.Strategy)
	m.route, m.sessStrategy = nil, m.strategy
	m.sessTier, m.tier = ws.info.Tier, ws.info.Tier
	// Until its session_started, among the events applied below, says more.
	m.sessInfo = engine.SessionInfo{Strategy: m.strategy, Tier: ws.info.Tier, Models: ws.info.Models, Turn: 1}
	m.panes, m.byID = nil, map[string]*ModelPane{}
	for _, id := range ws.info.Models {
		m.pane(id)
	}
	for _, h := range m.board.health {
		if p := m.byID[h.ID]; p != nil {
			p.SetHealth(h, m.board.at)
		}
	}
	m.setFocus(min(m.focus, max(len(m.panes)-1, 0)))
	m.ctx.Labels, m.ctx.AttemptModel = map[string]string{}, map[string]string{}
	m.resetAreas()
	for _, ev := range ws.events {
		m.apply(ev)
	}
	m.running = ws.sum == nil && !ws.lost
	if m.running {
		m.startWall = m.clock().Add(-m.lastT) // the clock goes on from its latest event, not from 0
	}
	m.setPrompt(ws.info.Prompt)
	m.input.CursorStart()
	if ws.sum == nil && !m.userStatus() {
		m.status = "" // the last session's verdict is not this one's
	}
	m.refreshZoom(true)
}

// maxWatched is how many sessions the watch keeps (with their events);
// older ones go, as the history keeps its newest 100.
const maxWatched = 200

// trim forgets the oldest sessions beyond maxWatched, never the one on
// screen.
func (w *watchState) trim() {
	for len(w.sessions) > maxWatched {
		i := 0
		if w.sessions[0].key == w.shown {
			i = 1
		}
		delete(w.byKey, w.sessions[i].key)
		w.sessions = append(w.sessions[:i], w.sessions[i+1:]...)
		w.sel = max(w.sel-1, 0)
	}
}

// watchIndex is the index of the session on screen in the list.
func (w *watchState) watchIndex() int {
	for i, ws := range w.sessions {
		if ws.key == w.shown {
			return i
		}
	}
	return len(w.sessions) - 1
}

// Why a key does nothing while watching.
const (
	watchNoRun    = "watching: sessions start on the servers (send them traffic), not here"
	watchNoCancel = "watching: a session is its client's to cancel, not this screen's"
	watchNoChange = "watching: %s changes what this dashboard would run; unavailable while watching"
)

// watchKey handles the keys that differ in watch mode; ok is false for
// the others, which the dashboard handles as usual.
func (m *Model) watchKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := &m.keys
	w := m.watch
	if msg.String() == "ctrl+c" {
		return m.quit(), true
	}
	if m.mode == modeWatchList {
		return m.watchListKey(msg), true
	}
	if m.mode != modePanes && m.mode != modeZoom {
		return nil, false
	}
	switch {
	case key.Matches(msg, k.WatchOlder, k.WatchNewer):
		if len(w.sessions) == 0 {
			m.setStatus("no session seen yet", true)
			return nil, true
		}
		i := w.watchIndex()
		if key.Matches(msg, k.WatchOlder) {
			i = max(i-1, 0)
		} else {
			i = min(i+1, len(w.sessions)-1)
		}
		w.follow = false
		m.showWatched(w.sessions[i])
		m.setStatus(fmt.Sprintf("session #%d picked (F follows the latest)", w.sessions[i].n), false)
	case key.Matches(msg, k.WatchFollow):
		w.follow = true
		if n := len(w.sessions); n > 0 && w.shown != w.sessions[n-1].key {
			m.showWatched(w.sessions[n-1])
		}
		m.setStatus("following the latest session", false)
	case key.Matches(msg, k.WatchList):
		m.back, m.mode = m.mode, modeWatchList
		w.sel = max(w.watchIndex(), 0)
	case msg.String() == "esc" && m.mode == modePanes:
		m.refuse(watchNoCancel)
	case key.Matches(msg, k.Rerun, k.Auto, k.Prompt):
		m.refuse(watchNoRun)
	case key.Matches(msg, k.Strategy, k.Tier, k.Continue, k.Settings, k.Pause) ||
		(m.mode == modePanes && key.Matches(msg, k.Toggle)):
		m.refuse(fmt.Sprintf(watchNoChange, msg.String()))
	case key.Matches(msg, k.SetError, k.SetStall):
		if !w.src.Admin() {
			m.refuse(watch.ErrReadOnly.Error())
		} else {
			m.refuse("watching: e and s move a knob by 25% on the servers; E and S are for a local council")
		}
	default:
		return nil, false
	}
	return nil, true
}

// watchListKey handles the list of watched sessions.
func (m *Model) watchListKey(msg tea.KeyPressMsg) tea.Cmd {
	w := m.watch
	k := &m.ctx.Keys // the list's keymap: what its footer names
	switch {
	case key.Matches(msg, k.Down):
		if w.sel >= len(w.sessions)-1 {
			m.setStatus("the newest session is the last row", false)
		}
		w.sel = min(w.sel+1, len(w.sessions)-1)
	case key.Matches(msg, k.Up):
		if w.sel <= 0 {
			m.setStatus("the oldest session kept is the first row", false)
		}
		w.sel = max(w.sel-1, 0)
	case key.Matches(msg, k.ListShow):
		if w.sel >= 0 && w.sel < len(w.sessions) {
			w.follow = w.sel == len(w.sessions)-1 && w.follow
			m.showWatched(w.sessions[w.sel])
			if !w.follow {
				m.setStatus(fmt.Sprintf("session #%d picked (F follows the latest)", w.sessions[w.sel].n), false)
			}
		}
		m.mode = modePanes
	case key.Matches(msg, k.WatchFollow) || msg.String() == "f":
		w.follow = true
		if n := len(w.sessions); n > 0 {
			m.showWatched(w.sessions[n-1])
		}
		m.mode = modePanes
		m.setStatus("following the latest session", false)
	case key.Matches(msg, k.ListBack):
		m.mode = m.back
	case key.Matches(msg, k.Help):
		m.back, m.mode, m.helpOff = modeWatchList, modeHelp, 0
	}
	return nil
}

// watchListView lists the sessions seen, newest last, by instance.
func (m *Model) watchListView(w, h int) string {
	s := &m.ctx.S
	ws := m.watch
	lines := []string{s.Title.Render("Sessions") + s.Subtle.Render("  j/k move · enter show · F follow the latest · esc back")}
	if len(ws.sessions) == 0 {
		lines = append(lines, s.Muted.Render("no session yet: they appear here as the servers run them"))
	}
	first := max(0, ws.sel-(h-4))
	for i := first; i < len(ws.sessions) && len(lines) < h-1; i++ {
		x := ws.sessions[i]
		status, took, who := "● live", "", ""
		if x.lost {
			status = "lost"
		}
		if x.sum != nil {
			status, took = string(x.sum.Status), fmtDur(x.sum.Elapsed)
			who = x.sum.Winner
			if who == "" && x.sum.Chairman != "" {
				who = "chair " + x.sum.Chairman
			}
		}
		row := fmt.Sprintf("#%-3d %-18s %-10s %-10s %-9s %7s  %-16s %s", x.n, truncate(x.inst, 18), truncate(x.info.Session, 10),
			orDash(x.info.Strategy), status, took, truncate(who, 16), strings.Join(strings.Fields(x.info.Prompt), " "))
		row = truncate(row, w-3)
		switch {
		case i == ws.sel:
			lines = append(lines, s.Focus.Render("▶ "+row))
		case x.key == ws.shown:
			lines = append(lines, s.Accent.Render("• "+row))
		default:
			lines = append(lines, "  "+row)
		}
	}
	return lipgloss.NewStyle().Padding(1, 1).Render(strings.Join(lines, "\n"))
}

// watchLine says what is watched: each server's connection, then the
// session on screen and whether the screen follows the latest.
func (m *Model) watchLine(w int) string {
	s := &m.ctx.S
	ws := m.watch
	var parts []string
	for _, label := range ws.src.Instances() {
		in := ws.inst[label]
		switch st := in.st; st.State {
		case watch.Connected:
			t := "● " + label
			if in.inFlight > 0 {
				t += fmt.Sprintf(" (%d in flight)", in.inFlight)
			}
			if in.shared == "degraded" {
				parts = append(parts, s.Ok.Render(t)+s.Warn.Render(" shared: degraded (local state)"))
				break
			}
			if in.shared != "" {
				t += " · shared"
			}
			parts = append(parts, s.Ok.Render(t))
		case watch.Reconnecting:
			left := max(st.In-m.ctx.Now.Sub(in.at), 0) // counts down on the tick
			t := fmt.Sprintf("○ reconnecting to %s in %s (attempt %d)", label, fmtDur(left.Round(100*time.Millisecond)), st.Attempt)
			if st.Err != "" {
				t += ": " + st.Err
			}
			parts = append(parts, s.Error.Render(t))
		default:
			parts = append(parts, s.Warn.Render("◌ connecting to "+label+"…"))
		}
	}
	left := s.HeaderLabel.Render("watching ") + strings.Join(parts, s.Muted.Render(" · "))
	var right string
	if i := ws.watchIndex(); i >= 0 && ws.shown != "" {
		x := ws.sessions[i]
		right = s.Subtle.Render(fmt.Sprintf("%s@%s", x.info.Session, x.inst))
		if ws.follow {
			right += s.Accent.Render(" · following the latest")
		} else {
			right += s.Warn.Render(fmt.Sprintf(" · #%d of %d picked", x.n, ws.seen))
		}
		right += " "
	}
	if lipgloss.Width(left)+lipgloss.Width(right) > w {
		right = ""
	}
	return spread(" "+left, right, w)
}

// tunedText says what a tune did: the new value, or that it was sent
// when the server does not say (NaN).
func tunedText(id, knob string, v, delta float64) string {
	if math.IsNaN(v) {
		return fmt.Sprintf("%s %s %+.2f sent to the servers", id, knob, delta)
	}
	return fmt.Sprintf("%s %s → %.2f", id, knob, v)
}

// showPastWatched shows a watched session picked from the history; the
// screen stops following the latest.
func (m *Model) showPastWatched(ps pastSession) {
	for _, ws := range m.watch.sessions {
		if ws.n == ps.n {
			m.watch.follow = false
			m.showWatched(ws)
			m.setStatus(fmt.Sprintf("session #%d from the history (x exports it; F follows the latest)", ps.n), false)
			return
		}
	}
}

// refuse says why a key does nothing while watching; the answer stays
// for its time although new sessions keep arriving.
func (m *Model) refuse(why string) {
	m.setStatus(why, true)
	m.actionModel, m.actionUntil = "\x00watch", m.statusUntil // no model's news overwrites it
}

// serverTiers takes the servers' tiers from their hellos: a watched
// session's panes scale their latency bars by its tier's per-model
// timeout as its server has it (the longest, when servers differ), not by
// a fallback.
func (m *Model) serverTiers(tiers []wire.Tier) {
	if len(tiers) == 0 {
		return
	}
	if m.cfg.Tiers == nil {
		m.cfg.Tiers = map[string]config.TierConfig{}
	}
	ms := func(v int64) config.Duration { return config.Duration{Duration: time.Duration(v) * time.Millisecond} }
	for _, t := range tiers {
		old, seen := m.cfg.Tiers[t.Name]
		if seen && t.Name != "watched" && old.PerModelTimeout.Milliseconds() >= t.PerModelTimeoutMS {
			continue
		}
		m.cfg.Tiers[t.Name] = config.TierConfig{Models: t.Models, Timeout: ms(t.TimeoutMS), PerModelTimeout: ms(t.PerModelTimeoutMS)}
	}
	d := m.timeout()
	for _, p := range m.panes {
		p.timeout = d
	}
	m.synth.timeout = d
}

// reconnecting reports whether a server's reconnection is counting down.
func (w *watchState) reconnecting() bool {
	for _, in := range w.inst {
		if in.st.State == watch.Reconnecting {
			return true
		}
	}
	return false
}
