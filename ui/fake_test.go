package ui

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/themes"
)

// fixedClock is the pinned wall clock of tests.
var fixedClock = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func testConfig() *config.Config {
	d := func(s string) config.Duration { v, _ := time.ParseDuration(s); return config.Duration{Duration: v} }
	return &config.Config{
		DefaultStrategy: config.Race,
		DefaultTier:     "quick",
		Tiers: map[string]config.TierConfig{
			"quick":    {Models: []string{"sim/swift", "sim/steady", "sim/flaky", "sim/slow"}, PerModelTimeout: d("20s")},
			"balanced": {Models: []string{"sim/steady", "sim/slow"}, PerModelTimeout: d("45s")},
		},
		Breaker:   config.BreakerConfig{Cooldown: d("30s")},
		Consensus: config.ConsensusConfig{Voters: 5, MinResponses: 3},
	}
}

type tuneCall struct {
	model, knob string
	delta       float64
}

type forceCall struct {
	model string
	f     engine.Force
}

// fakeBackend plays scripted sessions and records what the dashboard asks.
type fakeBackend struct {
	mu     sync.Mutex
	cfg    *config.Config
	health []engine.ModelHealth
	script func(req engine.SessionRequest) []engine.Event
	// live: the session's events are sent by a goroutine that, after the
	// script, waits for ctx to be cancelled and then sends the user
	// cancellation and session_done.
	live   bool
	starts []engine.SessionRequest
	ctxs   []context.Context
	tunes  []tuneCall
	forces []forceCall
	resets []string
	knobs  map[string]map[string]float64
}

func newFake() *fakeBackend {
	f := &fakeBackend{cfg: testConfig(), script: raceScript, knobs: map[string]map[string]float64{}}
	for _, id := range f.cfg.Tiers["quick"].Models {
		f.knobs[id] = map[string]float64{"error_rate": 0, "stall_rate": 0}
	}
	f.health = testHealth()
	return f
}

func testHealth() []engine.ModelHealth {
	ok, bad, cn := engine.OutcomeOK, engine.OutcomeFailed, engine.OutcomeCancelled
	lat := func(p50, p99 int) engine.LatencySnapshot {
		return engine.LatencySnapshot{Count: 20, Total: engine.Quantiles{P50: time.Duration(p50) * time.Millisecond, P99: time.Duration(p99) * time.Millisecond}}
	}
	return []engine.ModelHealth{
		{ID: "sim/swift", ProviderKind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerClosed, Requests: 12, FailureRate: 0}, Latency: lat(640, 1200), Recent: []engine.Outcome{ok, ok, ok, cn, ok, ok}, Knobs: map[string]float64{"error_rate": 0}},
		{ID: "sim/steady", ProviderKind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerClosed, Requests: 12, Failures: 1, FailureRate: 1.0 / 12}, Latency: lat(900, 2100), Recent: []engine.Outcome{cn, cn, bad, cn, ok, cn}, Knobs: map[string]float64{"error_rate": 0}},
		{ID: "sim/flaky", ProviderKind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerOpen, Requests: 8, Failures: 4, FailureRate: 0.5, HalfOpenIn: 29 * time.Second}, Latency: lat(700, 4000), Recent: []engine.Outcome{ok, bad, bad, ok, bad, bad}, Knobs: map[string]float64{"error_rate": 0.5}},
		{ID: "sim/slow", ProviderKind: "sim", Breaker: engine.BreakerSnapshot{State: engine.BreakerClosed, Forced: "closed", Requests: 5}, Latency: lat(2500, 9000), Recent: []engine.Outcome{cn, cn, cn, ok, cn}, Knobs: map[string]float64{"error_rate": 0}},
	}
}

