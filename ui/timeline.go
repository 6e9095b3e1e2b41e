package ui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
)

// Timeline is one row per attempt on a shared time axis: start, first
// token, hedge fired, the winning moment, cancellations and failures, so
// early exit and straggler cancellation show at a glance. A model with
// several attempts in a session (a council member that also reviews and
// chairs, a same-model hedge backup) has a row for each, labelled with
// the stage or role ("sim/swift·review").
type Timeline struct {
	ctx     *Context
	started bool     // a session is on screen (its attempts may not have come yet)
	order   []string // row keys: attempt ids (model ids from an engine without them)
	rows    map[string]*tlRow
	hedge   time.Duration
	hedged  bool
	decided time.Duration
	hasDec  bool
	done    bool
	end     time.Duration
	rank    map[string]int // model order: the panes' order
	seq     int
}

// tlRow is one attempt's row.
type tlRow struct {
	*attempt
	model string
	stage engine.Stage
	seq   int // order of appearance
}

// stageRank orders stages on the timeline: a router's stages (which run
// first), then every strategy's in the registry's order and each
// strategy's own order (the one-stage strategies' StageNone, the
// council's answers, review, synthesis, ...); a stage no strategy
// declares last.
func stageRank(st engine.Stage) int {
	if r, ok := stageRanks[st]; ok {
		return r
	}
	return len(stageRanks)
}

var stageRanks = func() map[engine.Stage]int {
	ranks := map[engine.Stage]int{}
	add := func(routes bool) {
		for _, info := range engine.Strategies() {
			if info.Routes != routes {
				continue
			}
			for _, st := range info.Stages {
				if _, ok := ranks[st]; !ok {
					ranks[st] = len(ranks)
				}
			}
		}
	}
	add(true)
	add(false)
	return ranks
}()

// rankOf numbers ids by position.
func rankOf(ids []string) map[string]int {
	rank := make(map[string]int, len(ids))
	for i, id := range ids {
		rank[id] = i
	}
	return rank
}

// sort orders the rows by stage, then by the model's rank (the panes'
// order; models without one last), then by appearance.
func (t *Timeline) sort() {
	r := func(id string) int {
		if i, ok := t.rank[id]; ok {
			return i
		}
		return len(t.rank)
	}
	slices.SortStableFunc(t.order, func(a, b string) int {
		ra, rb := t.rows[a], t.rows[b]
		return cmp.Or(cmp.Compare(stageRank(ra.stage), stageRank(rb.stage)),
			cmp.Compare(r(ra.model), r(rb.model)), cmp.Compare(ra.seq, rb.seq))
	})
}

// SetOrder puts the rows in the order of ids (the panes' order), so that
// a model keeps its place from pane to timeline; rows of other models
// follow in the order they appeared.
func (t *Timeline) SetOrder(ids []string) {
	t.rank = rankOf(ids)
	t.sort()
}

// NewTimeline returns an empty timeline.
func NewTimeline(c *Context) *Timeline {
	return &Timeline{ctx: c, rows: map[string]*tlRow{}}
}

// Apply folds one event into the timeline.
func (t *Timeline) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		*t = Timeline{ctx: t.ctx, rows: map[string]*tlRow{}, rank: t.rank, started: true}
		return
	case engine.HedgeFired:
		t.hedge, t.hedged = ev.T, true
	case engine.Decided:
		t.decided, t.hasDec = ev.T, true
		// The winner's row is its model's attempt that finished last.
		var won, last *tlRow
		for _, r := range t.rows {
			if r.model != ev.Model {
				continue
			}
			if r.phase == phaseDone && (won == nil || r.end > won.end || r.end == won.end && r.seq > won.seq) {
				won = r
			}
			if last == nil || r.seq > last.seq {
				last = r
			}
		}
		if won == nil {
			won = last // decided before its attempt_done: it wins when done
		}
		if won != nil {
			won.apply(ev)
		}
		return
	case engine.SessionDone:
		t.done, t.end = true, ev.T
		if ev.Summary != nil && ev.Summary.Elapsed > 0 {
			t.end = ev.Summary.Elapsed
		}
	}
	switch ev.Type {
	case engine.AttemptQueued, engine.AttemptStarted, engine.FirstToken, engine.Delta, engine.AttemptDone,
		engine.AttemptFailed, engine.AttemptCancelled, engine.AttemptSkipped, engine.VoteCast:
	default:
		return
	}
	key := ev.Attempt
	if key == "" {
		key = ev.Model
	}
	if key == "" {
		return
	}
	a, ok := t.rows[key]
	if !ok {
		if ev.Type == engine.Delta || ev.Type == engine.VoteCast {
			return // deltas carry nothing the timeline draws
		}
		t.seq++
		a = &tlRow{attempt: &attempt{}, model: ev.Model, stage: ev.Stage, seq: t.seq}
		t.rows[key] = a
		t.order = append(t.order, key)
		t.sort()
	}
	if ev.Type == engine.Delta {
		if !a.hasFirst {
			a.first, a.hasFirst = ev.T, true
			a.phase = phaseStreaming
		}
		return
	}
	a.apply(ev)
}

