package ui

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/council-dev/council/engine"
)

// VoteTally is the consensus view: a bar per answer, the invalid votes,
// the quorum line, agreement, the moment of decision, the stragglers it
// cancelled and the tie-break taken.
type VoteTally struct {
	ctx        *Context
	voters     int // voters configured
	quorum     int // min_responses
	votes      map[string]int
	invalid    int
	voted      int
	attempts   int // voter attempts seen
	stragglers []string
	decided    bool
	decidedAt  time.Duration
	answer     string
	tieBreak   string
	status     engine.Status
	agreement  float64
	hasSummary bool
}

// NewVoteTally returns an empty tally for a consensus of voters voters
// needing quorum valid votes.
func NewVoteTally(c *Context, voters, quorum int) *VoteTally {
	return &VoteTally{ctx: c, voters: voters, quorum: quorum, votes: map[string]int{}}
}

// Active reports whether there is anything to show.
func (v *VoteTally) Active() bool { return v.attempts > 0 || v.voted > 0 }

// Apply folds one event into the tally.
func (v *VoteTally) Apply(ev engine.Event) {
	switch ev.Type {
	case engine.SessionStarted:
		*v = *NewVoteTally(v.ctx, v.voters, v.quorum)
	case engine.AttemptQueued, engine.AttemptStarted:
		if ev.Role == engine.RoleVoter && ev.Type == engine.AttemptStarted {
			v.attempts++
		}
	case engine.VoteCast:
		if ev.Role == engine.RoleEscalated || ev.Stage == engine.StageClassify {
			return // a tie's escalation decides (the line above the bars says so), a router's label routes: no votes
		}
		v.voted++
		if ev.Vote == "" {
			v.invalid++
		} else {
			v.votes[ev.Vote]++
		}
	case engine.AttemptCancelled:
		if ev.Reason == engine.ReasonDecided {
			v.stragglers = append(v.stragglers, ev.Model)
		}
	case engine.Decided:
		if v.attempts == 0 && v.voted == 0 {
			return // a race or hedge decision
		}
		v.decided, v.decidedAt, v.answer, v.tieBreak = true, ev.T, ev.Text, ev.TieBreak
	case engine.SessionDone:
		if s := ev.Summary; s != nil && (len(s.Votes) > 0 || s.Invalid > 0) {
			v.hasSummary, v.status, v.agreement = true, s.Status, s.Agreement
			v.votes = map[string]int{}
			for k, n := range s.Votes {
				v.votes[k] = n
			}
			v.invalid = int(s.Invalid)
			if s.TieBreak != "" {
				v.tieBreak = s.TieBreak
			}
			if v.answer == "" {
				v.answer = s.Answer
			}
		}
	}
}

// Height is the number of lines View draws.
func (v *VoteTally) Height() int {
	h := 2 + len(v.votes) // title, valid, one per answer
	if v.decided || v.hasSummary {
		h++
	}
	if v.invalid > 0 {
		h++
	}
	if len(v.stragglers) > 0 {
		h++
	}
	return h
}

// agreementNow is leader votes / valid votes.
func (v *VoteTally) agreementNow() float64 {
	if v.hasSummary && v.status != engine.StatusCancelled {
		return v.agreement // a cancelled session's is 0: the votes so far say more
	}
	valid, lead := 0, 0
	for _, n := range v.votes {
		valid += n
		lead = max(lead, n)
	}
	if valid == 0 {
		return 0
	}
	return float64(lead) / float64(valid)
}