func (f *fakeBackend) Start(ctx context.Context, req engine.SessionRequest) (<-chan engine.Event, error) {
	f.mu.Lock()
	f.starts = append(f.starts, req)
	f.ctxs = append(f.ctxs, ctx)
	script, live := f.script, f.live
	f.mu.Unlock()
	evs := script(req)
	if !live {
		ch := make(chan engine.Event, len(evs))
		for _, e := range evs {
			ch <- e
		}
		close(ch)
		return ch, nil
	}
	ch := make(chan engine.Event)
	go func() {
		defer close(ch)
		for _, e := range evs {
			ch <- e
		}
		<-ctx.Done()
		ch <- engine.Event{Type: engine.AttemptCancelled, Model: "sim/slow", Reason: engine.ReasonUser, T: time.Second}
		ch <- engine.Event{Type: engine.SessionDone, T: time.Second, Summary: &engine.Summary{Status: engine.StatusCancelled, Error: "cancelled by the user", Elapsed: time.Second}}
	}()
	return ch, nil
}

func (f *fakeBackend) ResetBreaker(model string) (engine.BreakerState, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resets = append(f.resets, model)
	for i := range f.health {
		if f.health[i].ID == model {
			from := f.health[i].Breaker.State
			f.health[i].Breaker = engine.BreakerSnapshot{State: engine.BreakerClosed}
			return from, nil
		}
	}
	return engine.BreakerClosed, errors.New("unknown model")
}

func (f *fakeBackend) Health() []engine.ModelHealth {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.ModelHealth(nil), f.health...)
}

func (f *fakeBackend) ForceBreaker(model string, force engine.Force) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forces = append(f.forces, forceCall{model, force})
	return nil
}

func (f *fakeBackend) Tune(model, knob string, delta float64) (float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.knobs[model]
	if !ok {
		return 0, errors.New("not a simulated model")
	}
	f.tunes = append(f.tunes, tuneCall{model, knob, delta})
	k[knob] += delta
	return k[knob], nil
}

func (f *fakeBackend) Config() *config.Config { return f.cfg }

// ms is a duration in milliseconds.
func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// seqEvents numbers events and stamps the session id.
func seqEvents(evs []engine.Event) []engine.Event {
	for i := range evs {
		evs[i].Seq, evs[i].Session = i+1, "s-test"
	}
	return evs
}

const swiftAnswer = "Circuit breakers stop a failing dependency from taking the caller down with it: after enough failures the breaker opens and calls fail fast, giving the dependency time to recover, then a half-open probe tests it before traffic returns."

// raceScript is a race of four simulated models: swift wins, steady and
// slow are cancelled as stragglers, flaky is rate limited and trips.
func raceScript(engine.SessionRequest) []engine.Event {
	return seqEvents([]engine.Event{
		{Type: engine.SessionStarted},
		{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer, T: ms(1)},
		{Type: engine.AttemptStarted, Model: "sim/steady", Role: engine.RoleRacer, T: ms(1)},
		{Type: engine.AttemptStarted, Model: "sim/flaky", Role: engine.RoleRacer, T: ms(2)},
		{Type: engine.AttemptQueued, Model: "sim/slow", Role: engine.RoleRacer, T: ms(2)},
		{Type: engine.FirstToken, Model: "sim/swift", T: ms(121)},
		{Type: engine.Delta, Model: "sim/swift", T: ms(130), Text: swiftAnswer[:60]},
		{Type: engine.AttemptStarted, Model: "sim/slow", Role: engine.RoleRacer, T: ms(150)},
		{Type: engine.FirstToken, Model: "sim/steady", T: ms(301)},
		{Type: engine.Delta, Model: "sim/steady", T: ms(310), Text: "A circuit breaker watches the failures of calls to"},
		{Type: engine.AttemptFailed, Model: "sim/flaky", T: ms(452), Kind: providers.KindRateLimited, Err: "HTTP 429: rate limited", InputTokens: 12},
		{Type: engine.BreakerChanged, Model: "sim/flaky", From: engine.BreakerClosed, To: engine.BreakerOpen, T: ms(452)},
		{Type: engine.Delta, Model: "sim/swift", T: ms(500), Text: swiftAnswer[60:]},
		{Type: engine.AttemptDone, Model: "sim/swift", T: ms(640), Text: swiftAnswer, InputTokens: 12, OutputTokens: 48, Cost: 0.000036},
		{Type: engine.Decided, Model: "sim/swift", T: ms(640), Text: swiftAnswer},
		{Type: engine.AttemptCancelled, Model: "sim/steady", T: ms(641), Reason: engine.ReasonLostRace, InputTokens: 12, OutputTokens: 11, Cost: 0.000009},
		{Type: engine.AttemptCancelled, Model: "sim/slow", T: ms(641), Reason: engine.ReasonLostRace, InputTokens: 12, Cost: 0.000002},
		{Type: engine.SessionDone, T: ms(642), Summary: &engine.Summary{
			Session: "s-test", Strategy: config.Race, Tier: "quick", Status: engine.StatusDegraded,
			Winner: "sim/swift", Answer: swiftAnswer, CostUSD: 0.000047, Elapsed: ms(642), ElapsedMS: 642,
		}},
	})
}