// labels names the rows: the model, and the stage or role when the model
// has several rows.
func (t *Timeline) labels() map[string]string {
	n := map[string]int{}
	for _, k := range t.order {
		n[t.rows[k].model]++
	}
	out := make(map[string]string, len(t.order))
	for _, k := range t.order {
		r := t.rows[k]
		out[k] = r.model
		if n[r.model] > 1 {
			out[k] += "·" + stageTag(r.stage, r.role)
		}
	}
	return out
}

// niceScales are the axis lengths the timeline steps through, so the axis
// does not rescale on every frame. Each is four round quarters (the
// ticks), and each is at most 1.5 times the one before, so a session
// fills two thirds of the width or more.
var niceScales = []time.Duration{
	time.Second, 1200 * time.Millisecond, 1600 * time.Millisecond, 2 * time.Second,
	2400 * time.Millisecond, 3200 * time.Millisecond, 4 * time.Second, 6 * time.Second,
	8 * time.Second, 10 * time.Second, 12 * time.Second, 16 * time.Second, 20 * time.Second,
	30 * time.Second, 40 * time.Second, time.Minute, 80 * time.Second, 2 * time.Minute,
	3 * time.Minute, 4 * time.Minute, 6 * time.Minute, 8 * time.Minute, 10 * time.Minute,
}

