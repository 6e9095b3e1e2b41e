package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/engine/watch/watchtest"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
	"github.com/council-dev/council/themes"
)

// watchRig is the dashboard in watch mode on servers that stream a real
// engine's sessions over simulated models, all in memory, inside a
// synctest bubble (the models stream on its virtual clock).
type watchRig struct {
	t      *testing.T
	srvs   []*watchtest.Server
	tr     *watchtest.Transport
	hub    *watch.Hub
	cancel context.CancelFunc
	m      *Model
	closed bool
}

func newWatchRig(t *testing.T, admin string, hosts ...string) *watchRig {
	t.Helper()
	mustBeInBubble("newWatchRig")
	r := &watchRig{t: t, tr: watchtest.NewTransport()}
	var urls []string
	for _, h := range hosts {
		cfg := config.Demo()
		clients := map[string]providers.Provider{}
		for _, m := range cfg.Models {
			clients[m.ID] = sim.New(m.ID, sim.Params{TTFT: 100 * time.Millisecond, TokensPerSec: 50, OutputTokens: 20}, 5)
		}
		eng, err := engine.New(cfg, clients, engine.WithSeed(5))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(eng.Close)
		srv := watchtest.NewServer(eng, h)
		srv.AdminToken = "adm"
		r.tr.Handle(h, srv)
		r.srvs = append(r.srvs, srv)
		urls = append(urls, "http://"+h)
	}
	hub, err := watch.New(urls, watch.Options{Client: r.tr.Client(), AdminToken: admin, Jitter: func() float64 { return 0 }})
	if err != nil {
		t.Fatal(err)
	}
	r.hub = hub
	var ctx context.Context
	ctx, r.cancel = context.WithCancel(t.Context())
	hub.Connect(ctx)
	r.m = New(hub, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, ExportDir: t.TempDir(), Version: "test"})
	r.m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	r.m.sysClipboard = nil
	return r
}

// feedUntil hands the hub's updates to the dashboard, one batch each,
// until one matches.
func (r *watchRig) feedUntil(what string, match func(watch.Update) bool) watch.Update {
	r.t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case u := <-r.hub.Updates():
			r.m.Update(watchMsg{updates: []watch.Update{u}})
			if match(u) {
				return u
			}
		case <-timeout:
			r.t.Fatalf("no %s within a minute", what)
		}
	}
}

// run has server i run a session and feeds the dashboard until its end;
// it returns the session's key.
func (r *watchRig) run(i int, prompt string, s config.Strategy) string {
	r.t.Helper()
	if err := r.srvs[i].Run(r.t.Context(), engine.SessionRequest{Prompt: prompt, Strategy: s}); err != nil {
		r.t.Fatal(err)
	}
	var key string
	r.feedUntil("the session "+prompt, func(u watch.Update) bool {
		if u.Kind == watch.KindSession && u.Session.Prompt == prompt {
			key = u.Key
		}
		return key != "" && u.Kind == watch.KindEvent && u.Key == key && u.Event.Type == engine.SessionDone
	})
	return key
}

// health feeds updates until every server's health has arrived.
func (r *watchRig) health() {
	seen := map[string]bool{}
	r.feedUntil("health", func(u watch.Update) bool {
		if u.Kind == watch.KindHealth {
			seen[u.Instance] = true
		}
		return len(seen) == len(r.srvs)
	})
}

func (r *watchRig) close() {
	if r.closed {
		return
	}
	r.closed = true
	r.cancel()
	for range r.hub.Updates() {
	}
	for _, s := range r.srvs {
		s.Wait()
	}
	r.tr.Wait()
}

