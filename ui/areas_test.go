package ui

import (
	"reflect"
	"slices"
	"testing"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// TestEveryAreaIsRegistered: an area the model holds but Model.areas does
// not list would miss events and keep the last session's state.
func TestEveryAreaIsRegistered(t *testing.T) {
	m := newTestModel(newFake(), 120, 40)
	v := reflect.ValueOf(m).Elem()
	areaType := reflect.TypeFor[area]()
	n := 0
	for i := range v.NumField() {
		f := v.Field(i)
		if f.Kind() != reflect.Pointer || !f.Type().Implements(areaType) {
			continue
		}
		n++
		if !slices.ContainsFunc(m.areas, func(a area) bool { return reflect.ValueOf(a).Pointer() == f.Pointer() }) {
			t.Errorf("Model.%s (%s) is an area but not in Model.areas", v.Type().Field(i).Name, f.Type())
		}
	}
	if n != len(m.areas) {
		t.Errorf("%d area fields, %d areas registered", n, len(m.areas))
	}
}

// TestStagesPickTheirScreen: a stage puts up the screen of the area that
// draws it; one that no area draws (the router's classify, a stage this
// dashboard does not know) leaves the screen as it was.
func TestStagesPickTheirScreen(t *testing.T) {
	for _, tt := range []struct {
		stage engine.Stage
		want  config.Strategy
	}{
		{engine.StageAnswers, config.Council},
		{engine.StageReview, config.Council},
		{engine.StageSynthesis, config.Council},
		{engine.StageSections, config.Section},
		{engine.StageMerge, config.Section},
		{engine.StageClassify, config.Race},
		{engine.Stage(200), config.Race},
	} {
		m := newTestModel(newFake(), 120, 40)
		m.sessionN, m.sessStrategy = 1, config.Race
		m.apply(engine.Event{Type: engine.SessionStarted})
		m.apply(engine.Event{Type: engine.StageStarted, Stage: tt.stage})
		if m.sessStrategy != tt.want {
			t.Errorf("stage %s: screen %s, want %s", tt.stage, m.sessStrategy, tt.want)
		}
		if got, want := m.council(), tt.want == config.Council; got != want {
			t.Errorf("stage %s: council screen %v, want %v", tt.stage, got, want)
		}
		if got, want := m.sectioning(), tt.want == config.Section; got != want {
			t.Errorf("stage %s: section screen %v, want %v", tt.stage, got, want)
		}
	}
}

// TestAutoRaceEndsOnTheRaceScreen: an auto session's summary lists its
// classify stage; routed to a race, the session ends on the race's
// screen, not the council's.
func TestAutoRaceEndsOnTheRaceScreen(t *testing.T) {
	m := newTestModel(newFake(), 120, 40)
	m.sessionN, m.sessStrategy = 1, config.Auto
	m.apply(engine.Event{Type: engine.SessionStarted})
	m.apply(engine.Event{Type: engine.SessionDone, Summary: &engine.Summary{Strategy: config.Race, Status: engine.StatusDecided,
		Stages: []engine.StageResult{{Name: engine.StageClassify, Status: "done"}}}})
	if m.council() || m.stages.Active() {
		t.Errorf("auto → race: council screen %v, stage bar active %v; want the race's screen", m.council(), m.stages.Active())
	}
}
