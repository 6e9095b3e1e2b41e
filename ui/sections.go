package ui

import (
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// sectionStages are the section strategy's stages in order.
var sectionStages = [2]engine.Stage{engine.StageSections, engine.StageMerge}

// SectionList is the section strategy's progress: one row per section of
// the document (title, model, status, latency, ↻ retried, ⚖ voted with
// the verdicts, ⚑ disagreement), filling in as sections finish; the two
// stages (sections, merge); and the wall-clock the parallel run saved
// against the sum of the section times.
type SectionList struct {
	ctx   *Context
	rows  []engine.SectionResult
	seen  bool
	stage [2]stageState // sections, merge
	// serial is the sum of the section attempts' times, by the events
	// until the summary gives it exactly; wall the session's wall clock,
	// merge included (the summary's), which the sum is weighed against.
	serial, wall time.Duration
	mergeMode    string
	mergeStatus  string
	answer       string // the merged result (session_done)
	started      map[string]time.Duration
	// attempts are each section's attempts (by index), in launch order.
	attempts map[int][]string

	// The document before the first run (SetDocument): its name, its
	// sections' titles, or why it cannot run.
	docName   string
	docTitles []string
	docErr    string

	// The screen's focus: the list (sel its selected row) or the merge
	// (mergeOff its scroll offset); zoomed says enter zoomed one of them.
	focus    sectionFocus
	keys     bool // the screen has the keys (not the prompt line): the focus is drawn
	sel      int
	picked   bool // the user picked a row: the list keeps it in view
	listOff  int
	mergeOff int
	zoomed   bool
	// Where the list's and the merge's boxes were drawn (rows of the
	// screen), for the mouse; mergeRows is the merge's text height.
	listY, listH, mergeY, mergeH, mergeRows int
}

// sectionFocus is which of the section screen's areas has the keys.
type sectionFocus uint8

const (
	focusSectionList sectionFocus = iota
	focusMerge
)

// String names the focus for tests.
func (f sectionFocus) String() string { return [...]string{"list", "merge"}[f] }

// SetDocument is the document a section session will split, shown before
// the first run: its name and its sections' titles, or the error the
// session would fail with.
func (l *SectionList) SetDocument(name string, titles []string, err error) {
	l.docName, l.docTitles, l.docErr = name, titles, ""
	if err != nil {
		l.docErr = err.Error()
	}
}

// planned is the rows to draw: the session's, or before any, the
// document's sections as pending.
func (l *SectionList) planned() []engine.SectionResult {
	if len(l.rows) > 0 || l.seen {
		return l.rows
	}
	rows := make([]engine.SectionResult, len(l.docTitles))
	for i, t := range l.docTitles {
		rows[i] = engine.SectionResult{Index: i + 1, Title: t, Status: "pending"}
	}
	return rows
}

// docLine is "9 sections from contract.md" (the file's name, not the
// path it was given by), or why the document cannot run; empty without a
// document.
func (l *SectionList) docLine() string {
	name := filepath.Base(l.docName)
	if l.docName == "" {
		name = "the document"
	}
	switch {
	case l.docErr != "":
		return name + ": " + l.docErr
	case len(l.docTitles) == 1:
		return "1 section from " + name
	case len(l.docTitles) > 0:
		return fmt.Sprintf("%d sections from %s", len(l.docTitles), name)
	}
	return ""
}

// NewSectionList returns an empty list.
func NewSectionList(c *Context) *SectionList {
	l := &SectionList{ctx: c}
	l.reset()
	return l
}

func (l *SectionList) reset() {
	*l = SectionList{ctx: l.ctx, started: map[string]time.Duration{}, attempts: map[int][]string{},
		docName: l.docName, docTitles: l.docTitles, docErr: l.docErr,
		listY: l.listY, listH: l.listH, mergeY: l.mergeY, mergeH: l.mergeH}
	l.stage[0].name, l.stage[1].name = sectionStages[0], sectionStages[1]
}

// Active reports whether the session is a section session.
func (l *SectionList) Active() bool { return l.seen }

// Stages are the section strategy's: every section at once, then the merge.
func (l *SectionList) Stages() []engine.Stage { return sectionStages[:] }

// Screen is the section strategy's.
func (l *SectionList) Screen() config.Strategy { return config.Section }

// Apply folds one event into the list.
func (l *SectionList) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		l.reset()
	case engine.SectionChanged:
		l.seen = true
		d := detail(ev)
		if d.Sections != nil {
			l.rows = append(l.rows[:0], d.Sections...)
		}
		if r := d.Section; r != nil && r.Index >= 1 && r.Index <= len(l.rows) {
			l.rows[r.Index-1] = *r
			for _, id := range append(slices.Clone(r.Attempts), r.Attempt) {
				if id != "" && !slices.Contains(l.attempts[r.Index], id) {
					l.attempts[r.Index] = append(l.attempts[r.Index], id)
				}
			}
		}
	case engine.AttemptStarted:
		if ev.Stage == engine.StageSections {
			l.started[ev.Attempt] = ev.T
		}
	case engine.AttemptDone, engine.AttemptFailed, engine.AttemptCancelled:
		if t, ok := l.started[ev.Attempt]; ok && ev.Stage == engine.StageSections {
			l.serial += ev.T - t
			delete(l.started, ev.Attempt)
		}
	case engine.StageStarted, engine.StageDone:
		i := 0
		switch ev.Stage {
		case engine.StageSections:
		case engine.StageMerge:
			i = 1
		default:
			return
		}
		l.seen = true
		st := &l.stage[i]
		if ev.Type == engine.StageStarted {
			st.status, st.start = "running", ev.T
			return
		}
		d := detail(ev)
		st.status, st.elapsed = orStatus(d.Status), d.Elapsed
	case engine.SessionDone:
		s := ev.Summary
		if s == nil || len(s.Sections) == 0 {
			return
		}
		l.seen = true
		l.rows = append(l.rows[:0], s.Sections...)
		l.serial = time.Duration(s.SerialMS * float64(time.Millisecond))
		l.wall = l.serial - time.Duration(s.SavedMS*float64(time.Millisecond))
		if s.Merge != nil {
			l.mergeStatus = s.Merge.Status
			l.mergeMode = string(s.Merge.Mode)
			if s.Merge.Model != "" {
				l.mergeMode += " · " + s.Merge.Model
			}
		}
		l.answer = s.Answer
		for i := range l.stage {
			if l.stage[i].status == "running" {
				l.stage[i].status = string(s.Status)
			}
		}
	}
}

// counts is how many sections are done, and how many there are (before
// a run, the document's).
func (l *SectionList) counts() (done, all int) {
	rows := l.planned()
	for _, r := range rows {
		if r.Status == "done" {
			done++
		}
	}
	return done, len(rows)
}

// Saved is the header's "6.1 s instead of 41 s": the session's wall clock
// (merge included) against the sum of the section attempts' times; empty
// until the session is done.
func (l *SectionList) Saved() string {
	if l.wall <= 0 || l.serial <= 0 {
		return ""
	}
	return fmt.Sprintf("%.1f s instead of %.1f s", l.wall.Seconds(), l.serial.Seconds())
}

// Height is the lines View would like: a row per section and the border.
func (l *SectionList) Height() int { return max(len(l.planned()), 1) + 2 }

// scrollMerge moves the merge by d lines (View clamps it).
func (l *SectionList) scrollMerge(d int) { l.mergeOff = max(l.mergeOff+d, 0) }

// selectRow moves the list's selection by d rows, within the list.
func (l *SectionList) selectRow(d int) {
	l.sel = min(max(l.sel+d, 0), max(len(l.planned())-1, 0))
	l.picked = true
}