// TestWatchFollowsTheLatestOrThePicked: the screen follows each new
// session; [ picks an older one, which stays on screen while others run;
// F follows the latest again; L lists them and enter shows the one picked.
func TestWatchFollowsTheLatestOrThePicked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "", "h1:8484")
		defer r.close()
		m := r.m
		if m.mode != modePanes {
			t.Fatalf("mode %s, want panes: nothing is typed while watching", m.mode)
		}
		k1 := r.run(0, "first question", config.Race)
		k2 := r.run(0, "second question", config.Hedge)
		if m.watch.shown != k2 || m.input.Value() != "second question" || m.strategy != config.Hedge {
			t.Fatalf("shown %s %q %s, want the latest (%s, a hedge)", m.watch.shown, m.input.Value(), m.strategy, k2)
		}
		press(m, "[")
		if m.watch.shown != k1 || m.watch.follow || m.input.Value() != "first question" || m.summary == nil || m.summary.Strategy != config.Race {
			t.Fatalf("after [: shown %s follow %v %q, want %s picked", m.watch.shown, m.watch.follow, m.input.Value(), k1)
		}
		winner := m.summary.Winner
		if p := m.byID[winner]; p == nil || p.Text() == "" {
			t.Fatalf("the picked session's winner %q has no answer on screen", winner)
		}
		k3 := r.run(0, "third question", config.Race)
		if m.watch.shown != k1 {
			t.Fatalf("a new session replaced the picked one: shown %s", m.watch.shown)
		}
		if !strings.Contains(plain(m), "#1 of 3 picked") {
			t.Errorf("the watch line does not say the session is picked:\n%s", plain(m))
		}
		press(m, "F")
		if m.watch.shown != k3 || !m.watch.follow {
			t.Fatalf("F: shown %s, want %s followed", m.watch.shown, k3)
		}
		press(m, "L")
		view := plain(m)
		for _, w := range []string{"Sessions", "#1", "first question", "#2", "hedge", "#3", "third question"} {
			if !strings.Contains(view, w) {
				t.Errorf("the list lacks %q:\n%s", w, view)
			}
		}
		press(m, "k", "enter")
		if m.mode != modePanes || m.watch.shown != k2 || m.watch.follow {
			t.Errorf("list enter: mode %s shown %s follow %v, want %s picked", m.mode, m.watch.shown, m.watch.follow, k2)
		}
	})
}

// TestWatchIsReadOnly: keys that would run, cancel or change a session
// say why they cannot, and breaker keys reach no server without the admin
// token; the footer does not offer them.
func TestWatchIsReadOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "", "h1:8484")
		defer r.close()
		m := r.m
		r.run(0, "a question", config.Race)
		r.health()
		for _, tc := range []struct{ key, want string }{
			{"r", "sessions start on the servers"},
			{"/", "sessions start on the servers"},
			{"a", "sessions start on the servers"},
			{"esc", "not this screen's"},
			{"m", "m changes what this dashboard would run"},
			{"space", "space changes what this dashboard would run"},
			{"o", "read-only: give --admin-token"},
			{"B", "read-only: give --admin-token"},
			{"e", "read-only: give --admin-token"},
		} {
			press(m, tc.key)
			if !strings.Contains(m.status, tc.want) || !m.statusErr {
				t.Errorf("%s: status %q, want an error saying %q", tc.key, m.status, tc.want)
			}
			if m.mode != modePanes {
				t.Errorf("%s: mode %s", tc.key, m.mode)
			}
		}
		if calls := r.srvs[0].AdminCalls(); len(calls) != 0 {
			t.Errorf("the server got admin calls %v", calls)
		}
		foot := plain(m)
		foot = foot[strings.LastIndex(foot, "\n"):]
		for _, hidden := range []string{"r run again", "/ edit prompt", "o force", "m strategy"} {
			if strings.Contains(foot, hidden) {
				t.Errorf("the footer offers %q while watching: %s", hidden, foot)
			}
		}
		if !strings.Contains(foot, "[ older session") {
			t.Errorf("the footer lacks the watch keys: %s", foot)
		}
		if k := m.ctx.Keys; k.ForceOpen.Enabled() || k.ResetBreaker.Enabled() || k.ErrorUp.Enabled() || k.Prompt.Enabled() || !k.Copy.Enabled() {
			t.Error("read-only: the help should not offer o, B, e or /, and should offer y")
		}
	})
}