// consensusScript is five votes: three billing, one technical, one
// invalid; decided at the third billing vote, one straggler cancelled.
func consensusScript(engine.SessionRequest) []engine.Event {
	var evs []engine.Event
	evs = append(evs, engine.Event{Type: engine.SessionStarted})
	voters := []string{"sim/swift", "sim/steady", "sim/flaky", "sim/slow"}
	for i, v := range voters {
		evs = append(evs, engine.Event{Type: engine.AttemptStarted, Model: v, Role: engine.RoleVoter, T: ms(i)})
	}
	votes := []struct {
		m, vote, raw, err string
		t                 int
	}{
		{"sim/swift", "billing", `{"category":"billing"}`, "", 300},
		{"sim/flaky", "", "I think it's about money", "not one of the categories", 420},
		{"sim/steady", "billing", "billing", "", 500},
	}
	for _, v := range votes {
		evs = append(evs,
			engine.Event{Type: engine.AttemptDone, Model: v.m, T: ms(v.t), Text: v.raw, OutputTokens: 8, Cost: 0.00001},
			engine.Event{Type: engine.VoteCast, Model: v.m, T: ms(v.t), Vote: v.vote, Text: v.raw, Err: v.err})
	}
	evs = append(evs,
		engine.Event{Type: engine.Decided, T: ms(500), Text: "billing"},
		engine.Event{Type: engine.AttemptCancelled, Model: "sim/slow", T: ms(501), Reason: engine.ReasonDecided, Cost: 0.000002},
		engine.Event{Type: engine.SessionDone, T: ms(502), Summary: &engine.Summary{
			Status: engine.StatusDecided, Answer: "billing", Votes: map[string]int{"billing": 2}, Invalid: 1,
			Agreement: 1, Elapsed: ms(502), CostUSD: 0.000032,
		}})
	return seqEvents(evs)
}

// mustBeInBubble panics unless the caller runs inside a synctest bubble.
// The dashboard's commands wait on timers (the tick, the auto-fire hold,
// the frame's batching, the text inputs' cursor blink, which bubbles times
// itself): a test that runs them must do so on the bubble's virtual clock,
// never on the real one. A bubble's clock starts at midnight UTC
// 2000-01-01 (testing/synctest's documented epoch) and moves only while
// the bubble is blocked, so a clock before 2001 is a bubble's.
func mustBeInBubble(what string) {
	if time.Now().Before(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)) {
		return
	}
	panic(what + " outside a synctest bubble: its commands would wait on the real clock (run the test with synctest.Test)")
}

// TestRunCmdNeedsABubble: the guard itself. Outside a bubble runCmd
// refuses to run the dashboard's commands rather than wait on real timers.
func TestRunCmdNeedsABubble(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("runCmd ran commands outside a synctest bubble")
		}
	}()
	runCmd(newTestModel(newFake(), 80, 24), nil)
}

