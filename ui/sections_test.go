package ui

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
)

// sectionScript is a section session of three sections: S1 done, S2
// retried then done, S3 voted with a disagreement; merged by concat.
func sectionScript(engine.SessionRequest) []engine.Event {
	plan := []engine.SectionResult{{Index: 1, Title: "Fees", Status: "pending"}, {Index: 2, Title: "Term", Status: "pending"}, {Index: 3, Title: "Liability", Status: "pending"}}
	sec := func(t int, r engine.SectionResult) engine.Event {
		return engine.Event{Type: engine.SectionChanged, Stage: engine.StageSections, T: ms(t), Model: r.Model, Detail: &engine.Detail{Section: &r}}
	}
	done := []engine.SectionResult{
		{Index: 1, Title: "Fees", Model: "sim/swift", Status: "done", ElapsedMS: 1000, Text: "fees"},
		{Index: 2, Title: "Term", Model: "sim/steady", Status: "done", ElapsedMS: 2000, Retried: true, Text: "term"},
		{Index: 3, Title: "Liability", Model: "sim/swift", Status: "done", ElapsedMS: 3000, Votes: []string{"risk", "ok", "risk"}, Verdict: "risk", Disagree: true, Text: "liab"},
	}
	answer := "## Fees\n\nfees\n\n## Term\n\nterm\n\n## Liability [risk]\n\nliab"
	evs := []engine.Event{
		{Type: engine.SessionStarted},
		{Type: engine.StageStarted, Stage: engine.StageSections},
		{Type: engine.SectionChanged, Stage: engine.StageSections, Detail: &engine.Detail{Sections: plan}},
		{Type: engine.AttemptStarted, Model: "sim/swift", Attempt: "a1", Role: engine.RoleSection, Stage: engine.StageSections},
		sec(0, engine.SectionResult{Index: 1, Title: "Fees", Model: "sim/swift", Status: "running"}),
		{Type: engine.AttemptDone, Model: "sim/swift", Attempt: "a1", Role: engine.RoleSection, Stage: engine.StageSections, T: ms(1000), Text: "fees"},
		sec(1000, done[0]),
		sec(1500, engine.SectionResult{Index: 2, Title: "Term", Model: "sim/steady", Status: "retrying", Retried: true}),
		sec(2000, done[1]),
		sec(3000, done[2]),
		{Type: engine.StageDone, Stage: engine.StageSections, T: ms(3000), Detail: &engine.Detail{Status: "done", Elapsed: ms(3000)}},
		{Type: engine.StageStarted, Stage: engine.StageMerge, T: ms(3000)},
		{Type: engine.StageDone, Stage: engine.StageMerge, T: ms(3000), Detail: &engine.Detail{Status: "done"}},
		{Type: engine.Decided, T: ms(3000), Text: answer},
		{Type: engine.SessionDone, T: ms(3000), Summary: &engine.Summary{Strategy: config.Section, Status: engine.StatusDecided, Answer: answer,
			Elapsed: ms(3000), ElapsedMS: 3000, Sections: done, Merge: &engine.MergeResult{Mode: config.MergeConcat, Status: "done"},
			SerialMS: 9000, SavedMS: 6000, Stages: []engine.StageResult{{Name: engine.StageSections, Status: "done", ElapsedMS: 3000}, {Name: engine.StageMerge, Status: "done"}}}},
	}
	return seqEvents(evs)
}