// TestWatchAdminKeys: with the admin token the breaker keys call the
// servers' admin endpoints and say what they did.
func TestWatchAdminKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "adm", "h1:8484")
		defer r.close()
		m := r.m
		r.run(0, "a question", config.Race)
		r.health()
		id := m.focused().ID
		press(m, "o")
		if !strings.Contains(m.status, id+" breaker forced open") {
			t.Errorf("o: status %q", m.status)
		}
		press(m, "e")
		if !strings.Contains(m.status, id+" error_rate → 0.25") {
			t.Errorf("e: status %q", m.status)
		}
		press(m, "B")
		if want := []string{"breaker " + id + " open", "tune " + id + " error_rate", "reset " + id + " "}; !slices.Equal(r.srvs[0].AdminCalls(), want) {
			t.Errorf("the server got %q, want %q", r.srvs[0].AdminCalls(), want)
		}
		if k := m.ctx.Keys; !k.ForceOpen.Enabled() || !k.ResetBreaker.Enabled() || !k.ErrorUp.Enabled() || k.Rerun.Enabled() {
			t.Error("with the admin token the help should offer o, B and e, and still not r")
		}
	})
}

// TestWatchCopyHistoryExport: a watched session's answer copies; the
// history lists it and shows it again; x and X export it, and the log
// plays back like a recorded session.
func TestWatchCopyHistoryExport(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "", "h1:8484")
		defer r.close()
		m := r.m
		k1 := r.run(0, "first question", config.Race)
		r.run(0, "second question", config.Race)
		press(m, "H")
		if m.mode != modeHistory || !strings.Contains(plain(m), "first question") {
			t.Fatalf("H: mode %s\n%s", m.mode, plain(m))
		}
		press(m, "k", "enter")
		if m.watch.shown != k1 || m.input.Value() != "first question" {
			t.Fatalf("history enter: shown %s %q, want %s", m.watch.shown, m.input.Value(), k1)
		}
		winner := m.summary.Winner
		for i, p := range m.panes {
			if p.ID == winner {
				m.setFocus(i)
			}
		}
		_, cmd := m.Update(keyMsg("y"))
		if want := "copied " + winner + "'s answer"; !strings.HasPrefix(m.status, want) || cmd == nil {
			t.Errorf("y: status %q, want %q", m.status, want)
		}
		r.health() // the servers say which models they serve (the exported council)
		press(m, "x")
		press(m, "X")
		mds, _ := filepath.Glob(filepath.Join(m.opts.ExportDir, "*.md"))
		logs, _ := filepath.Glob(filepath.Join(m.opts.ExportDir, "*.jsonl"))
		if len(mds) != 1 || len(logs) != 1 {
			t.Fatalf("exports %v %v, want one Markdown and one log", mds, logs)
		}
		md, _ := os.ReadFile(mds[0])
		if !strings.Contains(string(md), "first question") {
			t.Errorf("the Markdown is not the picked session's:\n%.300s", md)
		}
		ss, err := record.ReadFile(logs[0])
		if err != nil || len(ss) != 1 {
			t.Fatalf("the log: %d sessions, %v", len(ss), err)
		}
		ws := m.watch.byKey[k1]
		if sum := ss[0].Summary(); sum == nil || sum.Winner != winner || len(ss[0].Events) != len(ws.events) || ss[0].Header.Prompt != "first question" {
			t.Errorf("the log: %d events (want %d), summary %+v", len(ss[0].Events), len(ws.events), sum)
		}
		if _, err := record.NewPlayer(ss, 1); err != nil {
			t.Errorf("the exported log does not play back: %v", err)
		}
	})
}

