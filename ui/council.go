package ui

import (
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// The council's areas: the stage bar (answers → review → synthesis), the
// ranking table (each reviewer's order and the Borda count, ranking.go)
// and the chairman's synthesis (synthesis.go). Like the other areas they are plain structs that
// fold events (Apply) and draw themselves (View) with the shared Context.

// councilStages are the council's stages in order, as its strategy
// declares them: the bar draws those and no other strategy's.
var councilStages = strategyStages(config.Council)

// stageState is where a stage stands.
type stageState struct {
	name    engine.Stage
	status  string // "" pending, "running", then stage_done's status
	start   time.Duration
	elapsed time.Duration
}

// view is the stage as the stage lines draw it: a glyph, its name, and
// its time or its word (so the line reads without colour); running is
// the style of a running stage.
func (st stageState) view(ctx *Context, running lipgloss.Style) string {
	s := &ctx.S
	switch st.status {
	case "":
		return s.Muted.Render("○ " + st.name.String())
	case "running":
		return running.Render("◐ " + st.name.String() + " " + fmtDur(max(ctx.Elapsed-st.start, 0)) + "…")
	case "done", string(engine.StatusDecided):
		return s.Ok.Render("● " + st.name.String() + " " + fmtDur(st.elapsed))
	case "degraded":
		return s.Warn.Render("◒ " + st.name.String() + " " + fmtDur(st.elapsed) + " degraded")
	case "cancelled":
		return s.Cancelled.Render("■ " + st.name.String() + " cancelled")
	default: // failed, or a status this dashboard does not know
		return s.Error.Render("✗ " + st.name.String() + " " + st.status)
	}
}

// StageBar is the council's progress: each stage with its state and time,
// the running one highlighted.
type StageBar struct {
	ctx    *Context
	stages []stageState
	seen   bool // a stage started in this session
}

// NewStageBar returns the bar of a council that has not started.
func NewStageBar(c *Context) *StageBar {
	b := &StageBar{ctx: c}
	b.reset()
	return b
}

func (b *StageBar) reset() {
	b.seen = false
	b.stages = b.stages[:0]
	for _, st := range councilStages {
		b.stages = append(b.stages, stageState{name: st})
	}
}

// Active reports whether the session has stages.
func (b *StageBar) Active() bool { return b.seen }

// Stages are the council's stages, which the bar draws.
func (b *StageBar) Stages() []engine.Stage { return councilStages }

// Screen is the council's: its stages put up the council's screen.
func (b *StageBar) Screen() config.Strategy { return config.Council }

func (b *StageBar) stage(name engine.Stage) *stageState {
	for i := range b.stages {
		if b.stages[i].name == name {
			return &b.stages[i]
		}
	}
	b.stages = append(b.stages, stageState{name: name})
	return &b.stages[len(b.stages)-1]
}

// Apply folds one event into the bar. A stage the council does not
// declare (the router's classifier, the section strategy's) is left to
// the timeline and its own areas.
func (b *StageBar) Apply(ev engine.Event) {
	if ev.Stage != engine.StageNone && !slices.Contains(councilStages, ev.Stage) {
		return
	}
	switch ev.Type {
	case engine.SessionStarted:
		b.reset()
	case engine.StageStarted:
		b.seen = true
		st := b.stage(ev.Stage)
		st.status, st.start = "running", ev.T
	case engine.StageDone:
		b.seen = true
		st := b.stage(ev.Stage)
		d := detail(ev)
		st.status, st.elapsed = orStatus(d.Status), d.Elapsed
		if st.elapsed == 0 && ev.T > st.start {
			st.elapsed = ev.T - st.start
		}
	case engine.SessionDone:
		s := ev.Summary
		if s == nil {
			return
		}
		for _, r := range s.Stages {
			if !slices.Contains(councilStages, r.Name) {
				continue
			}
			b.seen = true
			st := b.stage(r.Name)
			st.status = orStatus(r.Status)
			st.start = time.Duration(r.StartedMS * float64(time.Millisecond))
			st.elapsed = time.Duration(r.ElapsedMS * float64(time.Millisecond))
		}
		// A stage still running when the session ended ended with it.
		for i := range b.stages {
			if b.stages[i].status == "running" {
				b.stages[i].status = string(s.Status)
				b.stages[i].elapsed = max(ev.T-b.stages[i].start, 0)
			}
		}
	}
}

func orStatus(s string) string {
	if s == "" {
		return "done"
	}
	return s
}

// Status is a stage's state word: pending, running, done, degraded,
// failed or cancelled.
func (b *StageBar) Status(name engine.Stage) string {
	for _, st := range b.stages {
		if st.name == name {
			if st.status == "" {
				return "pending"
			}
			return st.status
		}
	}
	return ""
}

// Height is the lines View draws.
func (b *StageBar) Height() int { return 1 }

// View draws the bar on one line: "● answers 1.20s ─ ◐ review 400ms… ─ ○
// synthesis". States other than done and running say their word, so the
// bar reads without colour.
func (b *StageBar) View(width, _ int) string {
	s := &b.ctx.S
	parts := make([]string, 0, len(b.stages))
	for _, st := range b.stages {
		parts = append(parts, st.view(b.ctx, s.Running.Bold(true).Underline(true)))
	}
	line := s.Title.Render("Stages") + "  " + strings.Join(parts, s.Muted.Render(" ─ "))
	return fit(line, width)
}

// detail is an event's [engine.Detail], empty when it has none.
func detail(ev engine.Event) engine.Detail {
	if ev.Detail != nil {
		return *ev.Detail
	}
	return engine.Detail{}
}