// newTestModel is a dashboard over a fake backend with a pinned clock and
// the colourless theme, sized w×h, with the health already read.
func newTestModel(f *fakeBackend, w, h int) *Model {
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Why do circuit breakers help?"})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	m.Update(healthMsg{health: f.Health(), at: fixedClock})
	return m
}

// runCmd executes a command tree synchronously and feeds every message
// back into the model, as the program would (ticks are dropped: they would
// only animate).
func runCmd(m *Model, cmd tea.Cmd) {
	mustBeInBubble("runCmd")
	queue := []tea.Cmd{cmd}
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		if c == nil {
			continue
		}
		msg := c()
		switch msg := msg.(type) {
		case nil, tickMsg, autoFireMsg:
		case tea.BatchMsg:
			queue = append(queue, msg...)
		default:
			if fmt.Sprintf("%T", msg) == "tea.sequenceMsg" {
				queue = append(queue, seqCmds(msg)...)
				continue
			}
			_, next := m.Update(msg)
			queue = append(queue, next)
		}
	}
}

// press sends keys (by their String form) and runs the resulting commands.
func press(m *Model, keys ...string) {
	for _, k := range keys {
		_, cmd := m.Update(keyMsg(k))
		runCmd(m, cmd)
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "space":
		return tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "backspace":
		return tea.KeyPressMsg{Code: tea.KeyBackspace}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	}
	if c, ok := strings.CutPrefix(k, "ctrl+"); ok {
		return tea.KeyPressMsg{Code: []rune(c)[0], Mod: tea.ModCtrl}
	}
	if c, ok := strings.CutPrefix(k, "alt+"); ok {
		return tea.KeyPressMsg{Code: []rune(c)[0], Mod: tea.ModAlt}
	}
	r := []rune(k)
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// seqCmds unpacks tea.Sequence's unexported message.
func seqCmds(msg tea.Msg) []tea.Cmd {
	v := reflect.ValueOf(msg)
	out := make([]tea.Cmd, 0, v.Len())
	for i := 0; i < v.Len(); i++ {
		if c, ok := v.Index(i).Interface().(tea.Cmd); ok {
			out = append(out, c)
		}
	}
	return out
}

func stripANSI(s string) string { return ansi.Strip(s) }

// plain is the frame with styles stripped, trailing spaces trimmed.
func plain(m *Model) string {
	lines := strings.Split(m.render(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(stripANSI(l), " ")
	}
	return strings.Join(lines, "\n")
}

func ansiWidth(s string) int { return ansi.StringWidth(s) }

// loop is a small program loop for tests: commands run in goroutines, their
// messages are applied in the test's goroutine, and View runs after each
// Update as in Bubble Tea.
type loop struct {
	t     testing.TB
	m     *Model
	msgs  chan tea.Msg
	done  chan struct{}
	views int
}

func newLoop(t testing.TB, m *Model) *loop {
	mustBeInBubble("newLoop")
	l := &loop{t: t, m: m, msgs: make(chan tea.Msg, 64), done: make(chan struct{})}
	l.run(m.Init())
	return l
}

func (l *loop) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		msg := cmd()
		switch msg := msg.(type) {
		case nil:
			return
		case tea.BatchMsg:
			for _, c := range msg {
				l.run(c)
			}
			return
		}
		if fmt.Sprintf("%T", msg) == "tea.sequenceMsg" {
			for _, c := range seqCmds(msg) { // close enough: order is not asserted
				l.run(c)
			}
			return
		}
		select {
		case l.msgs <- msg:
		case <-l.done:
		}
	}()
}

// send applies one message now.
func (l *loop) send(msg tea.Msg) {
	_, cmd := l.m.Update(msg)
	l.m.View()
	l.views++
	l.run(cmd)
}

