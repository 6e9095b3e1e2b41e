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

// BreakerBoard is the Hystrix-style board: per model the breaker state,
// rolling error %, request volume, p50/p99 latency, time to half-open,
// forcing, and a sparkline of recent outcomes.
type BreakerBoard struct {
	ctx    *Context
	health []engine.ModelHealth
	at     time.Time      // when health was read
	rank   map[string]int // row order: the panes' order
}

// Height is the height the board would like: a row per model (one for
// the empty board), its title and its column heads.
func (b *BreakerBoard) Height() int { return max(len(b.health), 1) + 2 }

// SetOrder lists the models in the order of ids (the panes' order); the
// others follow in the engine's order.
func (b *BreakerBoard) SetOrder(ids []string) {
	b.rank = rankOf(ids)
	b.sort()
}

func (b *BreakerBoard) sort() {
	if len(b.rank) == 0 {
		return
	}
	r := func(id string) int {
		if i, ok := b.rank[id]; ok {
			return i
		}
		if model, _, ok := strings.Cut(id, "@"); ok { // a watched instance's row, under its model's
			if i, ok := b.rank[model]; ok {
				return i
			}
		}
		return len(b.rank)
	}
	slices.SortStableFunc(b.health, func(x, y engine.ModelHealth) int { return cmp.Compare(r(x.ID), r(y.ID)) })
}

// NewBreakerBoard returns an empty board.
func NewBreakerBoard(c *Context) *BreakerBoard { return &BreakerBoard{ctx: c} }

// SetHealth replaces the board's data with a reading taken at at.
func (b *BreakerBoard) SetHealth(h []engine.ModelHealth, at time.Time) {
	b.health, b.at = slices.Clone(h), at
	b.sort()
}

// Apply takes a breaker_changed event so the board reacts before the next
// health reading.
func (b *BreakerBoard) Apply(ev engine.Event) {
	if ev.Type != engine.BreakerChanged {
		return
	}
	for i := range b.health {
		if b.health[i].ID == ev.Model {
			b.health[i].Breaker.State = ev.To
			b.health[i].Breaker.HalfOpenIn = 0
		}
	}
}

// anyOpen reports whether a breaker is open, half-open or forced: then the
// board needs refreshing on a tick.
func (b *BreakerBoard) anyOpen() bool {
	for _, h := range b.health {
		if h.Breaker.State != engine.BreakerClosed || h.Breaker.Forced != "" {
			return true
		}
	}
	return false
}

// sparkRune draws one outcome; heights differ so it reads without colour.
func sparkRune(o engine.Outcome) rune {
	switch o {
	case engine.OutcomeOK:
		return '▁'
	case engine.OutcomeFailed:
		return '█'
	case engine.OutcomeCancelled:
		return '▃'
	case engine.OutcomeSkipped:
		return '·'
	}
	return ' '
}

// View draws the board.
func (b *BreakerBoard) View(width, height int) string {
	s := &b.ctx.S
	lines := []string{fit(s.Title.Render("Breakers")+s.Subtle.Render("  ▁ ok  █ failed  ▃ cancelled  · skipped"), width)}
	if len(b.health) == 0 {
		lines = append(lines, s.Muted.Render("no data yet"))
		return strings.Join(lines, "\n")
	}
	names, nameW := b.names()
	// Columns after the name: state 15, err% 5, vol 5, p50 7, p99 7, half-open 9.
	cols := []boardCol{{"state", 16}, {"err%", 5}, {"vol", 5}, {"p50", 7}, {"p99", 7}, {"½open", 7}}
	for len(cols) > 2 && nameW+sumW(cols)+1+4 > width {
		cols = cols[:len(cols)-1]
	}
	sparkW := min(width-nameW-sumW(cols)-1, 32)
	hdr := fmt.Sprintf("%-*s", nameW, "model")
	for _, c := range cols {
		hdr += " " + pad(c.title, c.w)
	}
	if sparkW > 0 {
		hdr += " recent"
	}
	lines = append(lines, fit(s.Subtle.Render(hdr), width))
	rows := height - 2
	if rows < len(b.health) {
		rows-- // the last line says how many models are not shown
	}
	for i, h := range b.health {
		if i >= rows {
			lines = append(lines, s.Muted.Render(fit(fmt.Sprintf("+%d more models: a taller terminal shows them", len(b.health)-max(rows, 0)), width)))
			break
		}
		lines = append(lines, fit(b.row(h, fit(truncate(names[i], nameW), nameW), cols, sparkW), width))
	}
	return strings.Join(lines, "\n")
}

// boardCol is a column of the board after the model's name.
type boardCol struct {
	title string
	w     int
}

// names are the board's row names, a watched server's row under its
// model's as "└ host:port", and the width they take (18 at most).
func (b *BreakerBoard) names() ([]string, int) {
	nameW := 5
	names := make([]string, len(b.health))
	for i, h := range b.health {
		names[i] = h.ID
		if model, inst, ok := strings.Cut(h.ID, "@"); ok && i > 0 && strings.SplitN(b.health[i-1].ID, "@", 2)[0] == model {
			names[i] = "└ " + inst
		}
		nameW = max(nameW, lipgloss.Width(names[i]))
	}
	return names, min(nameW, 18)
}