func TestSectionListFillsIn(t *testing.T) {
	c := testCtx()
	l := NewSectionList(c)
	evs := sectionScript(engine.SessionRequest{})
	for _, ev := range evs[:5] {
		l.Apply(ev)
	}
	v := stripANSI(l.View(100, 6))
	if !l.Active() || !strings.Contains(v, "sections 0/3") || !strings.Contains(v, "Fees") || !strings.Contains(v, "running") || !strings.Contains(v, "○ Term") {
		t.Fatalf("mid-session list:\n%s", v)
	}
	if l.Saved() != "" {
		t.Errorf("saved %q before the sections are done", l.Saved())
	}
	for _, ev := range evs[5:8] {
		l.Apply(ev)
	}
	if v := stripANSI(l.View(100, 6)); !strings.Contains(v, "↻ Term") || !strings.Contains(v, "✓ Fees") {
		t.Errorf("a retrying section:\n%s", v)
	}
	for _, ev := range evs[8:11] {
		l.Apply(ev)
	}
	if l.Saved() != "" {
		t.Errorf("saved %q before the session's wall clock is known (the merge is still to come)", l.Saved())
	}
	for _, ev := range evs[11:] {
		l.Apply(ev)
	}
	v = stripANSI(l.View(100, 6))
	for _, want := range []string{"sections 3/3", "✓ Liability", "⚖ risk (risk,ok,risk) ⚑", "3s", "sim/steady"} {
		if !strings.Contains(v, want) {
			t.Errorf("final list lacks %q:\n%s", want, v)
		}
	}
	if got := l.Saved(); got != "3.0 s instead of 9.0 s" {
		t.Errorf("saved %q", got)
	}
	if s := stripANSI(l.StageLine(120)); !strings.Contains(s, "● sections 3s ─ ● merge") || !strings.Contains(s, "3/3 sections · 3.0 s instead of 9.0 s") {
		t.Errorf("stage line %q", s)
	}
	if mv := stripANSI(l.MergeView(60, 8)); !strings.Contains(mv, "merge · concat") || !strings.Contains(mv, "## Fees") {
		t.Errorf("merge pane:\n%s", mv)
	}
	// A new session empties it.
	l.Apply(engine.Event{Type: engine.SessionStarted})
	if l.Active() || len(l.rows) != 0 {
		t.Error("the list outlived its session")
	}
}

// With --input the m key reaches section; without, it never does (the
// strategy needs a document).
func TestSectionOnlyWithADocument(t *testing.T) { synctest.Test(t, testSectionOnlyWithADocument) }

func testSectionOnlyWithADocument(t *testing.T) {
	f := newFake()
	m := newTestModel(f, 160, 48)
	if slices.Contains(m.strategies, config.Section) || m.strategy == config.Section {
		t.Fatalf("without a document the cycle has section: %v", m.strategies)
	}
	m = New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Summarise", Document: "# A\na\n"})
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
	if m.strategy != config.Section || !slices.Contains(m.strategies, config.Section) {
		t.Fatalf("with a document: strategy %s cycle %v", m.strategy, m.strategies)
	}
	f.script = sectionScript
	press(m, "r")
	if len(f.starts) != 1 || f.starts[0].Document != "# A\na\n" || f.starts[0].Strategy != config.Section {
		t.Fatalf("starts %+v", f.starts)
	}
	for _, size := range [][2]int{{160, 48}, {80, 24}} {
		m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		out := plain(m)
		lines := strings.Split(out, "\n")
		if len(lines) > size[1] {
			t.Errorf("%dx%d: %d lines", size[0], size[1], len(lines))
		}
		for _, want := range []string{"3.0 s instead of 9.0 s", "sections 3/3", "merge · concat", "Liability"} {
			if !strings.Contains(out, want) {
				t.Errorf("%dx%d lacks %q:\n%s", size[0], size[1], want, out)
			}
		}
		if !strings.Contains(lines[0], "3.0 s instead of 9.0 s") {
			t.Errorf("%dx%d header %q lacks the time saved", size[0], size[1], lines[0])
		}
		for _, l := range lines {
			if w := len([]rune(l)); w > size[0] {
				t.Errorf("%dx%d: a line of %d runes: %q", size[0], size[1], w, l)
			}
		}
	}
}

