package ui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
)

// helpView is the full help, grouped by purpose, with notes under it; it
// scrolls (j/k, pgup/pgdn, g/G) when it is taller than the screen.
func (m *Model) helpView(w, h int) string {
	s := &m.ctx.S
	lines := m.helpLines(w)
	view := max(h-2, 1) // the padding's top and bottom lines
	if len(lines) > view {
		view = max(view-1, 1) // a line says where we are
		off := min(max(m.helpOff, 0), len(lines)-view)
		more := fmt.Sprintf("lines %d-%d of %d · j/k pgdn/pgup scroll", off+1, off+view, len(lines))
		lines = append(slices.Clone(lines[off:off+view]), s.Muted.Render(truncate(more, w-4)))
	}
	return lipgloss.NewStyle().Padding(1, 2).Render(strings.Join(lines, "\n"))
}

// helpLines is the whole help, keys then notes, w cells wide.
func (m *Model) helpLines(w int) []string {
	s := &m.ctx.S
	hm := m.help
	hm.SetWidth(w - 4)
	body := fullHelpView(hm, m.helpKeys(), w-4, s.Title) // the keys of the screen it was opened from
	lines := strings.Split(body, "\n")
	notes := []string{
		"Panes show: status · ttft · tokens · tok/s · cost · latency bar on the timeline's axis (▼ first token, ↯ hedge fired, ┊ the per-model timeout).",
		"Request settings (O edits them): " + settingsText(m.settings) + ".",
		"Chaos keys act on the focused model; e and s apply to simulated models only.",
		"Editing the prompt: ←/→ and alt+←/→ move, ctrl+a/ctrl+e go to the start/end, ctrl+w/ctrl+u/ctrl+k delete a word/to the start/to the end, ctrl+v pastes.",
	}
	if m.council() {
		notes = append([]string{"Council: the members answer (stage 1; A, B, C… label the answers), each reviews the others' answers (rankings best first; Borda gives n-1…0 points; ✗ an unreadable ranking), the chairman writes the synthesis (tab or ↓ reaches it, enter zooms it)."}, notes...)
	}
	if m.sectioning() {
		notes = append([]string{"Section: tab goes between the list of sections and the merge; on the list j/k pick a section and enter shows its attempts; on the merge j/k, pgdn/pgup and g/G scroll it, enter zooms it; y copies the section's answer or the merged result. The header's time saved is the session's wall clock against the sum of the section attempts' times."}, notes...)
	}
	if isStepper(m.b) {
		notes = append([]string{"Replay: the header says which log, how fast, which session of how many, and whether it plays, is paused or steps; space pauses, n plays one event, 0 plays the session again, r the next. A replay changes nothing: m, t, O, C, a, p, /, e, s, E and S say so, and its cost is never added to a run's spend."}, notes...)
	}
	if m.watch != nil {
		admin := "the breaker and chaos keys need the servers' admin token (--admin-token)"
		if m.watch.src.Admin() {
			admin = "the breaker keys (o c f B) and e/s act on every watched server that serves the focused model"
		}
		notes = append([]string{"Watching servers: sessions come from them ([ ] older/newer, F follows the latest, L lists them); r, /, a, esc, m, t, space, C and O run or change nothing here; " + admin + "."}, notes...)
	}
	if r := m.route; r != nil {
		notes = append([]string{fmt.Sprintf("Route: %s, tier %s — %s", routeText(r), orDash(r.Tier), r.Why)}, notes...)
	}
	lines = append(lines, "")
	for _, n := range notes {
		for _, l := range strings.Split(wrapAll(n, w-4), "\n") {
			lines = append(lines, s.Subtle.Render(l))
		}
	}
	return lines
}

// helpScroll moves the help by d lines, within its length.
func (m *Model) helpScroll(d int) {
	view := max(m.bodyH()-2-1, 1)
	m.helpOff = min(max(m.helpOff+d, 0), max(len(m.helpLines(m.width))-view, 0))
}
