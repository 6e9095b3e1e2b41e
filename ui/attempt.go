package ui

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"charm.land/bubbles/v2/spinner"
	"charm.land/lipgloss/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/providers"
)

// phase is where one model's attempt stands in the current session.
type phase uint8

const (
	phaseIdle       phase = iota // no session yet, or not in the current one
	phaseQueued                  // waiting for a concurrency slot
	phaseConnecting              // started, no token yet
	phaseStreaming               // tokens arriving
	phaseWon                     // the winner (race, hedge)
	phaseDone                    // completed
	phaseCancelled               // cancelled; see reason
	phaseFailed                  // failed; see kind
	phaseSkipped                 // skipped by its breaker or the hedge budget
)

// String is the status word shown in panes and tests.
func (p phase) String() string {
	return [...]string{"idle", "queued", "connecting", "streaming", "won", "done", "cancelled", "failed", "skipped"}[p]
}

func (p phase) active() bool { return p == phaseQueued || p == phaseConnecting || p == phaseStreaming }

func (p phase) ended() bool { return p >= phaseWon }

// attempt is one model's part of a session, folded from its events.
type attempt struct {
	phase  phase
	role   engine.Role
	reason engine.Reason
	kind   providers.Kind
	err    string
	// retry is the attempt's latest retry (of retries), due at retryAt
	// (session time), after the failure retryErr.
	retry, retries int
	retryAt        time.Duration
	retryErr       string

	queued, start, first, end time.Duration
	hasQueued, hasStart       bool
	hasFirst                  bool

	text      strings.Builder
	textRunes int
	// reasoning is the streamed reasoning, shown dimmed apart from the
	// answer; finish is why the vendor ended the answer (length: cut).
	reasoning  strings.Builder
	finish     providers.Finish
	inTok      int
	outTok     int
	cost       float64
	vote       string
	voted      bool
	voteErr    string
	hedgeFired time.Duration // when the hedge fired, if this attempt was running then
	hasHedge   bool
	won        bool
	// inSession: a session has started since the pane appeared, so an
	// idle attempt was left out of it rather than waiting for one.
	inSession bool
}

// apply folds one event about this model into the attempt.
func (a *attempt) apply(ev engine.Event) {
	switch ev.Type {
	case engine.AttemptQueued:
		a.phase, a.queued, a.hasQueued, a.role = phaseQueued, ev.T, true, orRole(ev.Role, a.role)
	case engine.AttemptStarted:
		a.phase, a.start, a.hasStart, a.role = phaseConnecting, ev.T, true, orRole(ev.Role, a.role)
	case engine.AttemptRetry:
		if d := ev.Detail; d != nil {
			a.retry, a.retries, a.retryAt, a.retryErr = d.Retry, d.Retries, ev.T+d.RetryIn, ev.Err
		}
	case engine.FirstToken:
		a.phase, a.first, a.hasFirst = phaseStreaming, ev.T, true
	case engine.FirstReasoning, engine.ReasoningDelta:
		if a.phase == phaseConnecting {
			a.phase = phaseStreaming
		}
		a.reasoning.WriteString(sanitize(ev.Text))
	case engine.Delta:
		if !a.hasFirst {
			a.first, a.hasFirst = ev.T, true
		}
		if a.phase == phaseConnecting {
			a.phase = phaseStreaming
		}
		t := sanitize(ev.Text)
		a.text.WriteString(t)
		a.textRunes += utf8.RuneCountInString(t)
	case engine.AttemptDone:
		a.phase, a.end, a.finish = phaseDone, ev.T, ev.Finish
		if a.won {
			a.phase = phaseWon
		}
		if ev.Text != "" {
			a.text.Reset()
			t := sanitize(ev.Text)
			a.text.WriteString(t)
			a.textRunes = utf8.RuneCountInString(t)
		}
		a.tokens(ev)
	case engine.AttemptFailed:
		a.phase, a.end, a.kind, a.err, a.finish = phaseFailed, ev.T, ev.Kind, ev.Err, ev.Finish
		a.tokens(ev)
	case engine.AttemptCancelled:
		a.phase, a.end, a.reason = phaseCancelled, ev.T, ev.Reason
		a.tokens(ev)
	case engine.AttemptSkipped:
		a.phase, a.end, a.reason, a.start = phaseSkipped, ev.T, ev.Reason, ev.T
	case engine.VoteCast:
		a.voted, a.vote, a.voteErr = true, ev.Vote, ev.Err
	case engine.Decided:
		a.won = true
		if a.phase == phaseDone {
			a.phase = phaseWon
		}
	case engine.HedgeFired:
		if a.hasStart && !a.phase.ended() {
			a.hedgeFired, a.hasHedge = ev.T, true
		}
	}
}