// row is one model's line: its name, then cols of its breaker's state,
// and its recent outcomes in sparkW cells.
func (b *BreakerBoard) row(h engine.ModelHealth, name string, cols []boardCol, sparkW int) string {
	s := &b.ctx.S
	br := h.Breaker
	state, st := b.stateText(br)
	errSt := s.Text
	if br.FailureRate >= 0.25 {
		errSt = s.Error
	} else if br.FailureRate > 0 {
		errSt = s.Warn
	}
	half := "—"
	if br.State == engine.BreakerOpen && br.HalfOpenIn > 0 && br.Forced == "" {
		half = fmtDur((br.HalfOpenIn - b.ctx.Now.Sub(b.at)).Round(time.Second))
	}
	lat := func(d time.Duration, atLeast bool) string {
		switch {
		case h.Latency.Count == 0:
			return "—"
		case atLeast:
			// Calls cut before their end lie at or below it: the true
			// quantile is this or more.
			return "≥" + fmtDur(d)
		}
		return fmtDur(d)
	}
	vals := []struct {
		v  string
		st lipgloss.Style
	}{
		{state, st}, {fmt.Sprintf("%.0f%%", br.FailureRate*100), errSt}, {fmt.Sprint(br.Requests), s.Text},
		{lat(h.Latency.Total.P50, h.Latency.Total.P50AtLeast), s.Text}, {lat(h.Latency.Total.P99, h.Latency.Total.P99AtLeast), s.Text}, {half, s.Warn},
	}
	var l strings.Builder
	l.WriteString(name)
	for j, c := range cols {
		l.WriteString(" " + vals[j].st.Render(pad(vals[j].v, c.w)))
	}
	if sparkW > 0 {
		l.WriteString(" " + b.spark(h.Recent, sparkW))
	}
	return l.String()
}

// stateText is a breaker's state in words and its style.
func (b *BreakerBoard) stateText(br engine.BreakerSnapshot) (string, lipgloss.Style) {
	s := &b.ctx.S
	switch {
	case br.Forced == "open":
		return "⚑ forced open", s.Error
	case br.Forced == "closed":
		return "⚑ forced closed", s.Warn
	case br.State == engine.BreakerOpen:
		return "○ OPEN", s.Error
	case br.State == engine.BreakerHalfOpen:
		return "◐ half-open", s.Warn
	case heldLeft(br, b.ctx.Now, b.at) > 0:
		return "⏸ held " + fmtDur(heldLeft(br, b.ctx.Now, b.at)), s.Warn
	}
	return "● closed", s.Ok
}

// SummaryView is the board in one line, for small screens: the breakers
// that are not simply closed, by name, then how many are.
func (b *BreakerBoard) SummaryView(width int) string {
	s := &b.ctx.S
	out := s.Title.Render("Breakers")
	if len(b.health) == 0 {
		return fit(out+s.Muted.Render("  no data yet"), width)
	}
	closed := 0
	var notes []string
	for _, h := range b.health {
		br := h.Breaker
		switch {
		case br.Forced == "open":
			notes = append(notes, s.Error.Render("⚑ "+h.ID+" forced open"))
		case br.Forced == "closed":
			notes = append(notes, s.Warn.Render("⚑ "+h.ID+" forced closed"))
		case br.State == engine.BreakerOpen:
			t := "○ " + h.ID + " OPEN"
			if br.HalfOpenIn > 0 {
				t += " " + fmtDur((br.HalfOpenIn - b.ctx.Now.Sub(b.at)).Round(time.Second))
			}
			notes = append(notes, s.Error.Render(t))
		case br.State == engine.BreakerHalfOpen:
			notes = append(notes, s.Warn.Render("◐ "+h.ID+" half-open"))
		case heldLeft(br, b.ctx.Now, b.at) > 0:
			notes = append(notes, s.Warn.Render("⏸ "+h.ID+" held "+fmtDur(heldLeft(br, b.ctx.Now, b.at))))
		default:
			closed++
		}
	}
	if closed > 0 {
		notes = append(notes, s.Ok.Render(fmt.Sprintf("● %d closed", closed)))
	}
	return fit(out+"  "+strings.Join(notes, s.Subtle.Render(" · ")), width)
}

// spark draws the last w outcomes, one style run per outcome kind.
func (b *BreakerBoard) spark(rec []engine.Outcome, w int) string {
	s := &b.ctx.S
	if len(rec) > w {
		rec = rec[len(rec)-w:]
	}
	var out strings.Builder
	for i := 0; i < len(rec); {
		j := i
		for j < len(rec) && rec[j] == rec[i] {
			j++
		}
		st := s.Ok
		switch rec[i] {
		case engine.OutcomeFailed:
			st = s.Error
		case engine.OutcomeCancelled:
			st = s.Cancelled
		case engine.OutcomeSkipped:
			st = s.Skipped
		}
		out.WriteString(st.Render(strings.Repeat(string(sparkRune(rec[i])), j-i)))
		i = j
	}
	return out.String()
}

func sumW(cols []boardCol) int {
	n := 0
	for _, c := range cols {
		n += c.w + 1
	}
	return n
}

// pad left-aligns plain text in w cells.
func pad(s string, w int) string {
	sw := lipgloss.Width(s)
	if sw >= w {
		return truncate(s, w)
	}
	return s + strings.Repeat(" ", w-sw)
}
