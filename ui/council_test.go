package ui

import (
	"context"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// runScript runs one scripted session in a w×h dashboard with strategy st.
func runScript(t *testing.T, script func(engine.SessionRequest) []engine.Event, st config.Strategy, w, h int) (*Model, *fakeBackend) {
	t.Helper()
	f := newFake()
	f.script = script
	m := newTestModel(f, w, h)
	for m.strategy != st {
		press(m, "m")
	}
	press(m, "r")
	if len(f.starts) != 1 || f.starts[0].Strategy != st {
		t.Fatalf("starts = %+v, want one %s session", f.starts, st)
	}
	return m, f
}

// upTo is the council script cut before its first event matching stop,
// as the dashboard sees it mid-session.
func upTo(stop func(engine.Event) bool) func(engine.SessionRequest) []engine.Event {
	return func(req engine.SessionRequest) []engine.Event {
		evs := councilScript(req)
		i := slices.IndexFunc(evs, stop)
		return evs[:i]
	}
}

// TestCouncilPaneKeepsEveryAttempt: a model that answers, reviews and
// chairs keeps all three attempts; its text stays its stage-1 answer and
// the stage strip shows each stage's outcome.
func TestCouncilPaneKeepsEveryAttempt(t *testing.T) {
	synctest.Test(t, testCouncilPaneKeepsEveryAttempt)
}

func testCouncilPaneKeepsEveryAttempt(t *testing.T) {
	m, _ := runScript(t, councilScript, config.Council, 160, 48)
	swift := m.byID["sim/swift"]
	var ids []string
	for _, pa := range swift.atts {
		ids = append(ids, pa.id)
	}
	if got := strings.Join(ids, ","); got != "a1,a5,a10" {
		t.Fatalf("sim/swift attempts = %s, want a1,a5,a10", got)
	}
	if swift.Text() != swiftAnswer {
		t.Errorf("sim/swift pane text = %q, want its stage-1 answer", swift.Text())
	}
	if swift.Status() != "done" {
		t.Errorf("sim/swift pane status = %s, want done (its answer; the synthesis won)", swift.Status())
	}
	strips := map[string][]string{
		"sim/swift":  {"answers A ✓ 639ms", "review ✓ B>C>D", "chair ★"},
		"sim/steady": {"answers B ✓", "review ✗ invalid ranking", "chair ✗ timeout"},
		"sim/flaky":  {"answers C ✓", "review ✓ B>A>D"},
		"sim/slow":   {"answers D ✓", "review ■ decided"},
	}
	for id, want := range strips {
		got := stripANSI(m.byID[id].strip())
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s strip %q lacks %q", id, got, w)
			}
		}
	}
	if s := stripANSI(swift.View(80, 12)); !strings.Contains(s, "answers A ✓ 639ms · review ✓ B>C>D · chair ★") {
		t.Errorf("the pane does not draw its strip:\n%s", s)
	}
}

// TestHedgeSameModelBackup: a hedge whose backup is the same model keeps
// both attempts; the backup's win is what the pane shows.
func TestHedgeSameModelBackup(t *testing.T) { synctest.Test(t, testHedgeSameModelBackup) }

func testHedgeSameModelBackup(t *testing.T) {
	script := func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Attempt: "a1", Model: "sim/swift", Role: engine.RolePrimary},
			{Type: engine.Delta, Attempt: "a1", Model: "sim/swift", Role: engine.RolePrimary, T: ms(100), Text: "primary text"},
			{Type: engine.HedgeFired, T: ms(300)},
			{Type: engine.AttemptStarted, Attempt: "a2", Model: "sim/swift", Role: engine.RoleBackup, T: ms(300)},
			{Type: engine.Delta, Attempt: "a2", Model: "sim/swift", Role: engine.RoleBackup, T: ms(350), Text: "backup text"},
			{Type: engine.AttemptDone, Attempt: "a2", Model: "sim/swift", Role: engine.RoleBackup, T: ms(400), Text: "backup text"},
			{Type: engine.Decided, Model: "sim/swift", T: ms(400), Text: "backup text"},
			{Type: engine.AttemptCancelled, Attempt: "a1", Model: "sim/swift", Role: engine.RolePrimary, T: ms(401), Reason: engine.ReasonHedgeWon},
			{Type: engine.SessionDone, T: ms(402), Summary: &engine.Summary{Strategy: config.Hedge, Status: engine.StatusDecided, Winner: "sim/swift", Elapsed: ms(402)}},
		})
	}
	m, _ := runScript(t, script, config.Hedge, 160, 48)
	p := m.byID["sim/swift"]
	if len(p.atts) != 2 || p.Text() != "backup text" || p.Status() != "won" {
		t.Fatalf("pane: %d attempts, text %q, status %s; want 2, the backup's text, won", len(p.atts), p.Text(), p.Status())
	}
	if got := stripANSI(p.strip()); !strings.Contains(got, "primary ■ hedge won") || !strings.Contains(got, "backup ★") {
		t.Errorf("strip %q, want the primary cancelled and the backup won", got)
	}
	out := plain(m)
	for _, w := range []string{"sim/swift·primary", "sim/swift·backup"} {
		if !strings.Contains(out, w) {
			t.Errorf("timeline lacks the row %q:\n%s", w, out)
		}
	}
}

