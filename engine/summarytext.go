package engine

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Line is the session's facts on one line for a person, as `council run`
// prints them on stderr: "s1 race/quick: decided winner sim/a in 12ms,
// $0.000010", then the route, vote, chairman, sections, stages, degraded
// reasons, each attempt that did not finish well and each breaker that is
// not closed. A model's text may be quoted, so escape sequences are
// removed (see [providers.SafeText]).
func (s *Summary) Line() string {
	line := fmt.Sprintf("%s %s/%s: %s", s.Session, s.Strategy, s.Tier, s.Status)
	if s.Winner != "" {
		line += " winner " + s.Winner
	}
	if s.Route != nil {
		line += fmt.Sprintf(" routed %s (%.2f: %s)", s.Route.Name, s.Route.Confidence, s.Route.Why)
	}
	if s.Strategy == config.Consensus && s.Answer != "" {
		line += fmt.Sprintf(" answer %s (agreement %.0f%%)", s.Answer, s.Agreement*100)
	}
	if s.Chairman != "" {
		line += " chairman " + s.Chairman
	}
	line += s.sectionNote()
	for _, st := range s.Stages {
		line += fmt.Sprintf(" [%s %s %.0fms]", st.Name, st.Status, st.ElapsedMS)
	}
	if len(s.Degraded) > 0 {
		line += " degraded: " + strings.Join(s.Degraded, ", ")
	}
	if s.TieBreak != "" {
		line += " tie_break " + s.TieBreak
	}
	line += fmt.Sprintf(" in %.0fms, $%.6f", s.ElapsedMS, s.CostUSD)
	if notes := s.attemptNotes(); len(notes) > 0 {
		line += "; " + strings.Join(notes, ", ")
	}
	if s.Error != "" {
		line += "; " + s.Error
	}
	for id, b := range s.Breakers {
		if b.State != BreakerClosed {
			line += fmt.Sprintf("; breaker %s %s", id, b.State)
		}
	}
	return providers.SafeText(line)
}

// attemptNotes names each attempt that neither won nor finished, with its
// reason and error.
func (s *Summary) attemptNotes() []string {
	var notes []string
	for _, m := range s.Models {
		switch m.Status {
		case AttemptWon, AttemptDoneStatus:
			continue
		}
		n := m.ID + " " + string(m.Status)
		if m.Role == RolePrimary || m.Role == RoleBackup {
			// A hedge's model may have two rows (a withheld backup, then
			// its failover): the role tells them apart.
			n = m.ID + " " + string(m.Role) + " " + string(m.Status)
		}
		if m.Stage != StageNone {
			n = m.ID + " " + m.Stage.String() + " " + string(m.Status)
		}
		switch {
		case m.Error != "" && m.Reason != "":
			n += " (" + m.Reason + ": " + m.Error + ")"
		case m.Reason != "":
			n += " (" + m.Reason + ")"
		}
		notes = append(notes, n)
	}
	return notes
}

// sectionNote is what a section session adds to the summary line: how
// many sections were answered, retried and voted, and the time saved.
func (s *Summary) sectionNote() string {
	if len(s.Sections) == 0 {
		return ""
	}
	done, retried, voted, disagree := 0, 0, 0, 0
	for _, sec := range s.Sections {
		if sec.Status == "done" {
			done++
		}
		if sec.Retried {
			retried++
		}
		if len(sec.Votes) > 0 {
			voted++
		}
		if sec.Disagree {
			disagree++
		}
	}
	note := fmt.Sprintf(" sections %d/%d", done, len(s.Sections))
	if retried+voted > 0 {
		note += fmt.Sprintf(" (%d retried, %d voted, %d disagreed)", retried, voted, disagree)
	}
	if s.Merge != nil {
		note += " merge " + string(s.Merge.Mode)
		if s.Merge.Model != "" {
			note += " by " + s.Merge.Model
		}
	}
	return note + fmt.Sprintf(" %.1f s instead of %.1f s", s.SerialMS/1000-s.SavedMS/1000, s.SerialMS/1000)
}

// Quantile is the nearest-rank p quantile (0 < p <= 1) of sorted xs, 0
// when xs is empty.
func Quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[max(int(math.Ceil(p*float64(len(sorted))))-1, 0)]
}

// Totals sum up many sessions' summaries (`council run --repeat`). The
// zero value is empty and ready.
type Totals struct {
	N        int
	statuses map[Status]int
	wins     map[string]int
	elapsed  []float64 // ms
	cost     float64
}

// Add counts one session.
func (t *Totals) Add(s *Summary) {
	if t.statuses == nil {
		t.statuses, t.wins = map[Status]int{}, map[string]int{}
	}
	t.N++
	t.statuses[s.Status]++
	if s.Winner != "" {
		t.wins[s.Winner]++
	}
	t.elapsed = append(t.elapsed, s.ElapsedMS)
	t.cost += s.CostUSD
}

// String is one line: "3 sessions: 2 decided, 1 degraded, 0 failed, 0
// cancelled; wins sim/a 67%, sim/b 33%; p50 12ms p95 30ms p99 31ms; cost $0.000123".
func (t *Totals) String() string {
	b := fmt.Sprintf("%d sessions: %d decided, %d degraded, %d failed, %d cancelled", t.N,
		t.statuses[StatusDecided], t.statuses[StatusDegraded], t.statuses[StatusFailed], t.statuses[StatusCancelled])
	if len(t.wins) > 0 {
		ids := make([]string, 0, len(t.wins))
		for id := range t.wins {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool {
			if t.wins[ids[i]] != t.wins[ids[j]] {
				return t.wins[ids[i]] > t.wins[ids[j]]
			}
			return ids[i] < ids[j]
		})
		var ws []string
		for _, id := range ids {
			ws = append(ws, fmt.Sprintf("%s %.0f%%", id, 100*float64(t.wins[id])/float64(t.N)))
		}
		b += "; wins " + strings.Join(ws, ", ")
	}
	if len(t.elapsed) > 0 {
		e := slices.Clone(t.elapsed)
		slices.Sort(e)
		b += fmt.Sprintf("; p50 %.0fms p95 %.0fms p99 %.0fms", Quantile(e, 0.50), Quantile(e, 0.95), Quantile(e, 0.99))
	}
	return b + fmt.Sprintf("; cost $%.6f", t.cost)
}
