package ui

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// fmtDur writes a duration compactly: "840ms", "1.24s", "12.3s", "2m05s".
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "0ms"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d%time.Second == 0 && d < time.Minute:
		return fmt.Sprintf("%ds", d/time.Second)
	case d < 10*time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	m := int(d / time.Minute)
	return fmt.Sprintf("%dm%02ds", m, int((d-time.Duration(m)*time.Minute)/time.Second))
}

// fmtCost writes US dollars with enough digits to see a cheap call.
func fmtCost(c float64) string {
	switch {
	case c == 0:
		return "$0"
	case c < 0.0001:
		return fmt.Sprintf("$%.6f", c)
	case c < 0.01:
		return fmt.Sprintf("$%.5f", c)
	case c < 10:
		return fmt.Sprintf("$%.4f", c)
	}
	return fmt.Sprintf("$%.2f", c)
}

// sanitize makes model output safe to draw: escape sequences and other
// control characters are dropped (a model must not drive the terminal),
// tabs become spaces, CRLF becomes LF.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 && c != '\n') || c == 0x7f {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) && !strings.ContainsRune(s, '\u009b') {
		return s
	}
	s = ansi.Strip(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t':
			return ' '
		case r == '\n':
			return r
		case r == utf8.RuneError, unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

// fit pads or truncates a styled string to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := lipgloss.Width(s)
	switch {
	case sw == w:
		return s
	case sw < w:
		return s + strings.Repeat(" ", w-sw)
	}
	return ansi.Truncate(s, w-1, "") + "…"
}

// truncate shortens plain text to w cells with an ellipsis.
func truncate(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if ansi.StringWidth(s) <= w {
		return s
	}
	return ansi.Truncate(s, w-1, "") + "…"
}

// spread puts left and right on one line of w cells, right-aligned, the
// left side truncated when both do not fit.
func spread(left, right string, w int) string {
	rw := lipgloss.Width(right)
	if rw >= w {
		return fit(right, w)
	}
	return fit(left, w-rw) + right
}

// wrapTail word-wraps text to width w and returns the last h lines. Only the
// tail of a long text is wrapped, so the cost stays flat as answers grow.
func wrapTail(text string, w, h int) []string {
	if w <= 0 || h <= 0 || text == "" {
		return nil
	}
	if budget := w * h * 3; len(text) > budget {
		cut := len(text) - budget
		// Start at a line or word boundary so the wrap looks natural.
		if i := strings.IndexAny(text[cut:], "\n "); i >= 0 && i < w {
			cut += i + 1
		}
		for cut < len(text) && !utf8.RuneStart(text[cut]) {
			cut++
		}
		text = text[cut:]
	}
	lines := strings.Split(ansi.Wrap(text, w, ""), "\n")
	if len(lines) > h {
		lines = lines[len(lines)-h:]
	}
	return lines
}

// wrapHead word-wraps text to width w and returns its first h lines: a
// finished answer is read from its top. When the text is longer, the last
// line says how many more lines there are (enter zooms the whole of it).
func wrapHead(text string, w, h int) []string {
	if w <= 0 || h <= 0 || text == "" {
		return nil
	}
	lines := strings.Split(ansi.Wrap(text, w, ""), "\n")
	if len(lines) <= h {
		return lines
	}
	more := len(lines) - h + 1
	head := lines[:h-1]
	return append(head, truncate(fmt.Sprintf("… %d more lines · enter zooms", more), w))
}

// wrapEnd is the lines of text to show in h lines w wide: the tail while
// it streams (where the words arrive), the head once it has ended.
func wrapEnd(text string, w, h int, ended bool) []string {
	if ended {
		return wrapHead(text, w, h)
	}
	return wrapTail(text, w, h)
}

// wrapAll word-wraps the whole text to width w.
func wrapAll(text string, w int) string {
	if w <= 0 {
		return text
	}
	return ansi.Wrap(text, w, "")
}
