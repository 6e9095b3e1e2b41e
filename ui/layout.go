package ui

import (
	"math"
	"strings"

	"github.com/council-dev/council/engine/config"
)

// Pane size limits of the grid.
const minPaneW, minPaneH = 28, 7 // a box shorter than 7 holds one line of text: one line per model reads better

// gridCols is the number of pane columns at the current size.
func (m *Model) gridCols() int {
	paneH, _ := m.split(m.bodyH())
	g := chooseGrid(len(m.panes), m.width, paneH)
	return g.cols
}

// compactLayout reports whether the panes are drawn one line per model at
// the current size (the section screen has no panes).
func (m *Model) compactLayout() bool {
	return !m.sectioning() && m.compactAt(m.width, m.bodyH())
}

// compactAt reports whether a body of w×bh draws the panes one line per
// model: the council's leaves them what its stage bar and bottom area do
// not take, the others what split gives them.
func (m *Model) compactAt(w, bh int) bool {
	if len(m.panes) == 0 {
		return false
	}
	paneH, _ := m.split(bh)
	if m.council() {
		h := bh - 1
		paneH = h - min(m.councilBottomWant(w), h*55/100)
	}
	return chooseGrid(len(m.panes), w, paneH).compact
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
	log := m.logAreas()
	stacked, tallest := 0, 0
	for _, a := range log {
		stacked += a.Height()
		tallest = max(tallest, a.Height())
	}
	br := m.board.Height()
	switch {
	case w >= threeCols || w >= 150 && len(log) == 1:
		return max(tallest, br) // side by side
	case w >= 100:
		return max(stacked, br) // the log stacked beside the board
	}
	return stacked + br
}

// logAreas are the areas under the panes on the panes' screens (race,
// hedge, consensus) other than the breakers, in the order they stack:
// the timeline, then the votes when the screen shows them.
func (m *Model) logAreas() []sizedArea {
	if m.showVotes() {
		return []sizedArea{m.timeline, m.votes}
	}
	return []sizedArea{m.timeline}
}

// stack draws areas one under the other in at most h lines, each at the
// height it would like while there is room; it returns the drawings and
// the lines they use.
func stack(areas []sizedArea, w, h int) (parts []string, used int) {
	for _, a := range areas {
		if used >= h {
			break
		}
		ah := min(a.Height(), h-used)
		parts = append(parts, padLines(a.View(w, ah), ah))
		used += ah
	}
	return parts, used
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
	if m.compactAt(w, bh) {
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
	if len(m.panes) == 0 || m.compactAt(w, bh) {
		return m.compactBody(w, bh)
	}
	h := bh - 1
	bottomH := min(m.councilBottomWant(w), h*55/100)
	paneH := h - bottomH
	m.panesY++ // under the stage bar
	return m.stages.View(w, 1) + "\n" + padLines(m.panesView(w, paneH), paneH) + "\n" + m.councilBottom(w, bottomH)
}

// councilBottomWant is the height the council's bottom area would like.
func (m *Model) councilBottomWant(w int) int {
	right := m.rank.Height() + m.timeline.Height()
	if w >= 100 {
		return max(right, m.synth.Height()) + 1
	}
	return m.synth.Height() + right + 1
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
		sh := max(bh-m.rank.Height()-m.timeline.Height(), min(m.synth.Height(), bh))
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
	if n == 0 {
		// Wrapped to the width: a longer line is cut by the terminal,
		// without a sign.
		msg := "no models in tier " + m.sessTier
		if m.watch != nil {
			msg = "no session yet: each one the servers run shows here as it starts (the breakers are their models)"
		}
		lines := strings.Split(wrapAll(msg, w), "\n")
		return m.ctx.S.Muted.Render(strings.Join(lines[:min(len(lines), max(h, 1))], "\n"))
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
			tlH := min(m.timeline.Height(), h)
			left = padLines(m.timeline.View(tw, tlH), tlH) + "\n" + m.votes.View(tw, h-tlH)
		}
		return joinColumns([]string{left, m.board.View(bw, h)}, []int{tw + 1, bw}, h)
	}
	parts, used := stack(m.logAreas(), w, h)
	if rest := h - used; rest > 0 {
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