func orRole(r, old engine.Role) engine.Role {
	if r != "" {
		return r
	}
	return old
}

func (a *attempt) tokens(ev engine.Event) {
	a.inTok, a.outTok, a.cost = ev.InputTokens, ev.OutputTokens, ev.Cost
}

// now is the attempt's end, or the session's current time while it runs.
func (a *attempt) now(elapsed time.Duration) time.Duration {
	if a.phase.ended() {
		return a.end
	}
	return max(elapsed, a.start)
}

// outTokens is the output token count: exact once the attempt ended, else
// estimated from the streamed text (about four characters a token).
func (a *attempt) outTokens() (n int, exact bool) {
	if a.outTok > 0 || a.phase.ended() {
		return a.outTok, true
	}
	return (a.textRunes + 3) / 4, false
}

// statusLine is the glyph, the status word and its why, styled.
func (a *attempt) statusLine(c *Context) string {
	s := &c.S
	switch a.phase {
	case phaseIdle:
		if a.inSession {
			return s.Muted.Render("· not in this session")
		}
		return s.Muted.Render("· ready")
	case phaseQueued:
		return s.Queued.Render("◌ queued") + s.Subtle.Render(" for a slot")
	case phaseConnecting:
		if a.retry > 0 {
			t := fmt.Sprintf("↻ retry %d/%d", a.retry, a.retries)
			if left := a.retryAt - c.Elapsed; left > 0 {
				t += " in " + fmtDur(left)
			}
			return s.Warn.Render(t) + s.Subtle.Render(" · "+truncate(a.retryErr, 40))
		}
		return s.Running.Render(spin(c) + " connecting")
	case phaseStreaming:
		if !a.hasFirst && a.reasoning.Len() > 0 {
			return s.Running.Render(spin(c) + " thinking")
		}
		return s.Running.Render(spin(c) + " streaming")
	case phaseWon:
		return s.Won.Render("★ won") + a.truncMark(c)
	case phaseDone:
		return s.Ok.Render("✓ done") + a.truncMark(c)
	case phaseCancelled:
		return s.Cancelled.Render("■ cancelled") + s.Subtle.Render(" · "+reasonText(a.reason))
	case phaseFailed:
		if a.kind == providers.KindTimeout {
			return s.Error.Render("✗ timeout")
		}
		return s.Error.Render("✗ failed") + s.Subtle.Render(" · "+a.kind.String())
	case phaseSkipped:
		return s.Skipped.Render("⊘ skipped") + s.Subtle.Render(" · "+reasonText(a.reason))
	}
	return ""
}

// truncMark marks an answer cut by its token limit (finish length).
func (a *attempt) truncMark(c *Context) string {
	if a.finish != providers.FinishLength {
		return ""
	}
	return c.S.Error.Render(" ✂ truncated")
}

// voteText is " · vote billing" or " · invalid vote" for a voter.
func (a *attempt) voteText(c *Context) string {
	switch {
	case !a.voted:
		return ""
	case a.vote == "":
		return c.S.Error.Render(" · invalid vote")
	}
	return c.S.Subtle.Render(" · vote ") + c.S.Bold.Render(a.vote)
}

func reasonText(r engine.Reason) string {
	if r == "" {
		return "?"
	}
	return strings.ReplaceAll(string(r), "_", " ") // "lost_race" -> "lost race"
}

// spinnerFrames is the animation of attempts in flight.
var spinnerFrames = spinner.MiniDot.Frames

func spin(c *Context) string { return spinnerFrames[c.Frame%len(spinnerFrames)] }

// phaseStyle is the colour of a phase.
func phaseStyle(s *Styles, p phase) lipgloss.Style {
	switch p {
	case phaseQueued:
		return s.Queued
	case phaseConnecting, phaseStreaming:
		return s.Running
	case phaseWon:
		return s.Won
	case phaseDone:
		return s.Ok
	case phaseCancelled:
		return s.Cancelled
	case phaseFailed:
		return s.Error
	case phaseSkipped:
		return s.Skipped
	}
	return s.Muted
}
