package ui

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// headerView: strategy, tier, session number, elapsed, session and run
// cost on the left; the settings, auto-fire and the session's state on the
// right.
func (m *Model) headerView(w int) string {
	s := &m.ctx.S
	labels, values, short, replayState := m.headerItems()
	parts := make([]string, len(values))
	for i := range values {
		parts[i] = s.HeaderLabel.Render(labels[i]+" ") + s.Bold.Render(values[i])
	}
	stateW := max(w/2-12, 10)
	rs := " " + strings.Join(m.headerRight(stateW, replayState), "  ") + " "
	room := w - lipgloss.Width(rs)
	left := s.Header.Render(" council ") + " " + strings.Join(parts, s.Muted.Render("  │  "))
	if lipgloss.Width(left) > room {
		values[0] = short
		// The left side is what names the session; a replay's log name
		// (to 8 cells), then the state's words (a degraded session's
		// reasons), then the rest of the name give way to it, cut with "…".
		replay, replaying := m.b.(Stepper)
		nameW := 0
		if replaying {
			nameW = min(replayNameW, lipgloss.Width(filepath.Base(replay.Playing().Name)))
		}
		left = m.narrowHeader(labels, values, room, nameW)
	shrink:
		for over := lipgloss.Width(left) - room; over > 0; over = lipgloss.Width(left) - room {
			switch {
			case nameW > 8:
				nameW = max(nameW-over, 8)
			case stateW > 10:
				stateW = max(stateW-over, 10)
				rs = " " + strings.Join(m.headerRight(stateW, replayState), "  ") + " "
				room = w - lipgloss.Width(rs)
			case nameW > 0:
				if nameW -= over; nameW < 4 { // a name cut shorter says nothing
					nameW = 0
				}
			default:
				break shrink
			}
			left = m.narrowHeader(labels, values, room, nameW)
		}
	}
	return spread(left, rs, w)
}

// headerItems are the header's labels and values, the strategy's short
// form for a narrow header, and a replay's state (what it plays).
func (m *Model) headerItems() (labels, values []string, short, replayState string) {
	n := "—"
	if m.sessionN > 0 {
		n = fmt.Sprintf("#%d", m.sessionN)
	}
	clock := fmtDur(m.ctx.Elapsed)
	replay, replaying := m.b.(Stepper)
	if m.running && !m.replayPaused() {
		clock = spin(m.ctx) + " " + clock
	}
	st := m.shownStrategy()
	strategy, short := string(st), string(st)
	if st == config.Auto && m.route != nil {
		strategy, short = routeText(m.route), "auto→"+string(m.route.Strategy)
	}
	tier := m.sessTier
	if m.watch != nil && m.sessionN == 0 {
		// Nothing watched yet: the dashboard's own config names no
		// server's strategy or tier.
		strategy, short, tier = "—", "—", ""
	}
	values = []string{strategy, orDash(tier), n, clock, withCap(m.sessionCost, m.sessionCap()), withCap(m.runCost+m.liveCost(), m.cfg.MaxRunCostUSD)}
	labels = []string{"strategy", "tier", "session", "elapsed", "cost", "run"}
	if m.watch != nil {
		labels[5] = "seen" // what the sessions watched so far cost
		values[5] = fmtCost(m.watch.spent)
	}
	if replaying { // no run spend: a replay spends nothing; the mark says what plays
		var mark string
		mark, replayState = replayMark(replay, replayNameW)
		values[5], labels[5] = strings.TrimPrefix(mark, "replay "), "replay"
	}
	return labels, values, short, replayState
}