// A missing section reads ✗ with its status; the merge pane shows the
// answer as decided, its MISSING line first.
func TestSectionListMissing(t *testing.T) {
	l := NewSectionList(testCtx())
	l.Apply(engine.Event{Type: engine.SessionStarted})
	l.Apply(engine.Event{Type: engine.SectionChanged, Detail: &engine.Detail{Sections: []engine.SectionResult{{Index: 1, Title: "A", Status: "pending"}, {Index: 2, Title: "B", Status: "pending"}}}})
	l.Apply(engine.Event{Type: engine.SectionChanged, Detail: &engine.Detail{Section: &engine.SectionResult{Index: 2, Title: "B", Model: "sim/flaky", Status: "failed", Retried: true, Error: "x"}}})
	if v := stripANSI(l.View(80, 4)); !strings.Contains(v, "✗ B") || !strings.Contains(v, "failed") || !strings.Contains(v, "↻") {
		t.Errorf("a missing section:\n%s", v)
	}
	l.Apply(engine.Event{Type: engine.SessionDone, Summary: &engine.Summary{Status: engine.StatusDegraded, Answer: "MISSING 1 of 2 sections, not covered below: B.\n\nthe rest",
		Sections: []engine.SectionResult{{Index: 1, Title: "A", Status: "done"}, {Index: 2, Title: "B", Status: "failed"}},
		Merge:    &engine.MergeResult{Mode: "synthesis", Model: "sim/sage", Status: "degraded", Missing: []string{"B"}}}})
	if v := stripANSI(l.MergeView(80, 6)); !strings.Contains(v, "MISSING 1 of 2 sections") || !strings.Contains(v, "merge · synthesis · sim/sage") || !strings.Contains(v, "⚑ merge degraded") {
		t.Errorf("merge pane:\n%s", v)
	}
}

// longSectionScript is sectionScript with a merged result of many lines,
// its last one "END-OF-MERGE", and each section's attempt id.
func longSectionScript(req engine.SessionRequest) []engine.Event {
	evs := sectionScript(req)
	var b strings.Builder
	for i := 1; i <= 24; i++ {
		fmt.Fprintf(&b, "## Section %d\n\nThe finding of section %d, in a sentence or two that wrap.\n\n", i, i)
	}
	b.WriteString("ENDOFMERGE")
	answer := b.String()
	for i := range evs {
		ev := &evs[i]
		if r := detail(*ev).Section; r != nil && r.Model != "" {
			r.Attempt = fmt.Sprintf("a%d", r.Index)
		}
		if ev.Type == engine.Decided {
			ev.Text = answer
		}
		if s := ev.Summary; s != nil {
			s.Answer = answer
		}
	}
	return evs
}

func newSectionModel(t *testing.T, f *fakeBackend, w, h int) *Model {
	t.Helper()
	doc, err := os.ReadFile("../testdata/contract.md")
	if err != nil {
		t.Fatal(err)
	}
	m := New(f, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Review each clause",
		Document: string(doc), DocumentName: "contract.md"})
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// Before the first run the section screen shows the document loaded: how
// many sections, from which file, and their titles; never "0/0".
func TestSectionScreenShowsTheDocumentBeforeARun(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, size := range [][2]int{{160, 48}, {80, 24}} {
			m := newSectionModel(t, newFake(), size[0], size[1])
			out := plain(m)
			for _, want := range []string{"9 sections from contract.md", "Services Agreement", "1. Services"} {
				if !strings.Contains(out, want) {
					t.Errorf("%dx%d: before a run the screen lacks %q:\n%s", size[0], size[1], want, out)
				}
			}
			if strings.Contains(out, "0/0") {
				t.Errorf("%dx%d: before a run the screen says 0/0:\n%s", size[0], size[1], out)
			}
		}
	})
}

