package ui

import (
	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// area is a part of the screen drawn from the session's events. Each
// is created once, in New, and registered in Model.areas: apply hands
// every event to the areas in that order, and a new session (or one shown
// again from the history or the watch) resets them with a session_started.
// The panes, one per model, are kept apart (Model.panes): they come and go
// with the tier.
type area interface {
	Apply(engine.Event)
}

// sizedArea is an area the layouts place: it draws itself in the box
// they give it and says the height it would like. Every registered area
// is one (Model.areas holds them).
type sizedArea interface {
	area
	View(width, height int) string
	// Height is the height the area would like.
	Height() int
}

// stager is an area that draws stages of its own: a stage_started of one
// of them puts up that area's screen.
type stager interface {
	area
	// Stages are the stages the area draws.
	Stages() []engine.Stage
	// Screen is the strategy whose screen shows them.
	Screen() config.Strategy
}

// newAreas creates the areas and registers them, in the order apply hands
// them an event. The breaker board outlives sessions: a session_started
// changes nothing on it.
func (m *Model) newAreas() {
	m.timeline = NewTimeline(m.ctx)
	m.votes = NewVoteTally(m.ctx, m.cfg.Consensus.Voters, m.cfg.Consensus.MinResponses)
	m.board = NewBreakerBoard(m.ctx)
	m.stages = NewStageBar(m.ctx)
	m.rank = NewRankingTable(m.ctx)
	m.synth = NewSynthesisPane(m.ctx)
	m.sections = NewSectionList(m.ctx)
	// Listed as sizedAreas, so that an area that cannot be placed (no
	// View or Height) does not compile.
	placed := []sizedArea{m.timeline, m.votes, m.board, m.stages, m.rank, m.synth, m.sections}
	m.areas = make([]area, len(placed))
	for i, a := range placed {
		m.areas[i] = a
	}
}

// resetAreas clears every area for a session about to be drawn.
func (m *Model) resetAreas() {
	for _, a := range m.areas {
		a.Apply(engine.Event{Type: engine.SessionStarted})
	}
}

// screenOf is the screen a stage calls for: that of the area that draws
// it; ok is false when no area does (the router's classify stage, or a
// stage this dashboard does not know), and the screen stays as it is.
func (m *Model) screenOf(st engine.Stage) (s config.Strategy, ok bool) {
	for _, a := range m.areas {
		if sa, isStager := a.(stager); isStager {
			for _, own := range sa.Stages() {
				if own == st {
					return sa.Screen(), true
				}
			}
		}
	}
	return "", false
}
