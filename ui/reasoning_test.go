package ui

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/providers"
)

// Reasoning shows dimmed before the answer (thinking while it is all
// there is), folds to one line with R, never counts as the answer; a
// truncated answer is marked.
func TestPaneReasoningAndTruncation(t *testing.T) {
	c := testCtx()
	p := NewModelPane(c, "sim/a", 20*time.Second)
	for _, e := range []engine.Event{
		{Type: engine.AttemptStarted, Model: "sim/a", T: ms(100)},
		{Type: engine.FirstReasoning, Model: "sim/a", T: ms(150)},
		{Type: engine.ReasoningDelta, Model: "sim/a", T: ms(150), Text: "weighing both readings"},
	} {
		p.Apply(e)
	}
	got := stripANSI(p.View(60, 9))
	if !strings.Contains(got, "thinking") || !strings.Contains(got, "weighing both readings") || strings.Contains(got, "▼") {
		t.Errorf("reasoning pane:\n%s", got)
	}
	if p.Text() != "" {
		t.Errorf("reasoning became the answer: %q", p.Text())
	}
	if raw := p.View(60, 9); !strings.Contains(raw, c.S.Muted.Render("weighing both readings")) {
		t.Errorf("reasoning is not dimmed:\n%q", raw)
	}
	for _, e := range []engine.Event{
		{Type: engine.FirstToken, Model: "sim/a", T: ms(300)},
		{Type: engine.Delta, Model: "sim/a", T: ms(300), Text: "the answer is"},
		{Type: engine.AttemptDone, Model: "sim/a", T: ms(400), Text: "the answer is", Finish: providers.FinishLength},
	} {
		p.Apply(e)
	}
	got = stripANSI(p.View(60, 9))
	if !strings.Contains(got, "✓ done ✂ truncated") || !strings.Contains(got, "weighing both readings") || !strings.Contains(got, "the answer is") {
		t.Errorf("done pane:\n%s", got)
	}
	c.FoldReasoning = true
	got = stripANSI(p.View(60, 9))
	if strings.Contains(got, "weighing both readings") || !strings.Contains(got, "▸ reasoning, 22 chars · R shows it") {
		t.Errorf("folded pane:\n%s", got)
	}
	p.Apply(engine.Event{Type: engine.AttemptDone, Model: "sim/a", T: ms(400), Text: "whole", Finish: providers.FinishStop})
	if got := stripANSI(p.View(60, 9)); strings.Contains(got, "truncated") {
		t.Errorf("untruncated answer marked:\n%s", got)
	}
}

// R folds and unfolds the reasoning of every pane.
func TestReasoningKey(t *testing.T) { synctest.Test(t, testReasoningKey) }

func testReasoningKey(t *testing.T) {
	m := newTestModel(newFake(), 160, 48)
	press(m, "R")
	if !m.ctx.FoldReasoning {
		t.Fatal("R did not fold the reasoning")
	}
	press(m, "R")
	if m.ctx.FoldReasoning {
		t.Fatal("R did not show the reasoning again")
	}
}
