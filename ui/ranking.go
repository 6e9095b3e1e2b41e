package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
)

// review is one reviewer's row of the ranking table.
type review struct {
	id, model string
	phase     phase
	reason    engine.Reason
	kind      string
	cast      bool
	ranking   []string
	invalid   bool
	raw       string
	why       string // why the ranking is invalid
}

// RankingTable is the council's peer review as it happens: one row per
// reviewer with its order (or ✗ and the start of what it wrote when it
// could not be read), the Borda count per answer with bars and the leader
// marked, and the moment the review ended early.
type RankingTable struct {
	ctx       *Context
	answers   []string // stage-1 attempt ids, in launch order
	finished  []string // stage-1 attempt ids that answered, in the order they did
	reviews   []*review
	borda     map[string]float64 // stage-1 attempt id -> points
	final     map[string]float64 // the summary's count, by model id
	ballots   map[string]int     // stage-1 attempt id -> valid ballots that ranked it
	drawn     string             // the chairman, when the engine's seeded draw settled a tie
	early     bool               // the review ended before every reviewer ranked
	earlyAt   time.Duration
	chairman  string
	hasReview bool
}

// NewRankingTable returns an empty table.
func NewRankingTable(c *Context) *RankingTable {
	return &RankingTable{ctx: c, borda: map[string]float64{}, ballots: map[string]int{}}
}

// Active reports whether there is a review to show.
func (r *RankingTable) Active() bool { return r.hasReview }

func (r *RankingTable) review(id, model string) *review {
	for _, rv := range r.reviews {
		if rv.id == id {
			return rv
		}
	}
	rv := &review{id: id, model: model}
	r.reviews = append(r.reviews, rv)
	r.hasReview = true
	return rv
}

// Apply folds one event into the table.
func (r *RankingTable) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		*r = *NewRankingTable(r.ctx)
	case engine.AttemptQueued, engine.AttemptStarted:
		switch {
		case ev.Stage == engine.StageAnswers && !slices.Contains(r.answers, ev.Attempt):
			r.answers = append(r.answers, ev.Attempt)
		case ev.Stage == engine.StageReview || ev.Role == engine.RoleReviewer:
			rv := r.review(ev.Attempt, ev.Model)
			rv.phase = phaseConnecting
			if ev.Type == engine.AttemptQueued {
				rv.phase = phaseQueued
			}
		}
	case engine.Delta, engine.FirstToken, engine.AttemptDone, engine.AttemptFailed, engine.AttemptCancelled, engine.AttemptSkipped:
		if ev.Type == engine.AttemptDone && ev.Stage == engine.StageAnswers {
			r.finished = append(r.finished, ev.Attempt)
		}
		if ev.Stage != engine.StageReview && ev.Role != engine.RoleReviewer {
			return
		}
		rv := r.review(ev.Attempt, ev.Model)
		switch ev.Type {
		case engine.Delta, engine.FirstToken:
			rv.phase = phaseStreaming
		case engine.AttemptDone:
			rv.phase = phaseDone
		case engine.AttemptFailed:
			rv.phase, rv.kind = phaseFailed, ev.Kind.String()
		case engine.AttemptCancelled, engine.AttemptSkipped:
			rv.phase, rv.reason = phaseCancelled, ev.Reason
			if ev.Type == engine.AttemptSkipped {
				rv.phase = phaseSkipped
			}
			if ev.Reason == engine.ReasonDecided && !r.early {
				r.early, r.earlyAt = true, ev.T
			}
		}
	case engine.RankingCast:
		d := detail(ev)
		rv := r.review(d.Reviewer, ev.Model)
		rv.cast, rv.ranking, rv.invalid, rv.raw, rv.why = true, d.Ranking, d.Invalid, d.Raw, d.Why
		if !d.Invalid && len(d.Ranking) > 1 {
			// As the engine counts: each ballot gives its first n-2
			// points (n answers; at least 1), its last 0, the others
			// evenly between.
			scale := float64(max(len(r.finished)-2, 1))
			for i, id := range d.Ranking {
				r.borda[id] += scale * float64(len(d.Ranking)-1-i) / float64(len(d.Ranking)-1)
				r.ballots[id]++
				if !slices.Contains(r.answers, id) {
					r.answers = append(r.answers, id)
				}
			}
		}
	case engine.SessionDone:
		if s := ev.Summary; s != nil {
			if s.Borda != nil {
				r.final = s.Borda
			}
			r.chairman = s.Chairman
			if s.TieBreak == engine.TieBordaDraw {
				r.drawn = s.Chairman
			}
		}
	}
}

