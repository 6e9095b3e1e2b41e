package ui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
)

// The compare view (d on one model, d on another): two answers side by
// side, the words of each that the other does not have marked (a word
// diff: the longest common subsequence of the two answers' words).

// maxDiffWords bounds the word diff's table (n×m cells); longer answers
// are compared by word sets instead.
const maxDiffWords = 3000

// tokens splits a text into words, with "\n" tokens for its line breaks.
func tokens(text string) []string {
	var out []string
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			out = append(out, "\n")
		}
		out = append(out, strings.Fields(line)...)
	}
	return out
}

// wordDiff reports, for each token of a and of b, whether it differs:
// it is outside a longest common subsequence of the two.
func wordDiff(a, b []string) (da, db []bool) {
	da, db = make([]bool, len(a)), make([]bool, len(b))
	if len(a) > maxDiffWords || len(b) > maxDiffWords {
		in := func(ws []string) map[string]bool {
			s := make(map[string]bool, len(ws))
			for _, w := range ws {
				s[w] = true
			}
			return s
		}
		sa, sb := in(a), in(b)
		for i, w := range a {
			da[i] = !sb[w]
		}
		for j, w := range b {
			db[j] = !sa[w]
		}
		return da, db
	}
	// l[i][j] is the LCS length of a[i:] and b[j:].
	w := len(b) + 1
	l := make([]int32, (len(a)+1)*w)
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i*w+j] = l[(i+1)*w+j+1] + 1
			} else {
				l[i*w+j] = max(l[(i+1)*w+j], l[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			i, j = i+1, j+1
		case l[(i+1)*w+j] >= l[i*w+j+1]:
			da[i] = true
			i++
		default:
			db[j] = true
			j++
		}
	}
	for ; i < len(a); i++ {
		da[i] = true
	}
	for ; j < len(b); j++ {
		db[j] = true
	}
	return da, db
}

// markedText joins tokens back into text, the differing words marked
// (reverse video: it reads without colour too).
func markedText(ts []string, diff []bool, mark lipgloss.Style) string {
	var b strings.Builder
	for i, t := range ts {
		switch {
		case t == "\n":
			b.WriteString("\n")
			continue
		case i > 0 && ts[i-1] != "\n":
			b.WriteString(" ")
		}
		if diff[i] {
			b.WriteString(mark.Render(t))
		} else {
			b.WriteString(t)
		}
	}
	return b.String()
}

// compareKey handles x: the first marks the focused model, the second (on
// another model) opens the compare view.
func (m *Model) compareKey(p *ModelPane) {
	switch {
	case p == nil:
	case m.cmpA == "" || m.cmpA == p.ID || m.byID[m.cmpA] == nil:
		m.cmpA = p.ID
		m.setStatus(p.ID+" marked: d on another model compares the two", false)
	default:
		m.cmpB, m.cmpOff, m.mode = p.ID, 0, modeCompare
	}
}

// compareView is the two answers side by side, scrolled together.
func (m *Model) compareView(w, h int) string {
	s := &m.ctx.S
	a, b := m.byID[m.cmpA], m.byID[m.cmpB]
	if a == nil || b == nil {
		return s.Muted.Render("nothing to compare")
	}
	lw := w / 2
	rw := w - lw
	ta, tb := tokens(a.Text()), tokens(b.Text())
	da, db := wordDiff(ta, tb)
	mark := lipgloss.NewStyle().Reverse(true)
	text := func(ts []string, d []bool, w int) []string {
		if len(ts) == 0 {
			return []string{s.Muted.Render("(no text)")}
		}
		return strings.Split(wrapAll(markedText(ts, d, mark), w), "\n")
	}
	la, lb := text(ta, da, lw-2), text(tb, db, rw-2)
	ih := max(h-3, 1) // the title line and the boxes' borders
	total := max(len(la), len(lb))
	off := min(max(m.cmpOff, 0), max(total-ih, 0))
	m.cmpOff = off // so that k scrolls back at once after G
	page := func(ls []string) []string {
		if off >= len(ls) {
			return nil
		}
		return ls[off:min(off+ih, len(ls))]
	}
	nd := func(d []bool) (n int) {
		for _, x := range d {
			if x {
				n++
			}
		}
		return n
	}
	title := fmt.Sprintf("compare  %s: %d words differ  │  %s: %d words differ  ·  lines %d-%d of %d", a.ID, nd(da), b.ID, nd(db), off+1, min(off+ih, total), total)
	return fit(s.Title.Render(truncate(title, w)), w) + "\n" +
		joinColumns([]string{box(m.ctx, a.ID, "", page(la), lw, h-1, false), box(m.ctx, b.ID, "", page(lb), rw, h-1, false)}, []int{lw, rw}, h-1)
}

// compareScroll moves the compare view by d lines.
func (m *Model) compareScroll(d int) { m.cmpOff = max(m.cmpOff+d, 0) }