// The merged result is read to its end: it has the focus once merged,
// scrolls (j/k, pgdn, G/g, the wheel), zooms (enter) and copies (y); tab
// goes between the list and the merge only, never to a model not drawn.
func TestSectionMergeReadsToItsEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, size := range [][2]int{{160, 48}, {80, 24}} {
			f := newFake()
			f.script = longSectionScript
			m := newSectionModel(t, f, size[0], size[1])
			press(m, "esc", "r")
			out := plain(m)
			if !strings.Contains(out, "## Section 1") || strings.Contains(out, "ENDOFMERGE") || !strings.Contains(out, "lines 1-") {
				t.Fatalf("%dx%d: the merge should open at its top, saying which lines it shows:\n%s", size[0], size[1], out)
			}
			press(m, "G")
			if out := plain(m); !strings.Contains(out, "ENDOFMERGE") {
				t.Errorf("%dx%d: G does not reach the merge's end:\n%s", size[0], size[1], out)
			}
			press(m, "g", "j")
			if m.sections.mergeOff != 1 {
				t.Errorf("%dx%d: j on the merge: offset %d, want 1", size[0], size[1], m.sections.mergeOff)
			}
			press(m, "pgdown")
			if m.sections.mergeOff <= 1 {
				t.Errorf("%dx%d: pgdown on the merge: offset %d", size[0], size[1], m.sections.mergeOff)
			}
			press(m, "g")
			m.Update(tea.MouseWheelMsg{X: 5, Y: size[1] - 4, Button: tea.MouseWheelDown})
			if m.sections.mergeOff != wheelStep {
				t.Errorf("%dx%d: the wheel on the merge: offset %d, want %d", size[0], size[1], m.sections.mergeOff, wheelStep)
			}
			press(m, "y")
			if !strings.Contains(m.status, "copied the merged result") {
				t.Errorf("%dx%d: y on the merge: status %q", size[0], size[1], m.status)
			}
			press(m, "enter")
			if out := plain(m); m.mode != modeZoom || !strings.Contains(out, "merge") || !strings.Contains(out, "## Section 1") {
				t.Fatalf("%dx%d: enter on the merge does not zoom it:\n%s", size[0], size[1], out)
			}
			press(m, "G")
			if out := plain(m); !strings.Contains(out, "ENDOFMERGE") {
				t.Errorf("%dx%d: the zoomed merge does not scroll to its end:\n%s", size[0], size[1], out)
			}
			press(m, "esc")
			// tab: the list, then the merge again; never a model's pane.
			for i, want := range []sectionFocus{focusSectionList, focusMerge, focusSectionList} {
				press(m, "tab")
				if m.sections.focus != want || m.focused() != nil {
					t.Errorf("%dx%d: tab %d: focus %v (pane %v), want %v", size[0], size[1], i+1, m.sections.focus, m.focused(), want)
				}
			}
		}
	})
}

// The section list has the keys: j/k pick a section, enter shows its
// attempts (which model, how it ended, its text), y copies its answer; a
// click on a row picks it.
func TestSectionListIsFocusable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.script = longSectionScript
		m := newSectionModel(t, f, 160, 48)
		press(m, "esc", "r", "tab")
		if m.sections.focus != focusSectionList || m.sections.sel != 0 {
			t.Fatalf("tab from the merge: focus %v sel %d", m.sections.focus, m.sections.sel)
		}
		press(m, "j", "j")
		if m.sections.sel != 2 {
			t.Errorf("j j: row %d, want 2", m.sections.sel)
		}
		if out := plain(m); !strings.Contains(out, "▶") {
			t.Errorf("the selected row is not marked:\n%s", out)
		}
		press(m, "k")
		press(m, "y")
		if !strings.Contains(m.status, "copied section 2") {
			t.Errorf("y on a row: status %q", m.status)
		}
		press(m, "enter")
		out := plain(m)
		for _, want := range []string{"Term", "sim/steady", "↻ retried", "term"} {
			if m.mode != modeZoom || !strings.Contains(out, want) {
				t.Errorf("enter on section 2: mode %s, the zoom lacks %q:\n%s", m.mode, want, out)
			}
		}
		press(m, "esc")
		// A click on the first row picks it.
		y := -1
		for i, l := range strings.Split(plain(m), "\n") {
			if strings.Contains(l, "Fees") && strings.Contains(l, "sim/swift") {
				y = i
			}
		}
		if y < 0 {
			t.Fatal("no Fees row on screen")
		}
		m.Update(tea.MouseClickMsg{X: 10, Y: y, Button: tea.MouseLeft})
		if m.sections.focus != focusSectionList || m.sections.sel != 0 {
			t.Errorf("a click on the Fees row: focus %v sel %d", m.sections.focus, m.sections.sel)
		}
	})
}