// TestCouncilTimelineRowPerAttempt: ten attempts, ten rows, labelled by
// stage, in stage order.
func TestCouncilTimelineRowPerAttempt(t *testing.T) {
	synctest.Test(t, testCouncilTimelineRowPerAttempt)
}

func testCouncilTimelineRowPerAttempt(t *testing.T) {
	m, _ := runScript(t, councilScript, config.Council, 160, 48)
	names := m.timeline.labels()
	var got []string
	for _, k := range m.timeline.order {
		got = append(got, names[k])
	}
	want := []string{
		"sim/swift·answers", "sim/steady·answers", "sim/flaky·answers", "sim/slow·answers",
		"sim/swift·review", "sim/steady·review", "sim/flaky·review", "sim/slow·review",
		"sim/swift·chair", "sim/steady·chair",
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("timeline rows\n%v\nwant\n%v", got, want)
	}
	tl := stripANSI(m.timeline.View(120, 14))
	for _, w := range []string{"sim/swift·chair", "won 3.50s", "sim/steady·chair", "timeout", "sim/slow·review", "decided"} {
		if !strings.Contains(tl, w) {
			t.Errorf("timeline lacks %q:\n%s", w, tl)
		}
	}
	if r := m.timeline.rows["a10"]; r.phase != phaseWon {
		t.Errorf("the fallback chairman's row is %s, want won", r.phase)
	}
	if r := m.timeline.rows["a1"]; r.phase != phaseDone {
		t.Errorf("sim/swift's answer row is %s, want done (the synthesis won, not the answer)", r.phase)
	}
}

// TestRankingTable: a row per reviewer, the invalid one marked with its
// text, the cancelled one; the Borda count as the engine computes it,
// while the review runs and from the summary.
func TestRankingTable(t *testing.T) { synctest.Test(t, testRankingTable) }

func testRankingTable(t *testing.T) {
	f := newFake()
	f.script = upTo(func(e engine.Event) bool { return e.Type == engine.SessionDone })
	m := newTestModel(f, 160, 48)
	press(m, "m", "m", "m", "r")
	live := m.rank.Borda()
	want := map[string]float64{"sim/steady": 4, "sim/swift": 1, "sim/flaky": 1, "sim/slow": 0}
	if !maps.Equal(live, want) {
		t.Errorf("live Borda = %v, want %v", live, want)
	}
	view := stripANSI(m.rank.View(90, 20))
	for _, w := range []string{
		"Rankings  2 valid · 1 invalid",
		"sim/swift    B sim/steady > C sim/flaky > D sim/slow",
		"sim/steady   ✗ invalid · no FINAL RANKING section: \"I liked the first one best",
		"sim/flaky    B sim/steady > A sim/swift > D sim/slow",
		"sim/slow     ■ cancelled · decided",
		"★ B sim/steady",
		"■ decided at 2.10s: leader cannot be caught",
	} {
		if !strings.Contains(view, w) {
			t.Errorf("ranking table lacks %q:\n%s", w, view)
		}
	}
	for _, row := range []string{"A sim/swift", "C sim/flaky", "D sim/slow"} {
		if strings.Contains(view, "★ "+row) {
			t.Errorf("%s marked the leader:\n%s", row, view)
		}
	}
	lines := strings.Split(view, "\n")
	if h := m.rank.Height(); h != len(lines) {
		t.Errorf("Height() = %d, View drew %d lines", h, len(lines))
	}
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "★ B sim/steady") && !strings.HasSuffix(strings.TrimSpace(l), " 4") {
			t.Errorf("leader row %q, want 4 points", l)
		}
	}
	// Narrow: labels only.
	if narrow := stripANSI(m.rank.View(40, 20)); !strings.Contains(narrow, "B>C>D") {
		t.Errorf("narrow table lacks the labels' order:\n%s", narrow)
	}

	// The summary's count wins once the session is done.
	m2, _ := runScript(t, councilScript, config.Council, 160, 48)
	if got := m2.rank.Borda(); !maps.Equal(got, want) {
		t.Errorf("summary Borda = %v, want %v", got, want)
	}
	if !strings.Contains(plain(m2), "B sim/steady > C sim/flaky > D sim/slow") {
		t.Errorf("the screen lacks the ranking table:\n%s", plain(m2))
	}
}