// headerRight is the header's right side: the settings, a section
// session's time saved, auto-fire, and the session's state (its words cut
// to stateW cells).
func (m *Model) headerRight(stateW int, replayState string) []string {
	s := &m.ctx.S
	_, replaying := m.b.(Stepper)
	var right []string
	if st := settingsShort(m.shownSettings()); st != "" {
		right = append(right, s.Subtle.Render(st))
	}
	if sv := m.sections.Saved(); sv != "" && m.sectioning() {
		right = append(right, s.Ok.Render(sv))
	}
	switch {
	case m.auto && m.autoPaused:
		right = append(right, s.Warn.Render("⏸ auto paused"))
	case m.auto && !m.running && m.autoNextAt.After(m.ctx.Now):
		// The result is held: say for how long.
		left := m.autoNextAt.Sub(m.ctx.Now).Round(time.Second)
		right = append(right, s.Warn.Render("⟳ auto "+fmtDur(m.opts.AutoFireEvery)+" · next "+fmtDur(max(left, time.Second))))
	case m.auto:
		right = append(right, s.Warn.Render("⟳ auto "+fmtDur(m.opts.AutoFireEvery)))
	}
	switch {
	case m.running && replaying:
		right = append(right, s.Running.Render(replayState))
	case m.running:
		right = append(right, s.Running.Render("● running"))
	case m.summary != nil:
		st := s.Ok
		word := string(m.summary.Status)
		switch m.summary.Status {
		case engine.StatusFailed:
			st = s.Error
		case engine.StatusCancelled:
			st, word = s.Cancelled, "■ cancelled"
		case engine.StatusDegraded:
			st = s.Warn
		}
		if len(m.summary.Degraded) > 0 {
			word = "degraded: " + strings.Join(m.summary.Degraded, ", ")
			if m.summary.Status != engine.StatusDegraded {
				word = string(m.summary.Status) + " · " + word
			}
		}
		right = append(right, st.Render(truncate(word, stateW)))
	}
	return right
}

// narrowHeader is the header's left side when it does not fit in room:
// values only, the run cost labelled; then, while it does not fit,
// without the run cost, the tier, the session's cost. A replay keeps its
// strategy, tier and mark (the log's name cut to nameW cells): the
// session's cost, clock and number go first.
func (m *Model) narrowHeader(labels, values []string, room, nameW int) string {
	s := &m.ctx.S
	drops := []int{-1, 5, 1, 4} // run, tier, then the session's cost
	if replay, ok := m.b.(Stepper); ok {
		drops = []int{-1, 4, 3, 2}
		mark, _ := replayMark(replay, nameW)
		values[5] = strings.TrimPrefix(mark, "replay ")
	}
	var left string
	gone := map[int]bool{}
	for _, drop := range drops {
		gone[drop] = true
		var parts []string
		for i, v := range values {
			switch {
			case gone[i]:
			case i == 5:
				parts = append(parts, s.HeaderLabel.Render(labels[i]+" ")+s.Bold.Render(v))
			default:
				parts = append(parts, s.Bold.Render(v))
			}
		}
		if left = s.Header.Render(" council ") + " " + strings.Join(parts, s.Muted.Render(" · ")); lipgloss.Width(left) <= room {
			break
		}
	}
	return left
}

// sessionCap is the spending cap of the session on screen: its summary's,
// else its session_started's, else (before any session) the one the
// dashboard asks for (--max-cost), else the config's max_cost_usd; 0 when
// there is none.
func (m *Model) sessionCap() float64 {
	if m.summary != nil && m.summary.CostCapUSD > 0 {
		return m.summary.CostCapUSD
	}
	if m.sessionN > 0 {
		return m.sessInfo.CostCapUSD
	}
	if m.opts.MaxCostUSD > 0 {
		return m.opts.MaxCostUSD
	}
	return m.cfg.MaxCostUSD
}

// withCap is a cost and, when there is a cap, the cap: "$0.0120 / $0.05".
func withCap(c, limit float64) string {
	if limit <= 0 {
		return fmtCost(c)
	}
	return fmtCost(c) + " / $" + strconv.FormatFloat(limit, 'f', -1, 64)
}

// liveCost is the running session's cost so far (0 once it is counted).
func (m *Model) liveCost() float64 {
	if m.running {
		return m.sessionCost
	}
	return 0
}