// enter on a voted section shows each of its runs: the attempt, its
// model, how it ended and its text.
func TestSectionRowShowsEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := config.Demo()
		eng := simEngine(t, cfg)
		doc, _ := os.ReadFile("../testdata/contract.md")
		m := New(eng, Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Review each clause",
			Document: string(doc), DocumentName: "contract.md"})
		m.Update(tea.WindowSizeMsg{Width: 160, Height: 48})
		press(m, "esc", "r")
		if m.running || m.summary == nil {
			t.Fatal("the section session did not end")
		}
		i := slices.IndexFunc(m.summary.Sections, func(r engine.SectionResult) bool { return len(r.Votes) == 3 })
		if i < 0 {
			t.Fatalf("no voted section in %+v", m.summary.Sections)
		}
		press(m, "tab")
		for range i {
			press(m, "j")
		}
		press(m, "enter")
		out := plain(m)
		if n := strings.Count(out, "── a"); n != 3 {
			t.Errorf("section %d, voted three times: %d attempts shown:\n%s", i+1, n, out)
		}
	})
}

// The document is named by its file's name, not the path it was given by,
// and the stage strip is never cut for it: at 80 columns a long name is
// cut with "…" beside the whole strip (a name too long took the
// whole line, strip and all, before).
func TestSectionDocumentNameLeavesTheStagesWhole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		doc, err := os.ReadFile("../testdata/contract.md")
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, want string }{
			{"/work/wt/screens3/testdata/contract.md", "9 sections from contract.md"},
			{"docs/northwind-retail-services-agreement-2026-final-signed.md", "9 sections from northwind-retail-services-agreeme…"},
		} {
			m := New(newFake(), Options{Theme: themes.NoColor(), Clock: func() time.Time { return fixedClock }, Prompt: "Review each clause",
				Document: string(doc), DocumentName: tc.name})
			m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			var stages string
			for _, l := range strings.Split(plain(m), "\n") {
				if strings.HasPrefix(l, "Stages") {
					stages = l
				}
			}
			if !strings.Contains(stages, "○ sections ─ ○ merge ") || !strings.Contains(stages, tc.want) {
				t.Errorf("%s at 80 columns: stage line %q, want the whole strip and %q", tc.name, stages, tc.want)
			}
			if strings.Contains(plain(m), "/work/") {
				t.Errorf("%s: the screen shows the document's path:\n%s", tc.name, plain(m))
			}
		}
	})
}

// At 80 columns, while some sections run and others are done, the list's
// columns stay aligned: every row's model starts at the same column (a
// running row's status word pushed its model left of the done rows').
func TestSectionListColumnsAlignWhileRunning(t *testing.T) {
	l := NewSectionList(testCtx())
	l.Apply(engine.Event{Type: engine.SessionStarted})
	for i, st := range []string{"done", "running", "done", "retrying", "pending"} {
		r := engine.SectionResult{Index: i + 1, Title: fmt.Sprintf("%d. Clause", i+1), Status: st}
		if st != "pending" {
			r.Model = []string{"sim/swift", "sim/straggler"}[i%2]
		}
		if st == "done" {
			r.ElapsedMS = 350
		}
		l.rows = append(l.rows, r)
	}
	var at []int
	for _, line := range strings.Split(stripANSI(l.View(80, 9)), "\n") {
		if i := strings.Index(line, "sim/"); i >= 0 {
			at = append(at, len([]rune(line[:i])))
		}
	}
	if len(at) != 4 || slices.Min(at) != slices.Max(at) {
		t.Errorf("the models start at columns %v, want 4 rows aligned:\n%s", at, stripANSI(l.View(80, 9)))
	}
}