// TestSynthesisPane: the chairman's box streams exactly its deltas,
// titled by the chairman; the fallback chairman is flagged with why.
func TestSynthesisPane(t *testing.T) { synctest.Test(t, testSynthesisPane) }

func testSynthesisPane(t *testing.T) {
	f := newFake()
	f.script = upTo(func(e engine.Event) bool { return e.Type == engine.AttemptDone && e.Attempt == "a10" })
	m := newTestModel(f, 160, 48)
	press(m, "m", "m", "m", "r")
	var deltas strings.Builder
	for _, e := range councilScript(engine.SessionRequest{}) {
		if e.Type == engine.Delta && e.Attempt == "a10" {
			deltas.WriteString(e.Text)
		}
	}
	if got := m.synth.Text(); got != deltas.String() || got != synthesis {
		t.Fatalf("synthesis text = %q, want the deltas %q", got, deltas.String())
	}
	if m.synth.Title() != "synthesis · sim/swift" || !m.synth.fallback {
		t.Errorf("title %q fallback %v, want sim/swift flagged as the fallback", m.synth.Title(), m.synth.fallback)
	}
	box := stripANSI(m.synth.View(80, 10))
	for _, w := range []string{"synthesis · sim/swift", "⚑ fallback chairman", "✗ chairman sim/steady timeout → fallback", "streaming", "Circuit breakers make"} {
		if !strings.Contains(box, w) {
			t.Errorf("synthesis box lacks %q:\n%s", w, box)
		}
	}
	// A synthesis the events did not stream comes from the summary.
	f.script = func(req engine.SessionRequest) []engine.Event {
		return slices.DeleteFunc(councilScript(req), func(e engine.Event) bool { return e.Stage == engine.StageSynthesis })
	}
	press(m, "r")
	if m.synth.Title() != "synthesis · sim/swift" || m.synth.Text() != synthesis {
		t.Errorf("from the summary: title %q text %q", m.synth.Title(), m.synth.Text())
	}
	// Before the fallback: the first chairman, not flagged.
	f.script = upTo(func(e engine.Event) bool { return e.Type == engine.AttemptFailed && e.Attempt == "a9" })
	press(m, "r")
	if m.synth.Title() != "synthesis · sim/steady" || m.synth.fallback || m.synth.Text() != "Circuit breakers" {
		t.Errorf("first chairman: title %q fallback %v text %q", m.synth.Title(), m.synth.fallback, m.synth.Text())
	}
}

// TestSynthesisZoom: tab reaches the synthesis after the panes; enter
// zooms it and it scrolls like a pane.
func TestSynthesisZoom(t *testing.T) { synctest.Test(t, testSynthesisZoom) }

func testSynthesisZoom(t *testing.T) {
	long := strings.Repeat("a line of the synthesis\n", 60) + "THE END"
	script := func(req engine.SessionRequest) []engine.Event {
		evs := councilScript(req)
		for i := range evs {
			if evs[i].Attempt == "a10" && (evs[i].Type == engine.Delta || evs[i].Type == engine.AttemptDone) {
				evs[i].Text = ""
				if evs[i].Type == engine.AttemptDone {
					evs[i].Text = long
				}
			}
		}
		return evs
	}
	m, _ := runScript(t, script, config.Council, 120, 40)
	// The synthesis took the focus when the council decided; five tabs
	// go round the four panes and back to it.
	if !m.synthFocused() || m.focused() != nil {
		t.Fatalf("after the council: focus %d, want the synthesis", m.focus)
	}
	press(m, "tab", "tab", "tab", "tab", "tab")
	if !m.synthFocused() || m.focused() != nil {
		t.Fatalf("five tabs: focus %d, want the synthesis", m.focus)
	}
	press(m, "enter", "G")
	got := plain(m)
	if m.mode != modeZoom || !strings.Contains(got, "synthesis · sim/swift") || !strings.Contains(got, "THE END") {
		t.Fatalf("zoomed synthesis:\n%s", got)
	}
	press(m, "g")
	if got := plain(m); strings.Contains(got, "THE END") || !strings.Contains(got, "· lines 1-") {
		t.Fatalf("g did not scroll the synthesis to the top:\n%s", got)
	}
	press(m, "esc", "tab")
	if m.focus != 0 {
		t.Errorf("tab after the synthesis: focus %d, want the first pane", m.focus)
	}
	press(m, "j", "j")
	if !m.synthFocused() {
		t.Errorf("down from the last row: focus %d, want the synthesis", m.focus)
	}
}

