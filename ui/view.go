package ui

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// Minimum terminal size; below it the dashboard says so.
const minWidth, minHeight = 60, 16

// Pane size limits of the grid.
const minPaneW, minPaneH = 28, 7 // a box shorter than 7 holds one line of text: one line per model reads better

// View draws the whole screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.WindowTitle = "council"
	if !m.opts.NoMouse {
		v.MouseMode = tea.MouseModeCellMotion
	}
	return v
}

// render is the frame as a string (the content of View); the mouse reads
// the frame's lines and the panes' places.
func (m *Model) render() string {
	m.paneRects, m.panesY = m.paneRects[:0], 2+len(m.routeLines(m.width))
	if m.watch != nil {
		m.panesY++ // under the watch line
	}
	out := m.renderFrame()
	m.frame = strings.Split(out, "\n")
	return out
}

func (m *Model) renderFrame() string {
	if m.quitting {
		return ""
	}
	w, h := m.width, m.height
	if w == 0 || h == 0 {
		return "starting council…"
	}
	m.ctx.Now = m.clock()
	m.ctx.Elapsed = m.elapsed()
	m.ctx.Axis = m.timeline.scale()
	if m.tooSmall() {
		msg := fmt.Sprintf("terminal too small: %d×%d\nthe dashboard needs at least %d×%d\n\nq quits", w, h, minWidth, minHeight)
		return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, msg)
	}
	bh := h - 3
	top := m.headerView(w) + "\n" + m.promptView(w)
	if rl := m.routeLines(w); len(rl) > 0 {
		bh -= len(rl)
		top += "\n" + strings.Join(rl, "\n")
	}
	if m.watch != nil {
		bh--
		top += "\n" + m.watchLine(w)
	}
	var body string
	switch m.mode {
	case modeWatchList:
		body = m.watchListView(w, bh)
	case modeHelp:
		body = m.helpView(w, bh)
	case modeZoom:
		body = m.zoomView(w, bh)
	case modeHistory:
		body = m.historyView(w, bh)
	case modeCompare:
		body = m.compareView(w, bh)
	default:
		body = m.bodyView(w, bh)
	}
	return top + "\n" + padLines(body, bh) + "\n" + m.footerView(w)
}

// routeLines are an auto session's route and why, under the prompt line
// for as long as the session is on screen (the header has room for the
// route only when it is wide; a status would go): at most two lines,
// cut with "…" and whole in the help's notes.
func (m *Model) routeLines(w int) []string {
	if m.sessionN == 0 || w <= 0 || m.tooSmall() {
		return nil
	}
	s := &m.ctx.S
	r := m.route
	var text string
	switch {
	case r != nil:
		// A route that keeps the tier names none: the session's is it.
		text = fmt.Sprintf("route %s → %s on %s (%.2f) · why: %s", r.Name, orDash(string(r.Strategy)), orDash(cmp.Or(r.Tier, m.sessTier)), r.Confidence, orDash(r.Why))
	case m.sessInfo.Strategy != config.Auto:
		return nil
	case m.running:
		text = "route: the router is classifying the prompt…"
	default:
		text = "route: none was chosen"
	}
	lines := strings.Split(wrapAll(text, w-2), "\n")
	if len(lines) > 2 {
		lines = lines[:2]
		lines[1] = truncate(lines[1]+" …", w-2)
	}
	for i, l := range lines {
		lines[i] = " " + s.Subtle.Render(l)
	}
	return lines
}

// bodyH is the height left for the body under the header, the prompt
// line, the route and the watch lines, above the footer.
func (m *Model) bodyH() int {
	h := m.height - 3 - len(m.routeLines(m.width))
	if m.watch != nil {
		h--
	}
	return h
}

// tooSmall reports whether the terminal is below the minimum size, where
// the screen only says so (and that q quits).
func (m *Model) tooSmall() bool {
	return m.width > 0 && m.height > 0 && (m.width < minWidth || m.height < minHeight)
}

// elapsed is the session's time: the latest event, or the wall clock since
// it started while it runs.
func (m *Model) elapsed() time.Duration {
	if m.summary != nil && m.summary.Elapsed > 0 {
		return m.summary.Elapsed
	}
	// A replay's time is its events' (recorded) time: paused or played
	// faster, the wall clock would say something false.
	if m.running && !m.startWall.IsZero() && !isStepper(m.b) {
		return max(m.lastT, m.clock().Sub(m.startWall))
	}
	return m.lastT
}