// TestWatchReconnectLine: a dropped server is said to be reconnecting,
// with the wait and the attempt, and comes back connected.
func TestWatchReconnectLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "", "h1:8484")
		defer r.close()
		m := r.m
		r.health()
		r.tr.SetDown("h1:8484", true)
		r.srvs[0].Drop()
		for {
			u := r.feedUntil("reconnecting", func(u watch.Update) bool { return u.Kind == watch.KindStatus && u.Status.State == watch.Reconnecting })
			if u.Status.Attempt == 3 {
				break
			}
		}
		if line := plain(m); !strings.Contains(line, "○ reconnecting to h1:8484 in 1s (attempt 3): connect: connection refused") {
			t.Errorf("the watch line:\n%s", strings.Split(line, "\n")[2])
		}
		r.tr.SetDown("h1:8484", false)
		r.feedUntil("connected", func(u watch.Update) bool { return u.Kind == watch.KindStatus && u.Status.State == watch.Connected })
		if line := strings.Split(plain(m), "\n")[2]; !strings.Contains(line, "● h1:8484") || strings.Contains(line, "reconnecting") {
			t.Errorf("the watch line after reconnecting: %s", line)
		}
	})
}

// TestGoldenWatch160x48 is watch mode on two servers: the session
// followed, the servers' line, and the breaker board with each model
// combined over the servers and then per server.
func TestGoldenWatch160x48(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newWatchRig(t, "", "h1:8484", "h2:8484")
		defer r.close()
		r.run(1, "How do database indexes work?", config.Race)
		r.run(0, "Why do circuit breakers help?", config.Race)
		r.health()
		view := plain(r.m)
		for _, w := range []string{"sim/swift     ● closed         0%    2", "└ h1:8484     ● closed         0%    1", "● h1:8484 · ● h2:8484",
			"364ms/10s"} { // the servers' quick tier: 10 s a model, from their hello
			if !strings.Contains(view, w) {
				t.Errorf("the frame lacks %q", w)
			}
		}
		if strings.Contains(view, "/20s") {
			t.Errorf("a latency bar is scaled by the UI's 20 s fallback, not the servers' tier:\n%s", view)
		}
		golden.RequireEqual(t, view)
	})
}

// fakeWatcher is a scripted backend in watch mode, for what needs no
// server: its updates are handed to the dashboard directly.
type fakeWatcher struct{ *fakeBackend }

func (fakeWatcher) Updates() <-chan watch.Update { return nil }
func (fakeWatcher) Instances() []string          { return []string{"h:1"} }
func (fakeWatcher) Admin() bool                  { return false }

// TestWatchKeepsTheNewestSessions: a long watch keeps the newest
// maxWatched sessions, numbered as they came, and never drops the one on
// screen.
func TestWatchKeepsTheNewestSessions(t *testing.T) { synctest.Test(t, testWatchKeepsTheNewestSessions) }

func testWatchKeepsTheNewestSessions(t *testing.T) {
	m := New(fakeWatcher{newFake()}, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	announce := func(i int) {
		id := fmt.Sprintf("s%d", i)
		m.Update(watchMsg{updates: []watch.Update{
			{Kind: watch.KindSession, Instance: "h:1", Key: "h:1/" + id, Session: &wire.Session{Session: id, Strategy: "race", Models: []string{"sim/swift"}}},
			{Kind: watch.KindEvent, Instance: "h:1", Key: "h:1/" + id, Event: engine.Event{Type: engine.SessionDone, Session: id, Seq: 1,
				Summary: &engine.Summary{Session: id, Status: engine.StatusDecided}}},
		}})
	}
	announce(1)
	announce(2)
	press(m, "[")
	first := m.watch.shown
	for i := 3; i <= maxWatched+50; i++ {
		announce(i)
	}
	w := m.watch
	if len(w.sessions) != maxWatched || w.shown != first || w.sessions[0].key != first || w.sessions[1].n != 52 || w.sessions[len(w.sessions)-1].n != maxWatched+50 {
		t.Errorf("kept %d sessions, first #%d, second #%d, last #%d, shown %s; want %d: #1 (on screen), then #52 to #%d",
			len(w.sessions), w.sessions[0].n, w.sessions[1].n, w.sessions[len(w.sessions)-1].n, w.shown, maxWatched, maxWatched+50)
	}
	if !strings.Contains(plain(m), fmt.Sprintf("#1 of %d picked", maxWatched+50)) {
		t.Errorf("the watch line:\n%s", strings.Split(plain(m), "\n")[2])
	}
}