// TestStageBarStates: pending, running (with its time so far), done,
// degraded, failed, each readable without colour.
func TestStageBarStates(t *testing.T) {
	c := testCtx()
	b := NewStageBar(c)
	evs := councilScript(engine.SessionRequest{})
	apply := func(stop func(engine.Event) bool) {
		for len(evs) > 0 && !stop(evs[0]) {
			b.Apply(evs[0])
			evs = evs[1:]
		}
	}
	states := func() string {
		return b.Status(engine.StageAnswers) + " " + b.Status(engine.StageReview) + " " + b.Status(engine.StageSynthesis)
	}
	if b.Active() || states() != "pending pending pending" {
		t.Fatalf("new bar: active %v, %s", b.Active(), states())
	}
	apply(func(e engine.Event) bool { return e.Type == engine.StageDone })
	c.Elapsed = ms(800)
	if got := states(); got != "running pending pending" {
		t.Errorf("in stage 1: %s", got)
	}
	if v := stripANSI(b.View(120, 1)); !strings.Contains(v, "◐ answers 799ms… ─ ○ review ─ ○ synthesis") {
		t.Errorf("in stage 1 the bar is %q", v)
	}
	apply(func(e engine.Event) bool { return e.Type == engine.StageStarted && e.Stage == engine.StageSynthesis })
	if got := states(); got != "done degraded pending" {
		t.Errorf("after review: %s", got)
	}
	if v := stripANSI(b.View(120, 1)); !strings.Contains(v, "● answers 1.20s ─ ◒ review 899ms degraded ─ ○ synthesis") {
		t.Errorf("after review the bar is %q", v)
	}
	b.Apply(engine.Event{Type: engine.StageStarted, Stage: engine.StageSynthesis, T: ms(2101)})
	b.Apply(engine.Event{Type: engine.StageDone, Stage: engine.StageSynthesis, T: ms(3000), Detail: &engine.Detail{Status: "failed", Elapsed: ms(899)}})
	if v := stripANSI(b.View(120, 1)); !strings.Contains(v, "✗ synthesis failed") {
		t.Errorf("a failed stage reads %q", v)
	}
	// A session cancelled mid-stage: the running stage is cancelled.
	b.Apply(engine.Event{Type: engine.SessionStarted})
	b.Apply(engine.Event{Type: engine.StageStarted, Stage: engine.StageAnswers})
	b.Apply(engine.Event{Type: engine.SessionDone, T: ms(500), Summary: &engine.Summary{Status: engine.StatusCancelled}})
	if got := states(); got != "cancelled pending pending" {
		t.Errorf("cancelled in stage 1: %s", got)
	}
}

// TestCouncilHeaderAndStatus: the strategy, the degraded reasons and the
// verdict on the prompt line.
func TestCouncilHeaderAndStatus(t *testing.T) { synctest.Test(t, testCouncilHeaderAndStatus) }

func testCouncilHeaderAndStatus(t *testing.T) {
	m, _ := runScript(t, councilScript, config.Council, 160, 48)
	lines := strings.Split(plain(m), "\n")
	for _, w := range []string{"strategy council", "degraded: reviewers_missing, fallback_chairman"} {
		if !strings.Contains(lines[0], w) {
			t.Errorf("header %q lacks %q", lines[0], w)
		}
	}
	if !strings.Contains(lines[1], "✓ degraded: synthesis by sim/swift in 3.50s") {
		t.Errorf("prompt line %q, want the verdict", lines[1])
	}
	if out := m.render(); strings.Contains(out, "\x1b[3") || strings.Contains(out, "\x1b[38") {
		t.Error("the colourless theme emits colour codes in a council")
	}
	if !strings.Contains(lines[2], "Stages  ● answers 1.20s ─ ◒ review 899ms degraded ─ ◒ synthesis 1.40s degraded") {
		t.Errorf("line 3 %q, want the stage bar", lines[2])
	}
}