// total is an answer's Borda points: the summary's once the session is
// done, else the count so far.
func (r *RankingTable) total(id string) float64 {
	if r.final != nil {
		if m := r.ctx.AttemptModel[id]; m != "" {
			return r.final[m]
		}
	}
	return r.borda[id]
}

// Borda is the count per model, as the summary's Borda map.
func (r *RankingTable) Borda() map[string]float64 {
	out := map[string]float64{}
	for _, id := range r.answers {
		out[r.ctx.AttemptModel[id]] += r.total(id)
	}
	return out
}

// leader is the answer with the most points, "" before any valid
// ranking. A tie goes as the engine breaks it: the better average rank
// (points per ballot that ranked the answer); then, once the session is
// done and the engine's seeded draw decided, the tied answer whose model
// chairs; before that, the answer that came first.
func (r *RankingTable) leader() string {
	best, bestN := "", -1.0
	order := slices.Clone(r.finished)
	for _, id := range r.answers {
		if !slices.Contains(order, id) {
			order = append(order, id)
		}
	}
	for _, id := range order {
		n := r.total(id)
		switch {
		case n > bestN+1e-9:
		case n < bestN-1e-9:
			continue
		case r.average(id) > r.average(best)+1e-9:
		case r.average(id) < r.average(best)-1e-9:
			continue
		case r.drawn != "" && r.ctx.AttemptModel[id] == r.drawn:
		default:
			continue
		}
		best, bestN = id, n
	}
	if bestN <= 0 && r.final == nil {
		return ""
	}
	return best
}

// average is an answer's points per valid ballot that ranked it, as the
// engine breaks a tie.
func (r *RankingTable) average(id string) float64 {
	if r.ballots[id] == 0 {
		return 0
	}
	return r.total(id) / float64(r.ballots[id])
}

// Height is the lines View draws: the title, a row per reviewer, a row
// per answer, and the early end.
func (r *RankingTable) Height() int {
	if len(r.reviews) == 0 && len(r.answers) == 0 {
		return 2
	}
	h := 1 + len(r.reviews) + len(r.answers)
	if r.early {
		h++
	}
	return h
}

// View draws the table.
func (r *RankingTable) View(width, height int) string {
	s := &r.ctx.S
	lines := []string{fit(r.head(), width)}
	if len(r.reviews) == 0 && len(r.answers) == 0 {
		lines = append(lines, s.Muted.Render("no review yet"))
		return strings.Join(lines, "\n")
	}
	nameW := 6
	for _, rv := range r.reviews {
		nameW = max(nameW, lipgloss.Width(rv.model))
	}
	for _, id := range r.answers {
		nameW = max(nameW, 2+lipgloss.Width(r.ctx.AttemptModel[id]))
	}
	nameW = min(nameW, max(width/3, 8))
	rest := max(width-nameW-3, 1)
	for _, rv := range r.reviews {
		lines = append(lines, fit("  "+fit(s.Subtle.Render(truncate(rv.model, nameW)), nameW)+" "+r.reviewText(rv, rest), width))
	}
	nRev := len(r.reviews)
	lines = append(lines, r.totals(nameW, width)...)
	if r.early {
		lines = append(lines, fit(s.Cancelled.Render("■ decided at "+fmtDur(r.earlyAt))+s.Subtle.Render(": leader cannot be caught"), width))
	}
	if len(lines) > height && nRev > 1 {
		// The totals matter most: the reviews fold into one line (each
		// member's pane still shows its ranking).
		folded := fit(s.Muted.Render(fmt.Sprintf("  %d reviews folded: each pane's review line has its ranking", nRev)), width)
		lines = append([]string{lines[0], folded}, lines[1+nRev:]...)
	}
	if len(lines) > height && height > 0 {
		more := fmt.Sprintf("+%d more rows: a taller terminal shows them", len(lines)-height+1)
		lines = append(lines[:height-1], fit(s.Muted.Render(truncate(more, width)), width))
	}
	return strings.Join(lines, "\n")
}

// head is the table's title with how many reviews are valid, invalid and
// still running.
func (r *RankingTable) head() string {
	s := &r.ctx.S
	valid, invalid, pending := 0, 0, 0
	for _, rv := range r.reviews {
		switch {
		case rv.cast && rv.invalid:
			invalid++
		case rv.cast:
			valid++
		case rv.phase.active():
			pending++
		}
	}
	head := s.Title.Render("Rankings") + s.Subtle.Render(fmt.Sprintf("  %d valid", valid))
	if invalid > 0 {
		head += s.Error.Render(fmt.Sprintf(" · %d invalid", invalid))
	}
	if pending > 0 {
		head += s.Subtle.Render(fmt.Sprintf(" · %d reviewing", pending))
	}
	return head
}

