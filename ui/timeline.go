package ui

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
)

// Timeline is one row per attempt on a shared time axis: start, first
// token, hedge fired, the winning moment, cancellations and failures, so
// early exit and straggler cancellation show at a glance.
type Timeline struct {
	ctx     *Context
	order   []string
	rows    map[string]*attempt
	hedge   time.Duration
	hedged  bool
	decided time.Duration
	hasDec  bool
	done    bool
	end     time.Duration
	rank    map[string]int // row order: the panes' order
}

// byRank sorts ids by rank, those without one last in their present order.
func byRank(ids []string, rank map[string]int) {
	if len(rank) == 0 {
		return
	}
	r := func(id string) int {
		if i, ok := rank[id]; ok {
			return i
		}
		return len(rank)
	}
	slices.SortStableFunc(ids, func(a, b string) int { return cmp.Compare(r(a), r(b)) })
}

// rankOf numbers ids by position.
func rankOf(ids []string) map[string]int {
	rank := make(map[string]int, len(ids))
	for i, id := range ids {
		rank[id] = i
	}
	return rank
}

// SetOrder puts the rows in the order of ids (the panes' order), so that
// a model keeps its place from pane to timeline; rows of other models
// follow in the order they appeared.
func (t *Timeline) SetOrder(ids []string) {
	t.rank = rankOf(ids)
	byRank(t.order, t.rank)
}

// NewTimeline returns an empty timeline.
func NewTimeline(c *Context) *Timeline {
	return &Timeline{ctx: c, rows: map[string]*attempt{}}
}

// Apply folds one event into the timeline.
func (t *Timeline) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		*t = Timeline{ctx: t.ctx, rows: map[string]*attempt{}, rank: t.rank}
		return
	case engine.HedgeFired:
		t.hedge, t.hedged = ev.T, true
	case engine.Decided:
		t.decided, t.hasDec = ev.T, true
	case engine.SessionDone:
		t.done, t.end = true, ev.T
		if ev.Summary != nil && ev.Summary.Elapsed > 0 {
			t.end = ev.Summary.Elapsed
		}
	}
	if ev.Model == "" || ev.Type == engine.BreakerChanged {
		return
	}
	a, ok := t.rows[ev.Model]
	if !ok {
		if ev.Type == engine.Delta || ev.Type == engine.VoteCast {
			return // deltas carry nothing the timeline draws
		}
		a = &attempt{}
		t.rows[ev.Model] = a
		t.order = append(t.order, ev.Model)
		byRank(t.order, t.rank)
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

// niceScales are the axis lengths the timeline steps through, so the axis
// does not rescale on every frame.
var niceScales = []time.Duration{
	time.Second, 2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second,
	15 * time.Second, 20 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute,
	5 * time.Minute, 10 * time.Minute,
}

func niceScale(d time.Duration) time.Duration {
	for _, s := range niceScales {
		if d <= s {
			return s
		}
	}
	return d
}

// View draws the timeline: a title, one row per attempt and the axis.
func (t *Timeline) View(width, height int) string {
	s := &t.ctx.S
	now := t.ctx.Elapsed
	if t.done {
		now = t.end
	}
	head := s.Title.Render("Timeline")
	if t.hasDec {
		head += "  " + s.Accent.Render("┆ decided "+fmtDur(t.decided))
	}
	lines := []string{head + t.legend(width-lipgloss.Width(head))}
	if len(t.order) == 0 {
		lines = append(lines, s.Muted.Render("no session yet: type a prompt and press enter"))
		return strings.Join(lines, "\n")
	}
	nameW := 4
	for _, id := range t.order {
		nameW = max(nameW, lipgloss.Width(id))
	}
	nameW = min(nameW, max(width/3, 8))
	tailW := 10 // the outcome words after the bars, as wide as the widest
	for _, id := range t.order {
		_, w := outcome(t.rows[id])
		tailW = max(tailW, len(w)+2)
	}
	tailW = min(tailW, 18)
	aw := width - nameW - 1 - tailW
	if aw < 10 {
		aw = width - nameW - 1
	}
	scale := niceScale(max(now, time.Second))
	col := func(d time.Duration) int {
		c := int(float64(aw-1) * float64(d) / float64(scale))
		return min(max(c, 0), aw-1)
	}
	rows := height - 2
	order := t.order
	if rows < len(order) && rows > 0 {
		order = order[len(order)-rows:]
	}
	for _, id := range order {
		a := t.rows[id]
		lines = append(lines, fit(fit(s.Subtle.Render(truncate(id, nameW)), nameW)+" "+t.row(a, aw, col, now), width))
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
		lbl := []rune(fmtDur(d))
		if d == 0 {
			lbl = []rune("0")
		}
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
	{"◌┄", "queued", 7, func(_ *Timeline, a *attempt) bool { return a.hasQueued }},
	{"├", "start", 8, func(_ *Timeline, a *attempt) bool { return a.hasStart }},
	{"▼", "1st token", 6, func(_ *Timeline, a *attempt) bool { return a.hasFirst }},
	{"↯", "hedge", 5, func(t *Timeline, _ *attempt) bool { return t.hedged }},
	{"★", "won", 0, func(_ *Timeline, a *attempt) bool { return a.phase == phaseWon }},
	{"✓", "done", 4, func(_ *Timeline, a *attempt) bool { return a.phase == phaseDone }},
	{"■", "cancelled", 2, func(_ *Timeline, a *attempt) bool { return a.phase == phaseCancelled }},
	{"✗", "failed", 1, func(_ *Timeline, a *attempt) bool { return a.phase == phaseFailed }},
	{"⊘", "skipped", 3, func(_ *Timeline, a *attempt) bool { return a.phase == phaseSkipped }},
}

// legend explains the glyphs on screen (all of them before a session):
// whole items, the outcomes first when not all fit in w cells.
func (t *Timeline) legend(w int) string {
	on := make([]bool, len(legendItems))
	for i, it := range legendItems {
		on[i] = len(t.order) == 0
		for _, id := range t.order {
			if on[i] = it.shown(t, t.rows[id]); on[i] {
				break
			}
		}
	}
	used, full := 1, false // a space after the title
	for prio := range len(legendItems) {
		for i, it := range legendItems {
			if it.prio != prio || !on[i] {
				continue
			}
			if iw := 1 + lipgloss.Width(it.glyph) + 1 + len(it.word); !full && used+iw <= w {
				used += iw
			} else {
				on[i], full = false, true // and every item of lower priority
			}
		}
	}
	var b strings.Builder
	b.WriteByte(' ')
	for i, it := range legendItems {
		if on[i] {
			b.WriteString(" " + it.glyph + " " + it.word)
		}
	}
	return t.ctx.S.Subtle.Render(b.String())
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