// TestAutoRoute: the route in the header and the verdict, its why in the
// help; the classifier's attempt does not take the racer's pane.
func TestAutoRoute(t *testing.T) { synctest.Test(t, testAutoRoute) }

func testAutoRoute(t *testing.T) {
	m, _ := runScript(t, autoScript, config.Auto, 160, 48)
	lines := strings.Split(plain(m), "\n")
	if !strings.Contains(lines[0], "strategy auto → code (race) 0.82") {
		t.Errorf("header %q lacks the route", lines[0])
	}
	if !strings.Contains(lines[1], "✓ decided: sim/swift won (auto → code) in 402ms") {
		t.Errorf("prompt line %q lacks the route", lines[1])
	}
	if m.council() {
		t.Error("an auto session routed to a race has the council's screen")
	}
	// Once the verdict has gone from the prompt line, the route's why stays.
	status := m.status
	m.status = ""
	if l := strings.Split(plain(m), "\n")[1]; !strings.Contains(l, "classifier said code; keywords matched") {
		t.Errorf("prompt line %q lacks the route's why once no status is shown", l)
	}
	m.status = status
	swift := m.byID["sim/swift"]
	if swift.Text() != "A nil map write panics." || swift.Status() != "won" || len(swift.atts) != 2 {
		t.Errorf("sim/swift pane: text %q status %s, %d attempts; want the racer's answer, won, 2", swift.Text(), swift.Status(), len(swift.atts))
	}
	if got := stripANSI(swift.strip()); got != "classify ✓ 99ms · racer ★ 299ms" {
		t.Errorf("strip %q", got)
	}
	narrow, _ := runScript(t, autoScript, config.Auto, 80, 24)
	if head := strings.Split(plain(narrow), "\n")[0]; !strings.Contains(head, "auto→race") {
		t.Errorf("narrow header %q lacks auto→race", head)
	}
	press(m, "?")
	if got := plain(m); !strings.Contains(got, "Route: auto → code (race) 0.82, tier quick — classifier said code; keywords matched: func, panic") {
		t.Errorf("help lacks the route's why:\n%s", got)
	}
	press(m, "esc", "enter")
	if got := plain(m); !strings.Contains(got, "classifier said code") {
		t.Errorf("zoom lacks the route's why:\n%s", got)
	}
	// A classifier framed by stage events is not a council stage.
	framed := func(req engine.SessionRequest) []engine.Event {
		evs := autoScript(req)
		evs = slices.Insert(evs, 1, engine.Event{Type: engine.StageStarted, Stage: engine.StageClassify})
		i := slices.IndexFunc(evs, func(e engine.Event) bool { return e.Type == engine.RouteChosen })
		return seqEvents(slices.Insert(evs, i, engine.Event{Type: engine.StageDone, Stage: engine.StageClassify, Detail: &engine.Detail{Status: "done"}, T: ms(100)}))
	}
	if fm, _ := runScript(t, framed, config.Auto, 160, 48); fm.council() || strings.Contains(plain(fm), "Stages") {
		t.Errorf("a framed classifier turned the race into a council screen:\n%s", plain(fm))
	}
	// While it runs, before the summary: the status line says the route.
	f := newFake()
	f.script = func(req engine.SessionRequest) []engine.Event {
		evs := autoScript(req)
		return evs[:slices.IndexFunc(evs, func(e engine.Event) bool { return e.Type == engine.RouteChosen })+1]
	}
	m = newTestModel(f, 120, 40)
	press(m, "m", "m", "m", "m", "r")
	if !strings.Contains(m.status, "auto → code (race) 0.82") {
		t.Errorf("status %q, want the route", m.status)
	}
}

// TestCancelledIsNotFailed: a session the user cancels says cancelled in
// the header, on the prompt line and in the stage bar, never failed.
func TestCancelledIsNotFailed(t *testing.T) { synctest.Test(t, testCancelledIsNotFailed) }

func testCancelledIsNotFailed(t *testing.T) {
	f := newFake()
	f.live = true
	f.script = func(engine.SessionRequest) []engine.Event {
		return []engine.Event{{Type: engine.SessionStarted}, {Type: engine.StageStarted, Stage: engine.StageAnswers},
			{Type: engine.AttemptStarted, Attempt: "a1", Model: "sim/slow", Stage: engine.StageAnswers, Role: engine.RoleCouncil}}
	}
	m := newTestModel(f, 120, 40)
	l := newLoop(t, m)
	defer l.close()
	l.send(keyMsg("r"))
	l.until(func() bool { return m.byID["sim/slow"].Status() == "connecting" })
	l.send(keyMsg("esc"))
	if f.ctxs[0].Err() != context.Canceled {
		t.Fatal("esc did not cancel the session")
	}
	l.until(func() bool { return !m.running })
	lines := strings.Split(plain(m), "\n")
	for i, w := range []string{"■ cancelled", "■ cancelled", "■ answers cancelled"} {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d %q lacks %q", i+1, lines[i], w)
		}
		if strings.Contains(lines[i], "failed") {
			t.Errorf("line %d %q says failed", i+1, lines[i])
		}
	}
	if m.statusErr {
		t.Error("a cancel is shown as an error")
	}
}