// tickLabel writes an axis tick in one unit and precision for the whole
// axis, given the step between ticks: "0.3s 0.6s 0.9s 1.2s", never
// "500ms 1s 1.50s".
func tickLabel(d, scale, step time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case scale >= 2*time.Minute && step%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case step%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	case step%(100*time.Millisecond) == 0:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

// scale is the axis's length now: the session so far, rounded up to a
// nice scale. The panes' latency bars share it.
func (t *Timeline) scale() time.Duration {
	now := t.ctx.Elapsed
	if t.done {
		now = t.end
	}
	return niceScale(max(now, time.Second))
}

func niceScale(d time.Duration) time.Duration {
	for _, s := range niceScales {
		if d <= s {
			return s
		}
	}
	return d
}

// Height is the height the timeline would like: a row per attempt (one
// for the empty timeline), its title and its axis.
func (t *Timeline) Height() int { return max(len(t.order), 1) + 2 }

// View draws the timeline: a title, one row per attempt and the axis.
func (t *Timeline) View(width, height int) string {
	s := &t.ctx.S
	now := t.ctx.Elapsed
	if t.done {
		now = t.end
	}
	lines := t.head(width)
	if len(t.order) == 0 {
		msg := "no session yet: type a prompt and press enter"
		if t.started { // a replay paused before its first event, a session before its first call
			msg = "no call yet"
		}
		lines = append(lines, s.Muted.Render(msg))
		return strings.Join(lines, "\n")
	}
	names := t.labels()
	nameW := 4
	for _, id := range t.order {
		nameW = max(nameW, lipgloss.Width(names[id]))
	}
	nameW = min(nameW, max(width/3, 8))
	tailW := 10 // the outcome words after the bars, as wide as the widest
	for _, id := range t.order {
		_, w := outcome(t.rows[id].attempt)
		tailW = max(tailW, len(w)+2)
	}
	tailW = min(tailW, 18)
	aw := width - nameW - 1 - tailW
	if aw < 10 {
		aw = width - nameW - 1
	}
	scale := t.scale()
	col := func(d time.Duration) int {
		c := int(float64(aw-1) * float64(d) / float64(scale))
		return min(max(c, 0), aw-1)
	}
	rows := height - len(lines) - 1 // the title and legend, the axis
	order := t.order
	if rows < len(order) {
		// The latest rows stay; a line says how many went above.
		rows = max(rows-1, 0)
		hidden := len(order) - rows
		order = order[hidden:]
		lines = append(lines, s.Muted.Render(truncate(fmt.Sprintf("+%d earlier rows above · enter on a model zooms its attempts", hidden), width)))
	}
	for _, id := range order {
		a := t.rows[id]
		lines = append(lines, fit(fit(s.Subtle.Render(truncate(names[id], nameW)), nameW)+" "+t.row(a.attempt, aw, col, now), width))
	}
	// Axis with labels at 0, ¼, ½, ¾ and the full scale; at 0, ½ and the
	// full scale when short.
	axis := []rune(strings.Repeat(" ", aw))
	free := 0 // first column a label may use
	step := 1
	if aw < 40 {
		step = 2
	}
	for i := 0; i <= 4; i += step {
		d := scale * time.Duration(i) / 4
		lbl := []rune(tickLabel(d, scale, scale*time.Duration(step)/4))
		c := col(d)
		if c+len(lbl) > aw {
			c = aw - len(lbl)
		}
		if c < free {
			continue
		}
		copy(axis[c:], lbl)
		free = c + len(lbl) + 1
	}
	lines = append(lines, strings.Repeat(" ", nameW+1)+s.Muted.Render(string(axis)))
	if len(lines) > height {
		lines = lines[:height]
	}
	return strings.Join(lines, "\n")
}

// legendItems are the timeline's glyphs in reading order, each with its
// priority for a narrow legend (outcomes first) and what puts it on screen.
var legendItems = []struct {
	glyph, word string
	prio        int
	shown       func(t *Timeline, a *attempt) bool
}{
	{"◌┄", "queued", 8, func(_ *Timeline, a *attempt) bool { return a.hasQueued }},
	{"├", "start", 0, func(_ *Timeline, a *attempt) bool { return a.hasStart }}, // every bar begins with it
	{"▼", "1st token", 7, func(_ *Timeline, a *attempt) bool { return a.hasFirst }},
	{"↯", "hedge", 6, func(t *Timeline, _ *attempt) bool { return t.hedged }},
	{"★", "won", 1, func(_ *Timeline, a *attempt) bool { return a.phase == phaseWon }},
	{"✓", "done", 5, func(_ *Timeline, a *attempt) bool { return a.phase == phaseDone }},
	{"■", "cancelled", 3, func(_ *Timeline, a *attempt) bool { return a.phase == phaseCancelled }},
	{"✗", "failed", 2, func(_ *Timeline, a *attempt) bool { return a.phase == phaseFailed }},
	{"⊘", "skipped", 4, func(_ *Timeline, a *attempt) bool { return a.phase == phaseSkipped }},
}

// legendShort are the legend's words when the full ones do not fit.
var legendShort = map[string]string{"queued": "queue", "1st token": "1st", "cancelled": "cancel", "failed": "fail", "skipped": "skip"}

// legendUsed reports, per legend item, whether the rows use its glyph
// (all of them before a session).
func (t *Timeline) legendUsed() []bool {
	on := make([]bool, len(legendItems))
	for i, it := range legendItems {
		on[i] = len(t.order) == 0
		for _, id := range t.order {
			if on[i] = it.shown(t, t.rows[id].attempt); on[i] {
				break
			}
		}
	}
	return on
}

// legendText is the items on in one line: full words ("▼ 1st token"), or
// short ones ("▼ 1st"), or short and tight ("▼1st").
func legendText(on []bool, short, tight bool) string {
	var b strings.Builder
	for i, it := range legendItems {
		if !on[i] {
			continue
		}
		word := it.word
		if w, ok := legendShort[word]; ok && short {
			word = w
		}
		sep := " "
		if tight {
			sep = ""
		}
		b.WriteString(" " + it.glyph + sep + word)
	}
	return b.String()
}

// head is the timeline's title line: the title, the decision's time and
// a legend of every glyph the rows use, in the first form that fits in
// width (full words, short words, tight, the decision's time left to the
// rows' ┆, then without the title); when none does, the outcomes first and the other items on
// lines of their own, so that no glyph the rows use goes unexplained.
func (t *Timeline) head(width int) []string {
	s := &t.ctx.S
	title := s.Title.Render("Timeline")
	dec := ""
	if t.hasDec {
		dec = "  " + s.Accent.Render("┆ decided "+fmtDur(t.decided))
	}
	on := t.legendUsed()
	for _, f := range []struct{ short, tight bool }{{false, false}, {true, false}, {true, true}} {
		if l := " " + legendText(on, f.short, f.tight); lipgloss.Width(title+dec+l) <= width {
			return []string{title + dec + s.Subtle.Render(l)}
		}
	}
	decWord := ""
	if t.hasDec {
		decWord = " ┆decided" // the rows' ┆ marks the time
	}
	if l := " " + legendText(on, true, true) + decWord; lipgloss.Width(title+l) <= width {
		return []string{title + s.Subtle.Render(l)}
	}
	if l := legendText(on, true, true) + decWord; lipgloss.Width(l) <= width {
		// The rows and the axis say what the area is; the glyphs need saying.
		return []string{s.Subtle.Render(l[1:])}
	}
	// The outcomes first on the title line, the rest below it.
	first := make([]bool, len(legendItems))
	used, full := lipgloss.Width(title+dec)+1, false
	for prio := range len(legendItems) {
		for i, it := range legendItems {
			if it.prio != prio || !on[i] {
				continue
			}
			if iw := 1 + lipgloss.Width(it.glyph) + 1 + len(it.word); !full && used+iw <= width {
				used += iw
				first[i] = true
			} else {
				full = true // and every item of lower priority goes below
			}
		}
	}
	rest := make([]bool, len(legendItems))
	for i := range on {
		rest[i] = on[i] && !first[i]
	}
	out := []string{title + dec + s.Subtle.Render(" "+legendText(first, false, false))}
	line := ""
	for i, it := range legendItems {
		if !rest[i] {
			continue
		}
		item := it.glyph + " " + it.word
		if line != "" && lipgloss.Width(line)+1+lipgloss.Width(item) > width {
			out, line = append(out, s.Subtle.Render(line)), ""
		}
		if line != "" {
			line += " "
		}
		line += item
	}
	if line != "" {
		out = append(out, s.Subtle.Render(truncate(line, width)))
	}
	return out
}

// outcome is the glyph ending an attempt's bar and the words after it.
func outcome(a *attempt) (glyph rune, word string) {
	switch a.phase {
	case phaseWon:
		return '★', "won " + fmtDur(a.end)
	case phaseDone:
		switch {
		case a.voted && a.vote != "":
			return '✓', a.vote + " " + fmtDur(a.end)
		case a.voted:
			return '✓', "invalid vote"
		}
		return '✓', "done " + fmtDur(a.end)
	case phaseCancelled:
		return '■', reasonText(a.reason)
	case phaseFailed:
		return '✗', a.kind.String()
	case phaseSkipped:
		return '⊘', reasonText(a.reason)
	case phaseQueued:
		return ' ', "queued"
	}
	return ' ', ""
}

// row draws one attempt: ┄ queued, ─ connecting, ━ streaming, glyphs at
// the moments, then its outcome in words.
func (t *Timeline) row(a *attempt, aw int, col func(time.Duration) int, now time.Duration) string {
	s := &t.ctx.S
	cells := []rune(strings.Repeat(" ", aw))
	end := a.now(now)
	if a.hasQueued {
		qend := now
		if a.hasStart {
			qend = a.start
		}
		for i := col(a.queued); i <= col(qend); i++ {
			cells[i] = '┄'
		}
		cells[col(a.queued)] = '◌'
	}
	if a.hasStart {
		for i := col(a.start); i <= col(end); i++ {
			cells[i] = '─'
			if a.hasFirst && i >= col(a.first) {
				cells[i] = '━'
			}
		}
		cells[col(a.start)] = '├'
		if a.role == engine.RoleBackup && t.hedged {
			cells[col(a.start)] = '↯'
		}
		if a.hasFirst {
			cells[col(a.first)] = '▼'
		}
		if a.hasHedge {
			cells[col(a.hedgeFired)] = '↯'
		}
	}
	if t.hasDec {
		if c := col(t.decided); cells[c] == ' ' {
			cells[c] = '┆'
		}
	}
	glyph, word := outcome(a)
	ec := -1
	if glyph != ' ' {
		ec = col(end)
		cells[ec] = glyph
	}
	st := phaseStyle(s, a.phase)
	var b strings.Builder
	if ec >= 0 {
		b.WriteString(st.Render(string(cells[:ec])))
		b.WriteString(st.Bold(true).Render(string(cells[ec])))
		b.WriteString(s.Accent.Render(string(cells[ec+1:])))
	} else {
		b.WriteString(st.Render(string(cells)))
	}
	if word != "" {
		b.WriteString(" " + st.Render(word))
	}
	return b.String()
}
