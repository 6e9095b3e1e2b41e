// Package ui is council's live dashboard: a Bubble Tea program that drives
// an engine through the small [Backend] interface and shows, as a session
// happens, every model's stream, latency, breaker and vote.
//
// One root [Model] owns the state. The areas of the screen (model panes,
// timeline, vote tally, breaker board, and for a council the stage bar,
// ranking table and synthesis) are plain structs with Apply(event) and
// View(width, height); they share one [Context] (size, styles, keymap, the
// frame's clock, the session's answer labels) instead of globals. The unit
// of identity is the attempt, not the model: a model may answer, review
// and chair in one session, and each attempt keeps its own state. Update does no I/O: engine calls
// and channel reads happen in commands.
package ui

import (
	"fmt"
	"image/color"
	"time"

	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/themes"
)

// Context is what every pane needs to draw itself; the root model owns
// one and updates it before each frame.
type Context struct {
	Width, Height int
	Theme         themes.Theme
	S             Styles
	Keys          KeyMap

	// Now is the frame's wall-clock time (from the injected clock).
	Now time.Time
	// Elapsed is the running session's time since it started, on the
	// events' time axis.
	Elapsed time.Duration
	// Axis is the frame's shared time axis (the timeline's scale): the
	// panes' latency bars use it, so a race fills the bars rather than a
	// few cells of a per-model timeout. Zero means the timeout.
	Axis time.Duration
	// Frame counts animation ticks; it picks the spinner frame.
	Frame int

	// Labels names the session's stage-1 answers by attempt id ("a1" ->
	// "A"), in launch order, so that rankings read as "B>C>A"; AttemptModel
	// is each attempt's model.
	Labels       map[string]string
	AttemptModel map[string]string

	// FoldReasoning folds every pane's reasoning to one line (R).
	FoldReasoning bool
}

// answerLabel is the label of the n-th stage-1 answer: A..Z, then A1...
func answerLabel(n int) string {
	if n < 26 {
		return string(rune('A' + n))
	}
	return string(rune('A'+n%26)) + fmt.Sprint(n/26)
}

// Styles are the theme's roles turned into lipgloss styles. In the
// colourless theme they carry bold, faint and reverse instead, so that
// emphasis survives NO_COLOR.
type Styles struct {
	Text, Subtle, Muted, Accent      lipgloss.Style
	Ok, Warn, Error                  lipgloss.Style
	Running, Queued, Cancelled, Won  lipgloss.Style
	Skipped                          lipgloss.Style
	Border, Focus                    lipgloss.Style
	Title, Bold, Header, HeaderLabel lipgloss.Style
}

// NewStyles builds the styles of a theme.
func NewStyles(t themes.Theme) Styles {
	fg := func(c color.Color) lipgloss.Style {
		s := lipgloss.NewStyle()
		if c != nil && !t.NoColor {
			s = s.Foreground(c)
		}
		return s
	}
	s := Styles{
		Text: fg(t.Text), Subtle: fg(t.Subtle), Muted: fg(t.Muted), Accent: fg(t.Accent),
		Ok: fg(t.Ok), Warn: fg(t.Warn), Error: fg(t.Error).Bold(true),
		Running: fg(t.Running), Queued: fg(t.Queued), Cancelled: fg(t.Cancelled),
		Won: fg(t.Won).Bold(true), Skipped: fg(t.Skipped),
		Border: fg(t.Border), Focus: fg(t.Focus).Bold(true),
		Title: fg(t.Accent).Bold(true), Bold: lipgloss.NewStyle().Bold(true),
		HeaderLabel: fg(t.Subtle),
	}
	if t.NoColor {
		s.Muted = s.Muted.Faint(true)
		s.Header = lipgloss.NewStyle().Reverse(true).Bold(true)
	} else {
		s.Header = lipgloss.NewStyle().Foreground(t.Accent).Reverse(true).Bold(true)
	}
	return s
}