// TestCouncilCompact: at 80×24 one line per member, the stage bar, the
// synthesis in the rows left, the Borda line.
func TestCouncilCompact(t *testing.T) { synctest.Test(t, testCouncilCompact) }

func testCouncilCompact(t *testing.T) {
	m, _ := runScript(t, councilScript, config.Council, 80, 24)
	lines := strings.Split(plain(m), "\n")
	if len(lines) != 24 {
		t.Fatalf("%d lines", len(lines))
	}
	if !strings.HasPrefix(lines[6], "Stages  ● answers") {
		t.Errorf("line 7 %q, want the stage bar", lines[6])
	}
	if !strings.HasPrefix(lines[7], "── synthesis · sim/swift ★ won ⚑ fallback chairman") {
		t.Errorf("line 8 %q, want the synthesis' rule", lines[7])
	}
	got := strings.Join(lines, "\n")
	for _, w := range []string{"Circuit breakers make a distributed system", "Borda  ★ B sim/steady 4", "sim/swift·chair"} {
		if !strings.Contains(got, w) {
			t.Errorf("compact council lacks %q:\n%s", w, got)
		}
	}
	for i, l := range strings.Split(m.render(), "\n") {
		if w := ansiWidth(l); w > 80 {
			t.Errorf("line %d is %d wide", i, w)
		}
	}
}

// TestCouncilFitsEverySize: every frame of a council fills the terminal
// exactly, mid-session and done.
func TestCouncilFitsEverySize(t *testing.T) { synctest.Test(t, testCouncilFitsEverySize) }

func testCouncilFitsEverySize(t *testing.T) {
	mid := upTo(func(e engine.Event) bool { return e.Type == engine.AttemptDone && e.Attempt == "a7" })
	for _, script := range []func(engine.SessionRequest) []engine.Event{mid, councilScript} {
		for _, sz := range [][2]int{{60, 16}, {80, 24}, {100, 30}, {120, 40}, {160, 48}, {200, 50}} {
			m, _ := runScript(t, script, config.Council, sz[0], sz[1])
			lines := strings.Split(m.render(), "\n")
			if len(lines) != sz[1] {
				t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
			}
			for i, l := range lines {
				if w := ansiWidth(l); w > sz[0] {
					t.Errorf("%dx%d: line %d is %d wide: %q", sz[0], sz[1], i, w, stripANSI(l))
				}
			}
		}
	}
}

// withAttemptIDs gives a script's attempt events the ids the engine now
// sends ("a1", "a2"... per model in launch order, one attempt each).
func withAttemptIDs(script func(engine.SessionRequest) []engine.Event) func(engine.SessionRequest) []engine.Event {
	return func(req engine.SessionRequest) []engine.Event {
		evs := script(req)
		ids := map[string]string{}
		for i, e := range evs {
			switch e.Type {
			case engine.SessionStarted, engine.SessionDone, engine.Decided, engine.BreakerChanged, engine.HedgeFired:
				continue
			}
			if e.Model == "" {
				continue
			}
			if ids[e.Model] == "" {
				ids[e.Model] = "a" + string(rune('1'+len(ids)))
			}
			evs[i].Attempt = ids[e.Model]
		}
		return evs
	}
}

// TestOneStageUnchangedByAttemptIDs: a race or a consensus draws the same
// frame whether or not its events carry attempt ids.
func TestOneStageUnchangedByAttemptIDs(t *testing.T) {
	synctest.Test(t, testOneStageUnchangedByAttemptIDs)
}

func testOneStageUnchangedByAttemptIDs(t *testing.T) {
	for _, tc := range []struct {
		script func(engine.SessionRequest) []engine.Event
		st     config.Strategy
	}{{raceScript, config.Race}, {consensusScript, config.Consensus}} {
		for _, sz := range [][2]int{{160, 48}, {80, 24}} {
			old, _ := runScript(t, tc.script, tc.st, sz[0], sz[1])
			now, _ := runScript(t, withAttemptIDs(tc.script), tc.st, sz[0], sz[1])
			if a, b := plain(old), plain(now); a != b {
				t.Errorf("%s %v: with attempt ids the frame differs:\n%s\nwithout:\n%s", tc.st, sz, b, a)
			}
		}
	}
}

