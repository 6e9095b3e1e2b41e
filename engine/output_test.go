package engine

import (
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// A request's stop sequences and response format reach the models whose
// answer the client reads (a race's), never a voter (a consensus
// classifies in its own JSON).
func TestStopAndFormatShapeOnlyFreeText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{
			"a": fixed(vote("billing", 10*time.Millisecond)),
			"b": fixed(vote("billing", 20*time.Millisecond)),
		}
		c := testConfig("a", "b")
		c.Consensus.Voters, c.Consensus.MinResponses = 2, 2
		e := newTestEngine(c, fakes)
		defer e.Close()
		set := Settings{Stop: []string{"END"}, Format: &providers.ResponseFormat{Type: providers.FormatJSONObject}}
		collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Race, Settings: set})
		for _, id := range []string{"a", "b"} {
			r := fakes[id].requests()[0]
			if strings.Join(r.StopSequences(), ",") != "END" || r.ResponseFormat() == nil || r.ResponseFormat().Type != "json_object" {
				t.Errorf("race: %s was asked %+v, want stop END and json_object", id, r.Output)
			}
		}
		collect(e, t.Context(), SessionRequest{Prompt: "x", Strategy: config.Consensus, Settings: set})
		for _, id := range []string{"a", "b"} {
			rs := fakes[id].requests()
			if r := rs[len(rs)-1]; r.Output != nil {
				t.Errorf("consensus: voter %s was asked %+v, want no stop and no format", id, *r.Output)
			}
		}
	})
}

// Unhonoured names what a session could not honour: a strategy that
// answers a category, a model whose kind refuses it (sim: json_schema).
func TestUnhonoured(t *testing.T) {
	c := testConfig("a", "b")
	e := newTestEngine(c, map[string]*fake{"a": fixed(script{text: "x"}), "b": fixed(script{text: "x"})})
	defer e.Close()
	stop := Settings{Stop: []string{"END"}}
	object := Settings{Format: &providers.ResponseFormat{Type: providers.FormatJSONObject}}
	schema := Settings{Format: &providers.ResponseFormat{Type: providers.FormatJSONSchema, Name: "s"}}
	for _, tc := range []struct {
		req        SessionRequest
		param, why string
	}{
		{SessionRequest{Strategy: config.Race, Settings: stop}, "", ""},
		{SessionRequest{Strategy: config.Council, Settings: object}, "", ""},
		{SessionRequest{Strategy: config.Consensus, Settings: stop}, "stop", "category"},
		{SessionRequest{Strategy: config.Auto, Settings: object}, "response_format", "category"},
		{SessionRequest{Strategy: config.Race, Settings: schema}, "response_format", "model a"},
		{SessionRequest{Strategy: config.Race, Models: []string{"b"}, Settings: schema}, "response_format", "model b"},
		{SessionRequest{Strategy: config.Consensus}, "", ""},
	} {
		param, why := e.Unhonoured(tc.req)
		if param != tc.param || !strings.Contains(why, tc.why) {
			t.Errorf("%s %+v: %q %q, want %q saying %q", tc.req.Strategy, tc.req.Settings, param, why, tc.param, tc.why)
		}
	}
}

// A session's stop sequences and response format are recorded in its
// session_started line and read back (replay).
func TestOutputSettingsRoundTrip(t *testing.T) {
	set := Settings{Stop: []string{"END", "\n"}, Format: &providers.ResponseFormat{Type: providers.FormatJSONSchema, Name: "v",
		Schema: map[string]any{"type": "object"}, Strict: true}}
	ev := Event{Type: SessionStarted, Session: "s1", Detail: &Detail{Info: &SessionInfo{Strategy: config.Race, Settings: set}}}
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Event
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	got := back.Detail.Info.Settings
	if strings.Join(got.Stop, "|") != "END|\n" || got.Format == nil || got.Format.Name != "v" || !got.Format.Strict || got.Format.Schema["type"] != "object" {
		t.Errorf("%s read back as %+v", b, got)
	}
}