// View draws the tally.
func (v *VoteTally) View(width, height int) string {
	s := &v.ctx.S
	total := max(v.voters, v.attempts, v.voted, 1)
	valid := v.voted - v.invalid
	head := s.Title.Render("Votes") + s.Subtle.Render(fmt.Sprintf("  quorum %d of %d · agreement %.0f%%", v.quorum, total, v.agreementNow()*100))
	lines := []string{fit(head, width)}
	switch {
	case v.decided:
		d := s.Won.Render("decided "+v.answer) + s.Subtle.Render(" at "+fmtDur(v.decidedAt))
		if v.tieBreak != "" {
			d += s.Warn.Render(" · tie-break " + v.tieBreak)
		}
		lines = append(lines, fit(d, width))
	case v.hasSummary && v.status == engine.StatusCancelled:
		lines = append(lines, fit(s.Cancelled.Render("■ cancelled before a decision"), width))
	case v.hasSummary && v.status == engine.StatusFailed:
		lines = append(lines, fit(s.Error.Render("✗ no decision: quorum not reached or tie"), width))
	}
	type row = tallyRow
	rows := make([]row, 0, len(v.votes))
	for k, n := range v.votes {
		rows = append(rows, row{k, n})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].n != rows[j].n {
			return rows[i].n > rows[j].n
		}
		return rows[i].label < rows[j].label
	})
	labelW := 7
	for _, r := range rows {
		labelW = max(labelW, len(r.label))
	}
	labelW = min(labelW, max(width/3, 6))
	bw := max(width-labelW-6, 4)
	unit := float64(bw) / float64(total)
	qcol := min(int(float64(v.quorum)*unit+0.5), bw-1)
	bar := func(n int, fillRune rune, st func(...string) string) string {
		cells := []rune(strings.Repeat(" ", bw))
		f := min(int(float64(n)*unit+0.5), bw)
		for i := 0; i < f; i++ {
			cells[i] = fillRune
		}
		if v.quorum > 0 && cells[qcol] == ' ' {
			cells[qcol] = '┆'
		}
		return st(string(cells[:f])) + s.Muted.Render(string(cells[f:]))
	}
	lines = append(lines, fit(fmt.Sprintf("%-*s ", labelW, "valid")+bar(valid, '▒', s.Accent.Render)+s.Subtle.Render(fmt.Sprintf(" %d/%d", valid, v.quorum)), width))
	for i, r := range rows {
		st := s.Text.Render
		if i == 0 {
			st = s.Ok.Render
		}
		lines = append(lines, fit(fmt.Sprintf("%-*s ", labelW, truncate(r.label, labelW))+bar(r.n, '█', st)+fmt.Sprintf(" %d", r.n), width))
	}
	if v.invalid > 0 {
		lines = append(lines, fit(s.Error.Render(fmt.Sprintf("%-*s ", labelW, "invalid"))+bar(v.invalid, '╳', s.Error.Render)+fmt.Sprintf(" %d", v.invalid), width))
	}
	if len(v.stragglers) > 0 {
		n := fmt.Sprintf("■ %d stragglers cancelled: ", len(v.stragglers))
		if len(v.stragglers) == 1 {
			n = "■ 1 straggler cancelled: "
		}
		lines = append(lines, fit(s.Cancelled.Render(n)+s.Subtle.Render(strings.Join(v.stragglers, ", ")), width))
	}
	if len(lines) > height {
		lines = v.compact(lines[0], head2(lines, v), rows, valid, width, height)
	}
	return strings.Join(lines, "\n")
}

// tallyRow is a category and its votes.
type tallyRow struct {
	label string
	n     int
}

// head2 is the decision line under the title, if the tally has one.
func head2(lines []string, v *VoteTally) string {
	if v.decided || v.hasSummary && (v.status == engine.StatusCancelled || v.status == engine.StatusFailed) {
		return lines[1]
	}
	return ""
}

// compact is the tally in a box too short for a bar per category: every
// category with its count on as few lines as fit, never one dropped (a
// 2-2 tie cut to its first row would read as one category leading). The
// title and the decision go first when there is no room for them.
func (v *VoteTally) compact(head, decision string, rows []tallyRow, valid, width, height int) []string {
	s := &v.ctx.S
	items := []string{fmt.Sprintf("valid %d/%d", valid, v.quorum)}
	for _, r := range rows {
		items = append(items, fmt.Sprintf("%s %d", r.label, r.n))
	}
	if v.invalid > 0 {
		items = append(items, fmt.Sprintf("invalid %d", v.invalid))
	}
	tally := strings.Split(wrapAll(strings.Join(items, " · "), width), "\n")
	for i, l := range tally {
		tally[i] = s.Text.Render(l)
	}
	out := tally
	if decision != "" && len(out) < height {
		out = append([]string{decision}, out...)
	}
	if len(out) < height {
		out = append([]string{head}, out...)
	}
	return out
}
