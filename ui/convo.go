package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/council-dev/council/engine"
)

// The conversation: every finished session is a turn of the one it
// continued (or of a new one). With continuing on (C), the next prompt is
// a follow-up: each model is asked with its own earlier answers (the
// engine's SessionRequest.Turns); off, it starts a new conversation.

// turnsFor are the turns the next session continues: none when it starts
// a new conversation.
func (m *Model) turnsFor() []engine.Turn {
	if !m.cont || len(m.convo) == 0 {
		return nil
	}
	return slices.Clone(m.convo)
}

// endTurn makes the finished session, asked prompt after turns, the
// latest turn of the conversation. A cancelled session is not a turn:
// the conversation stays as it was before it.
func (m *Model) endTurn(turns []engine.Turn, prompt string, s *engine.Summary) {
	if s.Status == engine.StatusCancelled {
		m.convo = turns
		if len(turns) == 0 {
			m.convo = m.convo[:0:0]
		}
		return
	}
	m.convo = append(slices.Clip(turns), s.Turn(prompt))
}

// toggleContinue switches between continuing the conversation and
// starting a new one with the next prompt.
func (m *Model) toggleContinue() {
	m.cont = !m.cont
	m.setStatus(m.convoTag(), false)
}

// convoTag is what the next prompt does, for the prompt line: "continue ·
// turn 3" or "new conversation"; "" before any conversation, when there
// is nothing to continue and continuing is off.
func (m *Model) convoTag() string {
	switch {
	case m.cont && len(m.convo) > 0:
		return fmt.Sprintf("↪ continue · turn %d", len(m.convo)+1)
	case m.cont:
		return "↪ continue (after this session)"
	case len(m.convo) > 0:
		return "new conversation"
	}
	return ""
}

// showConvoTag reports whether the prompt line shows convoTag: while
// continuing, and while typing a prompt after a session.
func (m *Model) showConvoTag() bool {
	return m.convoTag() != "" && (m.cont || m.mode == modePrompt)
}

// nextTag is what the next session runs where it differs from the session
// on screen (after m, t or O): "next: hedge · balanced · ⚙ sys"; "" when
// it runs alike, before any session (the header shows the next one then),
// and where this screen runs no session (watching, replaying).
func (m *Model) nextTag() string {
	if m.sessionN == 0 || m.watch != nil || isStepper(m.b) {
		return ""
	}
	cur, next := m.sessInfo, m.settings
	if m.strategy == cur.Strategy && m.tier == cur.Tier && sameSettings(next, cur.Settings) {
		return ""
	}
	parts := []string{string(m.strategy), m.tier}
	switch st := settingsShort(next); {
	case st != "":
		parts = append(parts, st)
	case settingsShort(cur.Settings) != "":
		parts = append(parts, "⚙ the config's")
	}
	return "next: " + strings.Join(parts, " · ")
}

// promptTags is what the prompt line says about the next session, beside
// the status: what differs from the session on screen, and whether it
// continues the conversation; at most a third of width w.
func (m *Model) promptTags(w int) string {
	var tags []string
	if t := m.nextTag(); t != "" {
		tags = append(tags, t)
	}
	if m.showConvoTag() && m.status != m.convoTag() {
		tags = append(tags, m.convoTag())
	}
	if len(tags) == 0 {
		return ""
	}
	return truncate(strings.Join(tags, "  "), max(w/3, 12))
}

func sameSettings(a, b engine.Settings) bool {
	return a.System == b.System && a.MaxTokens == b.MaxTokens &&
		(a.Temperature == nil) == (b.Temperature == nil) && (a.Temperature == nil || *a.Temperature == *b.Temperature)
}