// TestRankingLeaderTieFollowsTheEngine: on a Borda tie the star follows
// the engine's rule: the better average rank; then, while the session
// runs, the answer that came first, and once it is done the tied answer
// whose model chairs (the engine's seeded draw put it first).
func TestRankingLeaderTieFollowsTheEngine(t *testing.T) {
	c := &Context{AttemptModel: map[string]string{"a1": "m1", "a2": "m2", "a3": "m3"}}
	start := []engine.Event{
		{Type: engine.AttemptStarted, Attempt: "a1", Model: "m1", Stage: engine.StageAnswers},
		{Type: engine.AttemptStarted, Attempt: "a2", Model: "m2", Stage: engine.StageAnswers},
		{Type: engine.AttemptStarted, Attempt: "a3", Model: "m3", Stage: engine.StageAnswers},
		{Type: engine.AttemptDone, Attempt: "a2", Model: "m2", Stage: engine.StageAnswers},
		{Type: engine.AttemptDone, Attempt: "a1", Model: "m1", Stage: engine.StageAnswers},
		{Type: engine.AttemptDone, Attempt: "a3", Model: "m3", Stage: engine.StageAnswers},
	}
	apply := func(evs ...engine.Event) *RankingTable {
		r := NewRankingTable(c)
		for _, ev := range append(slices.Clone(start), evs...) {
			r.Apply(ev)
		}
		return r
	}
	// a1 and a2 have 1 point each; a1 was first on its one ballot, a2
	// first on one and last on the other.
	r := apply(
		engine.Event{Type: engine.RankingCast, Model: "m3", Detail: &engine.Detail{Reviewer: "a4", Ranking: []string{"a1", "a2"}}},
		engine.Event{Type: engine.RankingCast, Model: "m1", Detail: &engine.Detail{Reviewer: "a5", Ranking: []string{"a2", "a3"}}},
	)
	if got := r.leader(); got != "a1" {
		t.Errorf("leader %s, want a1 (tied with a2 on 1 point, with the better average rank)", got)
	}
	// A cycle: all on 1 point, all on average 1/2.
	cycle := []engine.Event{
		{Type: engine.RankingCast, Model: "m1", Detail: &engine.Detail{Reviewer: "a4", Ranking: []string{"a2", "a3"}}},
		{Type: engine.RankingCast, Model: "m2", Detail: &engine.Detail{Reviewer: "a5", Ranking: []string{"a3", "a1"}}},
		{Type: engine.RankingCast, Model: "m3", Detail: &engine.Detail{Reviewer: "a6", Ranking: []string{"a1", "a2"}}},
	}
	if got := apply(cycle...).leader(); got != "a2" {
		t.Errorf("live leader %s, want a2 (a three-way tie: the answer that came first, until the draw is known)", got)
	}
	done := engine.Event{Type: engine.SessionDone, Summary: &engine.Summary{
		Borda: map[string]float64{"m1": 1, "m2": 1, "m3": 1}, Chairman: "m3", TieBreak: "borda tie: seeded draw"}}
	if got := apply(append(cycle, done)...).leader(); got != "a3" {
		t.Errorf("final leader %s, want a3 (the draw chose m3, which chairs)", got)
	}
}

// TestHedgeReplacedPrimary: a primary the hedge replaced (cancelled at the
// knee, its backup asked in its place) is drawn cancelled, replaced, in
// its pane and on the timeline, never as failed.
func TestHedgeReplacedPrimary(t *testing.T) { synctest.Test(t, testHedgeReplacedPrimary) }