// reviewText is a reviewer's row after its name, in rest cells: its
// ranking, why it is invalid, or where the review stands.
func (r *RankingTable) reviewText(rv *review, rest int) string {
	s := &r.ctx.S
	switch {
	case rv.cast && rv.invalid:
		raw := strings.Join(strings.Fields(sanitize(rv.raw)), " ")
		head := "✗ invalid"
		if rv.why != "" {
			head += " · " + sanitize(rv.why)
		}
		head = truncate(head, max(rest-5, 9))
		return s.Error.Render(head) + s.Subtle.Render(": "+truncate(fmt.Sprintf("%q", raw), max(rest-lipgloss.Width(head)-2, 3)))
	case rv.cast:
		t := rankingText(r.ctx, rv.ranking, true)
		if lipgloss.Width(t) > rest {
			t = rankingText(r.ctx, rv.ranking, false)
		}
		return s.Text.Render(t)
	case rv.phase == phaseCancelled || rv.phase == phaseSkipped:
		return phaseStyle(s, rv.phase).Render(phaseGlyph(r.ctx, rv.phase)+" "+rv.phase.String()) + s.Subtle.Render(" · "+reasonText(rv.reason))
	case rv.phase == phaseFailed:
		return s.Error.Render("✗ failed") + s.Subtle.Render(" · "+rv.kind)
	case rv.phase == phaseDone:
		return s.Subtle.Render("✓ done, reading its ranking…")
	}
	return s.Running.Render(spin(r.ctx) + " reviewing…")
}

// answered reports whether a stage-1 answer arrived (so the review could
// rank it): one cancelled or failed first has no points, not 0. Without
// any answer's end known (an old log), every answer counts as arrived.
func (r *RankingTable) answered(id string) bool {
	return len(r.finished) == 0 || slices.Contains(r.finished, id) || r.ballots[id] > 0
}

// noAnswer is what stands for the points of an answer that never came.
const noAnswer = "no answer"

// totals are the answers' Borda bars, the leader starred.
func (r *RankingTable) totals(nameW, width int) []string {
	s := &r.ctx.S
	var lines []string
	lead := r.leader()
	most := 1.0
	for _, id := range r.answers {
		most = max(most, r.total(id))
	}
	bw := max(width-nameW-3-6, 4)
	for _, id := range r.answers {
		n := r.total(id)
		label := r.ctx.Labels[id]
		if label == "" {
			label = "?"
		}
		name := fit(label+" "+truncate(r.ctx.AttemptModel[id], nameW-2), nameW)
		if !r.answered(id) {
			lines = append(lines, fit("  "+s.Subtle.Render(name+" "+noAnswer), width))
			continue
		}
		f := min(int(float64(bw)*n/most+0.5), bw)
		mark, st := "  ", s.Text
		if id == lead {
			mark, st = s.Won.Render("★ "), s.Ok
		}
		line := mark + st.Render(name) + " " + st.Render(strings.Repeat("█", f)) + s.Muted.Render(strings.Repeat("░", bw-f)) + " " + points(n)
		lines = append(lines, fit(line, width))
	}
	return lines
}

// Line is the table in one line for small screens: the Borda count,
// leader first ("Borda ★ B sim/steady 4 · A sim/swift 1 …").
func (r *RankingTable) Line(width int) string {
	s := &r.ctx.S
	ids := slices.Clone(r.answers)
	slices.SortStableFunc(ids, func(a, b string) int {
		if aa, ab := r.answered(a), r.answered(b); aa != ab { // the answers that never came go last
			if aa {
				return -1
			}
			return 1
		}
		return cmp.Compare(r.total(b), r.total(a))
	})
	lead := r.leader()
	parts := make([]string, 0, len(ids))
	for _, id := range ids {
		t := fmt.Sprintf("%s %s %s", r.ctx.Labels[id], r.ctx.AttemptModel[id], points(r.total(id)))
		if !r.answered(id) {
			parts = append(parts, s.Subtle.Render(fmt.Sprintf("%s %s %s", r.ctx.Labels[id], r.ctx.AttemptModel[id], noAnswer)))
			continue
		}
		if id == lead {
			parts = append(parts, s.Won.Render("★ "+t))
			continue
		}
		parts = append(parts, s.Text.Render(t))
	}
	line := s.Title.Render("Borda") + "  " + strings.Join(parts, s.Muted.Render(" · "))
	if r.early {
		line += s.Subtle.Render(" · decided at " + fmtDur(r.earlyAt))
	}
	return fit(line, width)
}

// points writes Borda points without needless decimals: 2, 1.5, 0.33.
func points(p float64) string { return strconv.FormatFloat(math.Round(p*100)/100, 'f', -1, 64) }