// until applies messages until cond holds.
func (l *loop) until(cond func() bool) {
	l.t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond() {
		select {
		case msg := <-l.msgs:
			l.send(msg)
		case <-deadline:
			l.t.Fatal("condition not reached in 10s")
		}
	}
}

func (l *loop) close() { close(l.done) }

func teaSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }

// The council's scripted answers.
const (
	steadyAnswer = "A breaker counts failures; past a threshold it opens and fails calls fast, so callers stop waiting on a dependency that cannot answer."
	flakyAnswer  = "They isolate faults."
	slowAnswer   = "Circuit breakers trade a few failed requests for the health of the whole system."
	synthesis    = "Circuit breakers make a distributed system more reliable by failing fast: once a dependency fails often enough the breaker opens, callers stop piling up on it, and a half-open probe lets traffic back only when it has recovered."
	invalidRaw   = "I liked the first one best, then the others were fine really"
)

// councilScript is a council of the four quick models. Each model answers
// (stage 1) and reviews (stage 2): sim/swift ranks B>C>D, sim/steady's
// ranking cannot be read, sim/flaky ranks B>A>D, and sim/slow's review is
// cancelled the moment sim/steady's lead (4 points) cannot be caught.
// sim/steady, the Borda leader, chairs and times out; sim/swift, the
// fallback chairman, writes the synthesis. So sim/swift has three
// attempts (a1 answers, a5 review, a10 synthesis).
func councilScript(engine.SessionRequest) []engine.Event {
	type ev = engine.Event
	ans, rev, syn := engine.StageAnswers, engine.StageReview, engine.StageSynthesis
	member, reviewer, chair := engine.RoleCouncil, engine.RoleReviewer, engine.RoleChairman
	at := func(t int, typ engine.EventType, id, model string, st engine.Stage, role engine.Role, mod ...func(*ev)) ev {
		e := ev{Type: typ, T: ms(t), Attempt: id, Model: model, Stage: st, Role: role}
		for _, f := range mod {
			f(&e)
		}
		return e
	}
	text := func(s string) func(*ev) { return func(e *ev) { e.Text = s } }
	done := func(s string, out int) func(*ev) {
		return func(e *ev) { e.Text, e.InputTokens, e.OutputTokens, e.Cost = s, 20, out, float64(out)*1e-6 }
	}
	evs := []ev{
		{Type: engine.SessionStarted, Text: "Why do circuit breakers help?"},
		{Type: engine.StageStarted, Stage: ans, T: ms(1)},
		at(1, engine.AttemptStarted, "a1", "sim/swift", ans, member),
		at(1, engine.AttemptStarted, "a2", "sim/steady", ans, member),
		at(2, engine.AttemptStarted, "a3", "sim/flaky", ans, member),
		at(2, engine.AttemptStarted, "a4", "sim/slow", ans, member),
		at(120, engine.FirstToken, "a1", "sim/swift", ans, member),
		at(130, engine.Delta, "a1", "sim/swift", ans, member, text(swiftAnswer[:60])),
		at(300, engine.FirstToken, "a3", "sim/flaky", ans, member),
		at(310, engine.Delta, "a3", "sim/flaky", ans, member, text(flakyAnswer)),
		at(400, engine.AttemptDone, "a3", "sim/flaky", ans, member, done(flakyAnswer, 5)),
		at(420, engine.FirstToken, "a2", "sim/steady", ans, member),
		at(430, engine.Delta, "a2", "sim/steady", ans, member, text(steadyAnswer)),
		at(500, engine.Delta, "a1", "sim/swift", ans, member, text(swiftAnswer[60:])),
		at(640, engine.AttemptDone, "a1", "sim/swift", ans, member, done(swiftAnswer, 48)),
		at(700, engine.FirstToken, "a4", "sim/slow", ans, member),
		at(710, engine.Delta, "a4", "sim/slow", ans, member, text(slowAnswer)),
		at(900, engine.AttemptDone, "a2", "sim/steady", ans, member, done(steadyAnswer, 30)),
		at(1200, engine.AttemptDone, "a4", "sim/slow", ans, member, done(slowAnswer, 16)),
		{Type: engine.StageDone, Stage: ans, T: ms(1200), Detail: &engine.Detail{Status: "done", Elapsed: ms(1199)}},

		{Type: engine.StageStarted, Stage: rev, T: ms(1201)},
		at(1201, engine.AttemptStarted, "a5", "sim/swift", rev, reviewer),
		at(1201, engine.AttemptStarted, "a6", "sim/steady", rev, reviewer),
		at(1202, engine.AttemptStarted, "a7", "sim/flaky", rev, reviewer),
		at(1202, engine.AttemptStarted, "a8", "sim/slow", rev, reviewer),
		at(1300, engine.FirstToken, "a5", "sim/swift", rev, reviewer),
		at(1310, engine.Delta, "a5", "sim/swift", rev, reviewer, text("B is the clearest; C is terse. FINAL RANKING: B, C, D")),
		at(1500, engine.AttemptDone, "a5", "sim/swift", rev, reviewer, done("B is the clearest; C is terse. FINAL RANKING: B, C, D", 20)),
		{Type: engine.RankingCast, T: ms(1500), Model: "sim/swift", Detail: &engine.Detail{Reviewer: "a5", Ranking: []string{"a2", "a3", "a4"}}},
		at(1600, engine.Delta, "a6", "sim/steady", rev, reviewer, text(invalidRaw)),
		at(1700, engine.AttemptDone, "a6", "sim/steady", rev, reviewer, done(invalidRaw, 14)),
		{Type: engine.RankingCast, T: ms(1700), Model: "sim/steady", Detail: &engine.Detail{Reviewer: "a6", Invalid: true, Raw: invalidRaw, Why: "no FINAL RANKING section"}},
		at(1900, engine.Delta, "a7", "sim/flaky", rev, reviewer, text("FINAL RANKING: B, A, D")),
		at(2000, engine.AttemptDone, "a7", "sim/flaky", rev, reviewer, done("FINAL RANKING: B, A, D", 8)),
		{Type: engine.RankingCast, T: ms(2000), Model: "sim/flaky", Detail: &engine.Detail{Reviewer: "a7", Ranking: []string{"a2", "a1", "a4"}}},
		at(2100, engine.AttemptCancelled, "a8", "sim/slow", rev, reviewer, func(e *ev) { e.Reason, e.Cost = engine.ReasonDecided, 0.000004 }),
		{Type: engine.StageDone, Stage: rev, T: ms(2100), Detail: &engine.Detail{Status: "degraded", Elapsed: ms(899)}},

		{Type: engine.StageStarted, Stage: syn, T: ms(2101)},
		at(2101, engine.AttemptStarted, "a9", "sim/steady", syn, chair),
		at(2300, engine.FirstToken, "a9", "sim/steady", syn, chair),
		at(2310, engine.Delta, "a9", "sim/steady", syn, chair, text("Circuit breakers")),
		at(3100, engine.AttemptFailed, "a9", "sim/steady", syn, chair, func(e *ev) { e.Kind, e.Err = providers.KindTimeout, "no token for 800ms" }),
		at(3101, engine.AttemptStarted, "a10", "sim/swift", syn, chair),
		at(3200, engine.FirstToken, "a10", "sim/swift", syn, chair),
		at(3210, engine.Delta, "a10", "sim/swift", syn, chair, text(synthesis[:90])),
		at(3400, engine.Delta, "a10", "sim/swift", syn, chair, text(synthesis[90:])),
		at(3500, engine.AttemptDone, "a10", "sim/swift", syn, chair, done(synthesis, 52)),
		{Type: engine.StageDone, Stage: syn, T: ms(3500), Detail: &engine.Detail{Status: "degraded", Elapsed: ms(1399)}},
		{Type: engine.Decided, T: ms(3500), Model: "sim/swift", Text: synthesis},
		{Type: engine.SessionDone, T: ms(3501), Summary: &engine.Summary{
			Session: "s-test", Strategy: config.Council, Tier: "quick", Status: engine.StatusDegraded,
			Answer: synthesis, Degraded: []string{engine.DegradedReviewersMissing, engine.DegradedFallbackChairman},
			Stages: []engine.StageResult{
				{Name: ans, Status: "done", StartedMS: 1, ElapsedMS: 1199},
				{Name: rev, Status: "degraded", StartedMS: 1201, ElapsedMS: 899},
				{Name: syn, Status: "degraded", StartedMS: 2101, ElapsedMS: 1399},
			},
			Rankings: map[string][]string{
				"sim/swift": {"sim/steady", "sim/flaky", "sim/slow"},
				"sim/flaky": {"sim/steady", "sim/swift", "sim/slow"},
			},
			Borda:     map[string]float64{"sim/steady": 4, "sim/swift": 1, "sim/flaky": 1, "sim/slow": 0},
			Chairman:  "sim/swift",
			Synthesis: synthesis,
			CostUSD:   0.0002, Elapsed: ms(3501), ElapsedMS: 3501,
		}},
	}
	return seqEvents(evs)
}