// padLines makes s exactly n lines.
func padLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	for len(lines) < n {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// headerView: strategy, tier, session number, elapsed, session and run cost.
func (m *Model) headerView(w int) string {
	s := &m.ctx.S
	item := func(label, value string) string {
		return s.HeaderLabel.Render(label+" ") + s.Bold.Render(value)
	}
	sep := s.Muted.Render("  │  ")
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
	values := []string{strategy, orDash(m.sessTier), n, clock, withCap(m.sessionCost, m.sessionCap()), withCap(m.runCost+m.liveCost(), m.cfg.MaxRunCostUSD)}
	labels := []string{"strategy", "tier", "session", "elapsed", "cost", "run"}
	if m.watch != nil {
		labels[5] = "seen" // what the sessions watched so far cost
		values[5] = fmtCost(m.watch.spent)
	}
	var replayState string
	if replaying { // no run spend: a replay spends nothing; the mark says what plays
		var mark string
		mark, replayState = replayMark(replay)
		values[5], labels[5] = strings.TrimPrefix(mark, "replay "), "replay"
	}
	parts := make([]string, len(values))
	for i := range values {
		parts[i] = item(labels[i], values[i])
	}
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
		right = append(right, st.Render(truncate(word, max(w/2-12, 10))))
	}
	rs := " " + strings.Join(right, "  ") + " "
	room := w - lipgloss.Width(rs)
	left := s.Header.Render(" council ") + " " + strings.Join(parts, sep)
	if lipgloss.Width(left) > room {
		// Narrow: values only, the run cost labelled; then, while it does
		// not fit, without the run cost, the tier, the session's cost.
		values[0] = short
		for i := range values[:5] {
			parts[i] = s.Bold.Render(values[i])
		}
		drops := []int{-1, 5, 1, 3} // run, tier, then cost (index after the tier's)
		if replaying {
			drops = []int{-1, 1, 3, 2} // a replay keeps its mark: tier, cost, elapsed go first
		}
		for _, drop := range drops {
			if drop >= 0 {
				parts = slices.Delete(parts, drop, drop+1)
			}
			left = s.Header.Render(" council ") + " " + strings.Join(parts, s.Muted.Render(" · "))
			if lipgloss.Width(left) <= room {
				break
			}
		}
	}
	return spread(left, rs, w)
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

// routeWhy is why the router chose the session's route: the prompt
// line's right side whenever no status is shown, so it stays on screen.
func (m *Model) routeWhy() string {
	if m.route == nil {
		return ""
	}
	return m.route.Why
}

// promptView is the prompt line with the transient status on its right
// (else the route's why); the chaos form takes its place while it is open.
func (m *Model) promptView(w int) string {
	s := &m.ctx.S
	if m.mode == modeForm {
		return fit(m.form.View(), w)
	}
	right := " "
	switch {
	case m.status != "":
		sty := s.Accent
		if m.statusErr {
			sty = s.Error
		}
		right = "  " + sty.Render(truncate(m.status, w/2)) + " "
	case m.routeWhy() != "":
		right = "  " + s.Subtle.Render(truncate(m.routeWhy(), w/2)) + " "
	}
	if tags := m.promptTags(w); tags != "" {
		right = "  " + s.Accent.Render(tags) + right
	}
	return spread(m.input.View(), right, w)
}

// footerView is the short help of the focused area, "? help" and the mode.
func (m *Model) footerView(w int) string {
	s := &m.ctx.S
	right := s.Muted.Render(" " + m.mode.String() + " ")
	if m.mode != modePrompt && m.mode != modeHelp && m.mode != modeForm {
		right = s.Accent.Render("?") + s.Subtle.Render(" help ") + right
	}
	if m.mode == modeForm && m.status != "" {
		// The form has the prompt line, where the status goes: what it
		// refused, and why, is said here.
		sty := s.Accent
		if m.statusErr {
			sty = s.Error
		}
		right = sty.Render(truncate(m.status, w*2/3)) + " " + right
	}
	return spread(" "+shortHelpView(m.help.Styles, m.ctx.Keys.ShortHelp(), w-lipgloss.Width(right)-3), right, w)
}

// shortHelpView is the enabled bindings as "key desc • key desc", as many
// whole items as fit in w cells, then "…". (help.Model.ShortHelpView adds
// the item anyway when the ellipsis does not fit, overflowing its width.)
func shortHelpView(st help.Styles, bindings []key.Binding, w int) string {
	var b strings.Builder
	used := 0
	sep := st.ShortSeparator.Inline(true).Render(" • ")
	for _, kb := range bindings {
		if !kb.Enabled() {
			continue
		}
		item := st.ShortKey.Inline(true).Render(kb.Help().Key) + " " + st.ShortDesc.Inline(true).Render(kb.Help().Desc)
		if used > 0 {
			item = sep + item
		}
		iw := lipgloss.Width(item)
		if used+iw > w {
			if used+2 <= w {
				b.WriteString(" " + st.Ellipsis.Inline(true).Render("…"))
			}
			break
		}
		b.WriteString(item)
		used += iw
	}
	return b.String()
}

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

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// zoomView is the focused pane (or the synthesis) at full size with its
// whole text.
func (m *Model) zoomView(w, h int) string {
	pct := ""
	if m.zoom.TotalLineCount() > m.zoom.Height() {
		// Which lines are shown, not a bare percentage (that reads like an
		// error rate beside a model's name).
		first := m.zoom.YOffset() + 1
		last := min(m.zoom.YOffset()+m.zoom.Height(), m.zoom.TotalLineCount())
		pct = fmt.Sprintf(" · lines %d-%d of %d", first, last, m.zoom.TotalLineCount())
	}
	lines := append(m.zoomHead(w-2), strings.Split(m.zoom.View(), "\n")...)
	if m.sectioning() && m.sections.zoomed {
		title, _ := m.sectionZoom()
		return box(m.ctx, title+pct, "", lines, w, h, true)
	}
	if m.synthFocused() {
		return box(m.ctx, m.synth.Title()+pct, m.synth.badge(), lines, w, h, true)
	}
	p := m.focused()
	if p == nil {
		return ""
	}
	return box(m.ctx, p.ID+pct, p.badge(), lines, w, h, true)
}

// zoomHead is the zoomed box's lines over the scrolling text: the status,
// the stage strip of a model with several attempts, the metrics, the
// latency bar and a rule.
func (m *Model) zoomHead(iw int) []string {
	rule := m.ctx.S.Muted.Render(strings.Repeat("┄", iw))
	var lines []string
	switch p := m.focused(); {
	case m.sectioning() && m.sections.zoomed:
		lines = []string{fit(m.ctx.S.Subtle.Render("tab: the other · y copies · esc back"), iw)}
	case m.synthFocused():
		lines = m.synth.head(iw)
	case p != nil:
		lines = append(lines, spread(p.a.statusLine(m.ctx)+p.a.voteText(m.ctx), " "+m.ctx.S.Subtle.Render(string(p.a.role)), iw))
		if p.multi() {
			lines = append(lines, fit(p.strip(), iw))
		}
		lines = append(lines, p.metrics(), p.bar(iw))
	default:
		return nil
	}
	return append(lines, rule) // an auto session's route is on the line under the prompt
}

// gridCols is the number of pane columns at the current size.
func (m *Model) gridCols() int {
	paneH, _ := m.split(m.bodyH())
	g := chooseGrid(len(m.panes), m.width, paneH)
	return g.cols
}

// grid is how the panes are laid out.
type grid struct {
	cols, rows int
	compact    bool // too little room for boxes: one line per model
}

// chooseGrid picks the columns that give panes the most readable shape:
// not narrower than minPaneW nor shorter than minPaneH, few empty cells,
// boxes about four times wider than tall (terminal cells are tall).
func chooseGrid(n, w, h int) grid {
	if n == 0 {
		return grid{cols: 1}
	}
	best, bestScore := grid{cols: 1, rows: n, compact: true}, math.Inf(1)
	for c := 1; c <= n; c++ {
		r := (n + c - 1) / c
		pw, ph := w/c, h/r
		if pw < minPaneW || ph < minPaneH {
			continue
		}
		aspect := float64(pw) / (float64(ph) * 4)
		score := math.Abs(math.Log(aspect)) + float64(c*r-n)/float64(n)
		if score < bestScore {
			best, bestScore = grid{cols: c, rows: r}, score
		}
	}
	return best
}

// split divides the body height between the panes and the bottom area
// (timeline, votes, breakers).
func (m *Model) split(bh int) (paneH, bottomH int) {
	want := m.bottomWant(m.width)
	bottomH = min(want, bh*45/100)
	if len(m.panes) == 0 {
		bottomH = min(want, bh)
	}
	return bh - bottomH, bottomH
}

func (m *Model) showVotes() bool {
	return m.shownStrategy() == config.Consensus || m.votes.Active()
}

// bottomWant is the height the bottom area would like at width w.
func (m *Model) bottomWant(w int) int {
	tl := max(len(m.timeline.order), 1) + 2
	br := max(len(m.board.health), 1) + 2
	vt := 0
	if m.showVotes() {
		vt = m.votes.Height()
	}
	switch {
	case w >= threeCols || w >= 150 && vt == 0:
		return max(tl, br, vt)
	case w >= 100:
		return max(tl+vt, br)
	}
	return tl + vt + br
}

// bodyView draws the panes over the bottom area.
func (m *Model) bodyView(w, bh int) string {
	if m.sectioning() {
		return m.sectionsBody(w, bh)
	}
	if m.council() {
		return m.councilBody(w, bh)
	}
	paneH, bottomH := m.split(bh)
	if len(m.panes) > 0 && chooseGrid(len(m.panes), w, paneH).compact {
		return m.compactBody(w, bh)
	}
	out := m.panesView(w, paneH)
	if bottomH > 0 {
		out = padLines(out, paneH) + "\n" + m.bottomView(w, bottomH)
	}
	return out
}

// councilBody is the council's screen: the stage bar, the members' panes,
// then the synthesis beside the rankings and the timeline, and the
// breakers in one line (each pane has its badge).
func (m *Model) councilBody(w, bh int) string {
	h := bh - 1
	bottomH := min(m.councilBottomWant(w), h*55/100)
	paneH := h - bottomH
	if len(m.panes) == 0 || chooseGrid(len(m.panes), w, paneH).compact {
		return m.compactBody(w, bh)
	}
	m.panesY++ // under the stage bar
	return m.stages.View(w, 1) + "\n" + padLines(m.panesView(w, paneH), paneH) + "\n" + m.councilBottom(w, bottomH)
}

// synthMinH is the least height of the synthesis box.
const synthMinH = 8

// councilBottomWant is the height the council's bottom area would like.
func (m *Model) councilBottomWant(w int) int {
	right := m.rank.Height() + max(len(m.timeline.order), 1) + 2
	if w >= 100 {
		return max(right, synthMinH) + 1
	}
	return synthMinH + right + 1
}

// councilBottom draws the synthesis on the left, the ranking table over
// the timeline on the right (stacked under it when narrow), and the
// breakers' summary line.
func (m *Model) councilBottom(w, h int) string {
	if h <= 1 {
		return m.board.SummaryView(w)
	}
	bh := h - 1
	var out string
	if w >= 100 {
		lw := w / 2
		rw := w - lw - 1
		rankH := min(m.rank.Height(), max(bh-3, 1))
		right := padLines(m.rank.View(rw, rankH), rankH)
		if tlH := bh - rankH; tlH > 0 {
			right += "\n" + m.timeline.View(rw, tlH)
		}
		out = joinColumns([]string{m.synth.View(lw, bh), right}, []int{lw + 1, rw}, bh)
	} else {
		sh := max(bh-m.rank.Height()-max(len(m.timeline.order), 1)-2, min(synthMinH, bh))
		parts := []string{m.synth.View(w, sh)}
		rest := bh - sh
		if rest > 0 {
			rankH := min(m.rank.Height(), rest)
			parts = append(parts, padLines(m.rank.View(w, rankH), rankH))
			rest -= rankH
		}
		if rest > 0 {
			parts = append(parts, padLines(m.timeline.View(w, rest), rest))
		}
		out = strings.Join(parts, "\n")
	}
	return out + "\n" + m.board.SummaryView(w)
}

// panesView lays the panes out in a grid, or one line each when small.
func (m *Model) panesView(w, h int) string {
	n := len(m.panes)
	if n == 0 && m.watch != nil {
		return m.ctx.S.Muted.Render("no session yet: each one the servers run shows here as it starts (the breakers are their models)")
	}
	if n == 0 {
		return m.ctx.S.Muted.Render("no models in tier " + m.sessTier)
	}
	g := chooseGrid(n, w, h)
	if g.compact {
		return m.compactView(w, h)
	}
	var b strings.Builder
	y := m.panesY
	for r := 0; r < g.rows; r++ {
		ph := h / g.rows
		if r < h%g.rows {
			ph++
		}
		x := 0
		views := make([][]string, g.cols)
		widths := make([]int, g.cols)
		for c := 0; c < g.cols; c++ {
			widths[c] = w / g.cols
			if c < w%g.cols {
				widths[c]++
			}
			if i := r*g.cols + c; i < n {
				views[c] = strings.Split(m.panes[i].View(widths[c], ph), "\n")
				m.paneRects = append(m.paneRects, rect{x, y, widths[c], ph, i})
			}
			x += widths[c]
		}
		y += ph
		for l := 0; l < ph; l++ {
			if r > 0 || l > 0 {
				b.WriteByte('\n')
			}
			for c := 0; c < g.cols; c++ {
				if l < len(views[c]) {
					b.WriteString(views[c][l])
				} else {
					b.WriteString(strings.Repeat(" ", widths[c]))
				}
			}
		}
	}
	return b.String()
}

// compactView is one line per model when boxes do not fit: name, status,
// the metrics that fit, and the breaker badge in a column of its own.
func (m *Model) compactView(w, h int) string {
	s := &m.ctx.S
	nameW, badgeW, statusW := 4, 0, 0
	badges := make([]string, len(m.panes))
	statuses := make([]string, len(m.panes))
	for i, p := range m.panes {
		nameW = max(nameW, lipgloss.Width(p.ID))
		badges[i] = p.badge()
		badgeW = max(badgeW, lipgloss.Width(badges[i]))
		statuses[i] = p.statusText()
		statusW = max(statusW, lipgloss.Width(statuses[i]))
	}
	nameW = min(nameW, w/4)
	statusW = min(statusW, 26)
	lines := make([]string, 0, len(m.panes))
	for i, p := range m.panes {
		mark := "  "
		name := s.Subtle.Render(fit(truncate(p.ID, nameW), nameW))
		if i == m.focus {
			mark, name = s.Focus.Render("▶ "), s.Focus.Render(fit(truncate(p.ID, nameW), nameW))
		}
		line := mark + name + " " + fit(statuses[i], statusW)
		if room := w - lipgloss.Width(line) - badgeW - 3; room > 0 && !p.excluded {
			if p.multi() { // the stages say more than the answer's metrics
				line += " " + fit(p.stripOf(true), room)
			} else {
				line += " " + p.metricsFit(room)
			}
		}
		lines = append(lines, spread(line, "  "+fit(badges[i], badgeW), w))
	}
	if len(lines) > h {
		// Keep the focused line visible.
		start := min(max(m.focus-h+1, 0), len(lines)-h)
		lines = lines[start : start+h]
	}
	return strings.Join(lines, "\n")
}

// detailMin is the fewest lines worth giving the focused model's text in
// the compact layout (its title and three lines).
const detailMin = 4

// detailPane is the model whose answer the compact layout shows: the
// focused one once the user has moved the focus; until then the winner, or
// while nobody has won, the model that has streamed the most, so the rows
// show the answer forming rather than a straggler with nothing to say.
func (m *Model) detailPane() *ModelPane {
	if m.userFocus {
		return m.focused()
	}
	var best *ModelPane
	for _, p := range m.panes {
		if p.a.won {
			return p
		}
		if best == nil || p.a.textRunes > best.a.textRunes {
			best = p
		}
	}
	if best == nil || best.a.textRunes == 0 {
		return m.focused()
	}
	return best
}

// compactBody is the layout of small terminals: one line per model, then
// the focused model's answer in the rows left over, then the timeline,
// the votes and the breakers. On a narrow screen the breaker board
// shrinks to one summary line when it would crowd the answer out (each
// model's line carries its breaker badge anyway).
func (m *Model) compactBody(w, bh int) string {
	listH := min(len(m.panes), max(bh/3, 1))
	avail := bh - listH
	var bottom string
	var bottomH int
	council := m.council()
	if council {
		avail-- // the stage bar
	}
	switch {
	case council && w < 100:
		bottom, bottomH = m.councilStacked(w, avail, detailMin)
	case w >= 100:
		bottomH = min(m.bottomWant(w), avail)
		bottom = m.bottomView(w, bottomH)
	default:
		bottom, bottomH = m.stackedBottom(w, avail, detailMin)
	}
	dh := avail - bottomH
	if dh == 1 { // a title without text: rather one more model line
		listH = min(len(m.panes), listH+1)
		dh = bh - listH - bottomH
		if council {
			dh--
		}
	}
	parts := []string{padLines(m.compactView(w, listH), listH)}
	if council {
		parts = append(parts, m.stages.View(w, 1))
	}
	if dh > 0 {
		parts = append(parts, padLines(m.detailView(w, dh), dh))
	}
	if bottomH > 0 {
		parts = append(parts, bottom)
	}
	return strings.Join(parts, "\n")
}

// councilStacked is the council's bottom area on a small screen, in at
// most h lines leaving keep free: the Borda count in a line, the latest
// rows of the timeline, the breakers' summary line.
func (m *Model) councilStacked(w, h, keep int) (string, int) {
	if h <= 0 {
		return "", 0
	}
	var parts []string
	used := 0
	if m.rank.Active() && h-used > keep {
		parts = append(parts, m.rank.Line(w))
		used++
	}
	if tlH := min(max(len(m.timeline.order), 1)+2, (h-used-1-keep)/1); tlH >= 3 {
		tlH = min(tlH, max(h/2, 3))
		parts = append(parts, padLines(m.timeline.View(w, tlH), tlH))
		used += tlH
	}
	if used < h {
		parts = append(parts, m.board.SummaryView(w))
		used++
	}
	return strings.Join(parts, "\n"), used
}

// stackedBottom stacks timeline, votes and breakers in at most h lines,
// leaving keep lines free when it can: the board is drawn in full only if
// it fits beside them, else as its one-line summary. It returns the
// drawing and the lines it uses.
func (m *Model) stackedBottom(w, h, keep int) (string, int) {
	if h <= 0 {
		return "", 0
	}
	tlH := min(max(len(m.timeline.order), 1)+2, h)
	parts := []string{padLines(m.timeline.View(w, tlH), tlH)}
	used := tlH
	if m.showVotes() && used < h {
		vh := min(m.votes.Height(), h-used)
		parts = append(parts, padLines(m.votes.View(w, vh), vh))
		used += vh
	}
	switch full := max(len(m.board.health), 1) + 2; {
	case h-used-full >= keep:
		parts = append(parts, padLines(m.board.View(w, full), full))
		used += full
	case used < h:
		parts = append(parts, m.board.SummaryView(w))
		used++
	}
	return strings.Join(parts, "\n"), used
}

// detailView is the focused model's answer in the compact layout: a rule
// with its name and status, then the word-wrapped tail of its text.
func (m *Model) detailView(w, h int) string {
	s := &m.ctx.S
	if m.council() && (m.synthFocused() || !m.userFocus && m.synth.Active()) {
		return m.synthDetail(w, h)
	}
	p := m.detailPane()
	if p == nil || h <= 0 {
		return ""
	}
	head := s.Muted.Render("── ") + s.Title.Render(p.ID) + " " + p.statusText()
	lines := []string{head + " " + s.Muted.Render(strings.Repeat("─", max(w-lipgloss.Width(head)-1, 0)))}
	rows := h - 1
	add := func(st lipgloss.Style, ls ...string) {
		for _, l := range ls {
			if len(lines) < h {
				lines = append(lines, st.Render(l))
			}
		}
	}
	if p.a.phase == phaseFailed && p.a.err != "" {
		add(s.Error, truncate(sanitize(p.a.err), w))
		rows--
	}
	switch text := p.Text(); {
	case text != "":
		st := s.Text
		if p.a.phase == phaseCancelled || p.a.phase == phaseFailed {
			st = s.Subtle
		}
		add(st, wrapEnd(text, w, rows, p.a.phase.ended())...)
	case m.sessionN == 0:
		if m.opts.Why != "" {
			add(s.Subtle, wrapTail(m.opts.Why, w, rows)...)
		}
		add(s.Muted, wrapTail("Type a prompt and press enter: every model answers at once. tab or j/k picks the model shown here, enter zooms it, ? shows every key.", w, h-len(lines))...)
	case p.a.phase.active():
		add(s.Muted, "waiting for the first token…")
	case p.a.phase != phaseIdle:
		add(s.Muted, "(no text)")
	}
	return strings.Join(lines, "\n")
}

// synthDetail is the synthesis in the compact layout: a rule with the
// chairman and its status, then the tail of the text.
func (m *Model) synthDetail(w, h int) string {
	s := &m.ctx.S
	sp := m.synth
	head := s.Muted.Render("── ") + s.Title.Render(sp.Title()) + " " + sp.a.statusLine(m.ctx)
	if sp.fallback {
		head += " " + sp.badge()
	}
	lines := []string{head + " " + s.Muted.Render(strings.Repeat("─", max(w-lipgloss.Width(head)-1, 0)))}
	rows := h - 1
	switch text := sp.Text(); {
	case text != "":
		for _, l := range wrapEnd(text, w, rows, sp.a.phase.ended()) {
			lines = append(lines, s.Text.Render(l))
		}
	case sp.a.phase.active():
		lines = append(lines, s.Muted.Render("waiting for the first token…"))
	case !sp.Active():
		lines = append(lines, s.Muted.Render("the chairman writes here once the review is done"))
	}
	return strings.Join(lines, "\n")
}

// threeCols is the width from which timeline, votes and breakers stand
// side by side; below it the votes go under the timeline, which would
// otherwise be too short to read.
const threeCols = 180

// bottomView arranges timeline, votes and breakers by the width.
func (m *Model) bottomView(w, h int) string {
	votes := m.showVotes()
	switch {
	case w >= threeCols && votes:
		vw := 40
		bw := min(max(w*40/100, 70), 90)
		tw := w - vw - bw - 2
		return joinColumns([]string{m.timeline.View(tw, h), m.votes.View(vw, h), m.board.View(bw, h)}, []int{tw + 1, vw + 1, bw}, h)
	case w >= 100:
		bw := w / 2
		if w >= 120 {
			bw = min(max(w/2, 70), 90)
		}
		tw := w - bw - 1
		left := m.timeline.View(tw, h)
		if votes {
			tlH := min(max(len(m.timeline.order), 1)+2, h)
			left = padLines(m.timeline.View(tw, tlH), tlH) + "\n" + m.votes.View(tw, h-tlH)
		}
		return joinColumns([]string{left, m.board.View(bw, h)}, []int{tw + 1, bw}, h)
	}
	tlH := min(max(len(m.timeline.order), 1)+2, h)
	parts := []string{padLines(m.timeline.View(w, tlH), tlH)}
	rest := h - tlH
	if votes && rest > 0 {
		vh := min(m.votes.Height(), rest)
		parts = append(parts, padLines(m.votes.View(w, vh), vh))
		rest -= vh
	}
	if rest > 0 {
		parts = append(parts, m.board.View(w, rest))
	}
	return strings.Join(parts, "\n")
}

// joinColumns puts blocks side by side, each padded to its width.
func joinColumns(blocks []string, widths []int, h int) string {
	cols := make([][]string, len(blocks))
	for i, b := range blocks {
		cols[i] = strings.Split(b, "\n")
	}
	var b strings.Builder
	for l := 0; l < h; l++ {
		if l > 0 {
			b.WriteByte('\n')
		}
		for i, c := range cols {
			line := ""
			if l < len(c) {
				line = c[l]
			}
			if i == len(cols)-1 {
				b.WriteString(line)
			} else {
				b.WriteString(fit(line, widths[i]))
			}
		}
	}
	return b.String()
}