func testHedgeReplacedPrimary(t *testing.T) {
	script := func(engine.SessionRequest) []engine.Event {
		return seqEvents([]engine.Event{
			{Type: engine.SessionStarted},
			{Type: engine.AttemptStarted, Attempt: "a1", Model: "sim/straggler", Role: engine.RolePrimary},
			{Type: engine.HedgeFired, Model: "sim/swift", T: ms(1900), Delay: ms(1900), Reason: engine.ReasonReplaced},
			{Type: engine.AttemptCancelled, Attempt: "a1", Model: "sim/straggler", Role: engine.RolePrimary, T: ms(1900), Reason: engine.ReasonReplaced},
			{Type: engine.AttemptStarted, Attempt: "a2", Model: "sim/swift", Role: engine.RoleBackup, T: ms(1900)},
			{Type: engine.Delta, Attempt: "a2", Model: "sim/swift", Role: engine.RoleBackup, T: ms(2100), Text: "backup text"},
			{Type: engine.AttemptDone, Attempt: "a2", Model: "sim/swift", Role: engine.RoleBackup, T: ms(2700), Text: "backup text"},
			{Type: engine.Decided, Model: "sim/swift", T: ms(2700), Text: "backup text"},
			{Type: engine.SessionDone, T: ms(2701), Summary: &engine.Summary{Strategy: config.Hedge, Status: engine.StatusDecided,
				Winner: "sim/swift", Elapsed: ms(2701), HedgeFired: true, HedgeReplaced: true}},
		})
	}
	m, _ := runScript(t, script, config.Hedge, 160, 48)
	p := m.byID["sim/straggler"]
	if p == nil {
		t.Fatalf("no pane for sim/straggler")
	}
	if got := p.Status(); got != "cancelled" {
		t.Errorf("primary's pane status %q, want cancelled", got)
	}
	out := plain(m)
	var row string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "sim/straggler") && strings.Contains(l, "■") {
			row = l
		}
	}
	if !strings.Contains(row, "replaced") || strings.Contains(row, "fail") {
		t.Errorf("the primary's timeline row %q: want ■ replaced, not failed\n%s", row, out)
	}
	if !strings.Contains(out, "cancelled · replaced") {
		t.Errorf("the primary's pane does not say cancelled · replaced:\n%s", out)
	}
}

// A stage-1 answer cancelled before it answered (the council moved on
// with min_responses) was never reviewed: the Borda count says it has no
// answer rather than drawing it at 0 points beside the answers ranked last.
func TestRankingSaysAnUnansweredMemberHasNoAnswer(t *testing.T) {
	c := testCtx()
	c.AttemptModel = map[string]string{"a1": "sim/sage", "a2": "sim/straggler", "a3": "sim/steady", "a4": "sim/flaky"}
	c.Labels = map[string]string{"a1": "A", "a2": "B", "a3": "C", "a4": "D"}
	r := NewRankingTable(c)
	for _, ev := range []engine.Event{
		{Type: engine.AttemptStarted, Attempt: "a1", Model: "sim/sage", Stage: engine.StageAnswers},
		{Type: engine.AttemptStarted, Attempt: "a2", Model: "sim/straggler", Stage: engine.StageAnswers},
		{Type: engine.AttemptStarted, Attempt: "a3", Model: "sim/steady", Stage: engine.StageAnswers},
		{Type: engine.AttemptStarted, Attempt: "a4", Model: "sim/flaky", Stage: engine.StageAnswers},
		{Type: engine.AttemptDone, Attempt: "a2", Model: "sim/straggler", Stage: engine.StageAnswers},
		{Type: engine.AttemptDone, Attempt: "a3", Model: "sim/steady", Stage: engine.StageAnswers},
		{Type: engine.AttemptDone, Attempt: "a4", Model: "sim/flaky", Stage: engine.StageAnswers},
		{Type: engine.AttemptCancelled, Attempt: "a1", Model: "sim/sage", Stage: engine.StageAnswers, Reason: engine.ReasonDecided},
		{Type: engine.RankingCast, Model: "sim/steady", Detail: &engine.Detail{Reviewer: "a5", Ranking: []string{"a2", "a4"}}},
		{Type: engine.RankingCast, Model: "sim/straggler", Detail: &engine.Detail{Reviewer: "a6", Ranking: []string{"a4", "a3"}}},
		{Type: engine.SessionDone, Summary: &engine.Summary{Borda: map[string]float64{"sim/flaky": 1, "sim/steady": 0, "sim/straggler": 1}}},
	} {
		r.Apply(ev)
	}
	for what, out := range map[string]string{"table": stripANSI(r.View(100, 12)), "line": stripANSI(r.Line(160))} {
		if !regexp.MustCompile(`A sim/sage +no answer`).MatchString(out) || regexp.MustCompile(`A sim/sage[ ░]*0\b`).MatchString(out) {
			t.Errorf("%s: want sim/sage (cancelled before answering) shown without points:\n%s", what, out)
		}
		if !regexp.MustCompile(`C sim/steady[ ░]*0\b`).MatchString(out) {
			t.Errorf("%s: want sim/steady at 0, ranked last:\n%s", what, out)
		}
	}
}