// autoScript is the router sending a prompt to a race: sim/swift
// classifies it (a1) as code, then races (a2) against sim/steady (a3).
func autoScript(engine.SessionRequest) []engine.Event {
	cl := engine.StageClassify
	route := &engine.Route{Name: "code", Strategy: config.Race, Tier: "quick", Confidence: 0.82, Why: "classifier said code; keywords matched: func, panic"}
	return seqEvents([]engine.Event{
		{Type: engine.SessionStarted, Text: "Why does this func panic?"},
		{Type: engine.AttemptStarted, T: ms(1), Attempt: "a1", Model: "sim/swift", Stage: cl, Role: engine.RoleClassifier},
		{Type: engine.FirstToken, T: ms(80), Attempt: "a1", Model: "sim/swift", Stage: cl, Role: engine.RoleClassifier},
		{Type: engine.Delta, T: ms(90), Attempt: "a1", Model: "sim/swift", Stage: cl, Role: engine.RoleClassifier, Text: "code"},
		{Type: engine.AttemptDone, T: ms(100), Attempt: "a1", Model: "sim/swift", Stage: cl, Role: engine.RoleClassifier, Text: "code", OutputTokens: 1},
		{Type: engine.RouteChosen, T: ms(100), Detail: &engine.Detail{Route: route}},
		{Type: engine.AttemptStarted, T: ms(101), Attempt: "a2", Model: "sim/swift", Role: engine.RoleRacer},
		{Type: engine.AttemptStarted, T: ms(101), Attempt: "a3", Model: "sim/steady", Role: engine.RoleRacer},
		{Type: engine.FirstToken, T: ms(220), Attempt: "a2", Model: "sim/swift", Role: engine.RoleRacer},
		{Type: engine.Delta, T: ms(230), Attempt: "a2", Model: "sim/swift", Role: engine.RoleRacer, Text: "A nil map write panics."},
		{Type: engine.AttemptDone, T: ms(400), Attempt: "a2", Model: "sim/swift", Role: engine.RoleRacer, Text: "A nil map write panics.", OutputTokens: 6},
		{Type: engine.Decided, T: ms(400), Model: "sim/swift", Text: "A nil map write panics."},
		{Type: engine.AttemptCancelled, T: ms(401), Attempt: "a3", Model: "sim/steady", Role: engine.RoleRacer, Reason: engine.ReasonLostRace},
		{Type: engine.SessionDone, T: ms(402), Summary: &engine.Summary{
			Strategy: config.Race, Tier: "quick", Status: engine.StatusDecided, Winner: "sim/swift",
			Answer: "A nil map write panics.", Route: route, Elapsed: ms(402), ElapsedMS: 402,
		}},
	})
}
