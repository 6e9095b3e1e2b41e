package record

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	_ "github.com/council-dev/council/providers/anthropic"
	_ "github.com/council-dev/council/providers/gemini"
	_ "github.com/council-dev/council/providers/openai"
	"github.com/council-dev/council/providers/sim"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

const fakeKey = "sk-test-THIS-KEY-MUST-NEVER-BE-RECORDED-1234"

// demo is the built-in demo council plus a real provider configured with
// a known fake key, inline, so that a test can look for it in the log.
func demo(t *testing.T) (*config.Config, *engine.Engine) {
	t.Helper()
	cfg := config.Demo()
	cfg.Providers["openai"] = config.ProviderConfig{Kind: "openai", APIKey: fakeKey}
	cfg.Models = append(cfg.Models, config.ModelConfig{ID: "openai/gpt-x", Provider: "openai", Model: "gpt-x"})
	clients := map[string]providers.Provider{}
	for _, m := range cfg.Models {
		if m.Sim != nil {
			clients[m.ID] = sim.New(m.ID, sim.Params{TTFT: m.Sim.TTFT.Duration, TTFTP95: m.Sim.TTFTP95.Duration,
				TokensPerSec: m.Sim.TokensPerSec, OutputTokens: m.Sim.OutputTokens, ErrorRate: m.Sim.ErrorRate,
				StallRate: m.Sim.StallRate, CutRate: m.Sim.CutRate, SlowRate: m.Sim.SlowRate, SlowFactor: m.Sim.SlowFactor}, 7)
		} else {
			clients[m.ID] = providers.Failing(providers.NoKey("openai", "OPENAI_API_KEY"))
		}
	}
	e, err := engine.New(cfg, clients, engine.WithSeed(7))
	if err != nil {
		t.Fatal(err)
	}
	return cfg, e
}

// record runs a session and writes it to w as a log, returning the
// summary as `council run --json` prints it.
func record(t *testing.T, cfg *config.Config, e *engine.Engine, w *Writer, req engine.SessionRequest) []byte {
	t.Helper()
	if err := w.Header(NewHeader(cfg, req, e.Health(), "test", time.Now())); err != nil {
		t.Fatal(err)
	}
	sum, err := e.Run(context.Background(), req, func(ev engine.Event) {
		if err := w.Event(ev); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Health(e.Health()); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(sum)
	return b
}

// A recorded race, hedge, consensus and council session each replays to
// the summary the original printed, byte for byte.
func TestRecordedSessionsReplayToTheSameSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg, e := demo(t)
		defer e.Close()
		var log bytes.Buffer
		w := NewWriter(&log)
		var want [][]byte
		for _, st := range []config.Strategy{config.Race, config.Hedge, config.Consensus, config.Council} {
			want = append(want, record(t, cfg, e, w, engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: st}))
		}
		sessions, err := Read(bytes.NewReader(log.Bytes()))
		if err != nil || len(sessions) != 4 {
			t.Fatalf("read %d sessions, err %v; want 4", len(sessions), err)
		}
		for i, s := range sessions {
			got, _ := json.Marshal(s.Summary())
			if !bytes.Equal(got, want[i]) {
				t.Errorf("session %d (%s) replays to\n%s\nwant\n%s", i+1, s.Header.Strategy, got, want[i])
			}
			if len(s.Header.Health) == 0 || s.Header.Council != "test" || s.Header.Format != Format {
				t.Errorf("session %d header %+v lacks the health snapshot or version", i+1, s.Header)
			}
			if _, err := s.Header.ConfigOf(); err != nil {
				t.Errorf("session %d: the recorded config does not load: %v", i+1, err)
			}
		}
		if strings.Contains(log.String(), fakeKey) || strings.Contains(log.String(), "THIS-KEY") {
			t.Errorf("the API key is in the log")
		}
	})
}

// A log cut at any byte replays what it has, and says where it ends early.
func TestTruncatedLogReadsUpToItsLastWholeLine(t *testing.T) {
	var log bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		cfg, e := demo(t)
		defer e.Close()
		record(t, cfg, e, NewWriter(&log), engine.SessionRequest{Prompt: "hi", Strategy: config.Race})
	})
	full := log.Bytes()
	lines := bytes.Count(full, []byte("\n"))
	// Every byte of the first lines, then every 61st byte and both sides
	// of every line's end.
	cuts := map[int]bool{len(full): true}
	for i := 0; i <= len(full); i++ {
		if i < 1500 || i%61 == 0 || (i > 0 && full[i-1] == '\n') || (i < len(full) && full[i] == '\n') {
			cuts[i] = true
		}
	}
	for cut := range cuts {
		ss, err := Read(bytes.NewReader(full[:cut]))
		whole := bytes.Count(full[:cut], []byte("\n"))
		partial := cut > 0 && full[cut-1] != '\n'
		switch {
		case partial && !errors.Is(err, ErrTruncated):
			t.Fatalf("cut at %d: err %v, want ErrTruncated", cut, err)
		case !partial && err != nil:
			t.Fatalf("cut at %d (after line %d): %v", cut, whole, err)
		}
		events := 0
		for _, s := range ss {
			events += len(s.Events)
		}
		if wantEvents := min(max(whole-1, 0), lines-2); events != wantEvents {
			t.Fatalf("cut at %d: %d events, want the %d whole lines after the header", cut, events, wantEvents)
		}
	}
	if ss, _ := Read(bytes.NewReader(full)); len(ss) != 1 || ss[0].Summary() == nil || len(ss[0].Events) != lines-2 || ss[0].EndHealth == nil {
		t.Errorf("the whole log: %d sessions", len(ss))
	}
}

func TestReadRefusesNewerFormatsAndNamesBadLines(t *testing.T) {
	_, err := Read(strings.NewReader(`{"kind":"council.session","format":99}` + "\n"))
	if !errors.Is(err, ErrNewerFormat) || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("newer format: %v", err)
	}
	_, err = Read(strings.NewReader(`{"kind":"council.session","format":1}` + "\n" + `{"seq":1,"type":"nope"}` + "\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad event: %v, want it named by line", err)
	}
}

// The player replays a session's events in order at the recorded pace
// divided by the speed, moves the board's breakers as it goes, and is
// read-only.
func TestPlayerReplaysAtItsPace(t *testing.T) {
	var log bytes.Buffer
	var tier string
	synctest.Test(t, func(t *testing.T) {
		cfg, e := demo(t)
		defer e.Close()
		tier = cfg.DefaultTier
		record(t, cfg, e, NewWriter(&log), engine.SessionRequest{Prompt: "hi", Strategy: config.Race})
	})
	ss, err := Read(bytes.NewReader(log.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		p, err := NewPlayer(ss, 10)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		ch, _ := p.Start(t.Context(), engine.SessionRequest{})
		var got []engine.Event
		for ev := range ch {
			if want := time.Duration(float64(ev.T) / 10); time.Since(start) != want {
				t.Fatalf("%s (seq %d) played at %v, want %v (its recorded %v at 10x)", ev.Type, ev.Seq, time.Since(start), want, ev.T)
			}
			got = append(got, ev)
		}
		if len(got) != len(ss[0].Events) || got[len(got)-1].Type != engine.SessionDone {
			t.Errorf("played %d events, want all %d ending with session_done", len(got), len(ss[0].Events))
		}
		if !reflect.DeepEqual(p.Health(), ss[0].EndHealth) {
			t.Errorf("the board after the replay is not the health the session left")
		}
		if p.ForceBreaker("sim/swift", engine.ForceOpen) != ErrReadOnly {
			t.Errorf("ForceBreaker on a replay did not refuse")
		}
		if p.Config().DefaultTier != tier {
			t.Errorf("replay config tier %q", p.Config().DefaultTier)
		}
	})
}

func TestMarkdownExport(t *testing.T) {
	var log bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		cfg, e := demo(t)
		defer e.Close()
		w := NewWriter(&log)
		record(t, cfg, e, w, engine.SessionRequest{Prompt: "I was charged twice", Strategy: config.Consensus})
		record(t, cfg, e, w, engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: config.Council})
	})
	ss, _ := Read(bytes.NewReader(log.Bytes()))
	var md bytes.Buffer
	for _, s := range ss {
		if err := Markdown(&md, s); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"# council session: I was charged twice", "## Votes", "| billing |", "## Stages", "| review |", "## Rankings", "| model | Borda |", "## Models", "### sim/swift · answers"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	// A log cut before the summary still reports what it has.
	cut := ss[1]
	cut.Events = cut.Events[:len(cut.Events)/2]
	md.Reset()
	Markdown(&md, cut)
	if !strings.Contains(md.String(), "ends before the session did") {
		t.Errorf("incomplete session not marked:\n%s", md.String())
	}
}

// Paused, the player releases one event per step and holds the rest;
// resumed, it goes on at the recorded pace from where it stood; rewound,
// it plays the same session again.
func TestPlayerPausesStepsAndRewinds(t *testing.T) {
	var log bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		cfg, e := demo(t)
		defer e.Close()
		record(t, cfg, e, NewWriter(&log), engine.SessionRequest{Prompt: "hi", Strategy: config.Race})
	})
	ss, _ := Read(bytes.NewReader(log.Bytes()))
	synctest.Test(t, func(t *testing.T) {
		p, _ := NewPlayer(ss, 1)
		p.TogglePause()
		ch, _ := p.Start(t.Context(), engine.SessionRequest{})
		for i := range 3 {
			p.Step()
			ev := <-ch
			if ev.Seq != i+1 {
				t.Fatalf("step %d gave seq %d", i+1, ev.Seq)
			}
			time.Sleep(time.Hour) // nothing more comes while paused
			synctest.Wait()
			select {
			case ev := <-ch:
				t.Fatalf("event %d came while paused", ev.Seq)
			default:
			}
		}
		if p.TogglePause() {
			t.Fatal("TogglePause did not resume")
		}
		n := 3
		for range ch {
			n++
		}
		if n != len(ss[0].Events) {
			t.Errorf("%d events in all, want %d", n, len(ss[0].Events))
		}
		p.Rewind()
		if p.Prompt() != "hi" {
			t.Errorf("rewound to %q", p.Prompt())
		}
		ch, _ = p.Start(t.Context(), engine.SessionRequest{})
		if ev := <-ch; ev.Seq != 1 || ev.Type != engine.SessionStarted {
			t.Errorf("after rewinding: %s seq %d, want the session from its start", ev.Type, ev.Seq)
		}
		for range ch {
		}
	})
}

// FuzzRead: whatever the bytes — a log cut anywhere, or garbage — Read
// never panics, and never returns more events than the input has lines.
func FuzzRead(f *testing.F) {
	var log bytes.Buffer
	w := NewWriter(&log)
	w.Header(Header{Kind: kindHeader, Format: Format, Strategy: "race", Prompt: "p"})
	w.Event(engine.Event{Type: engine.SessionStarted, Session: "s1", Seq: 1, Text: "p"})
	w.Event(engine.Event{Type: engine.AttemptStarted, Session: "s1", Seq: 2, Model: "m", Attempt: "a1", T: time.Millisecond})
	w.Event(engine.Event{Type: engine.SessionDone, Session: "s1", Seq: 3, Summary: &engine.Summary{Session: "s1", Status: engine.StatusFailed}})
	full := log.Bytes()
	for cut := 0; cut <= len(full); cut += 7 {
		f.Add(full[:cut])
	}
	f.Add([]byte("{}\n{\"kind\":\"council.session\",\"format\":1}\n{\"type\":\"delta\"}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ss, _ := Read(bytes.NewReader(data))
		n := 0
		for _, s := range ss {
			n += len(s.Events) + 1
		}
		if lines := bytes.Count(data, []byte("\n")); n > lines {
			t.Errorf("%d sessions and events from %d lines", n, lines)
		}
	})
}

// Every event of every strategy — reasoning, finish reasons, stages,
// rankings, routes, sections — reads back to the line it was written as.
func TestEveryEventReadsBackToItsLine(t *testing.T) {
	var log bytes.Buffer
	synctest.Test(t, func(t *testing.T) {
		cfg, e := demo(t)
		defer e.Close()
		w := NewWriter(&log)
		for _, st := range []config.Strategy{config.Race, config.Hedge, config.Consensus, config.Council, config.Auto} {
			record(t, cfg, e, w, engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: st})
		}
		record(t, cfg, e, w, engine.SessionRequest{Prompt: "Summarise", Strategy: "section", Document: "# A\n\nOne.\n\n# B\n\nTwo."})
	})
	for _, line := range bytes.Split(bytes.TrimSpace(log.Bytes()), []byte("\n")) {
		if bytes.Contains(line, []byte(`"kind":"council.`)) {
			continue
		}
		var ev engine.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		again, _ := json.Marshal(ev)
		if !bytes.Equal(again, line) {
			t.Errorf("an event does not read back to its line:\n%s\n%s", line, again)
		}
	}
}

// A follow-up's header carries the conversation it continued, so its log
// alone rebuilds every turn.
func TestFollowUpLogCarriesItsTurns(t *testing.T) {
	first := engine.Turn{Prompt: "one", Answer: "1", Answers: map[string]string{"m": "1"}}
	ss := []Session{
		{Header: Header{Prompt: "two", Turns: []engine.Turn{first}},
			Events: []engine.Event{{Type: engine.SessionDone, Summary: &engine.Summary{Answer: "2"}}}},
	}
	turns := Turns(ss)
	if len(turns) != 2 || turns[0].Prompt != "one" || turns[1].Prompt != "two" || turns[1].Answer != "2" {
		t.Errorf("turns %+v, want one then two", turns)
	}
	var log bytes.Buffer
	NewWriter(&log).Header(NewHeader(config.Demo(), engine.SessionRequest{Prompt: "two", Turns: []engine.Turn{first}}, nil, "test", time.Now()))
	back, err := Read(bytes.NewReader(log.Bytes()))
	if err != nil || len(back) != 1 || len(back[0].Header.Turns) != 1 || back[0].Header.Turns[0].Answers["m"] != "1" {
		t.Errorf("the header's turns do not read back: %v %+v", err, back)
	}
}

// A log recorded before session_started described its session
// (testdata/format1-council-hedge.jsonl: a council on quick, then a hedge
// on balanced, recorded by council run --record at commit d3cfd0b) reads
// with the description filled from each session's header and config.
func TestOldLogDescribesItsSessionsFromTheHeader(t *testing.T) {
	ss, err := ReadFile("testdata/format1-council-hedge.jsonl")
	if err != nil || len(ss) != 2 {
		t.Fatalf("read %d sessions, err %v; want 2", len(ss), err)
	}
	want := []engine.SessionInfo{
		{Strategy: config.Council, Tier: "quick", Models: []string{"sim/a", "sim/b", "sim/c"}, Turn: 1},
		{Strategy: config.Hedge, Tier: "balanced", Models: []string{"sim/b", "sim/c"}, Turn: 1},
	}
	prompts := []string{"How do database indexes work?", "Why is the sky blue?"}
	for i, s := range ss {
		st := s.Events[0]
		if st.Type != engine.SessionStarted || st.Detail == nil || st.Detail.Info == nil {
			t.Fatalf("session %d: first event %s without a description", i+1, st.Type)
		}
		if got := *st.Detail.Info; !reflect.DeepEqual(got, want[i]) {
			t.Errorf("session %d is described as\n%+v\nwant\n%+v", i+1, got, want[i])
		}
		if st.Text != prompts[i] {
			t.Errorf("session %d: prompt %q, want %q", i+1, st.Text, prompts[i])
		}
	}
	// A log that has the description keeps its own: it is not overwritten
	// from the header.
	var log bytes.Buffer
	w := NewWriter(&log)
	w.Header(Header{Kind: kindHeader, Format: Format, Strategy: "race", Tier: "quick", Prompt: "header's"})
	own := &engine.SessionInfo{Strategy: config.Auto, Tier: "high", Models: []string{"x"}, Turn: 2}
	w.Event(engine.Event{Type: engine.SessionStarted, Session: "s1", Seq: 1, Text: "event's", Detail: &engine.Detail{Info: own}})
	back, err := Read(&log)
	if err != nil || len(back) != 1 {
		t.Fatalf("read %d, %v", len(back), err)
	}
	if got := back[0].Events[0]; !reflect.DeepEqual(got.Detail.Info, own) || got.Text != "event's" {
		t.Errorf("a described session_started read back as %+v %q, want %+v", got.Detail.Info, got.Text, own)
	}
}

// The models table's times are labelled and consistent: started is since
// the session began, first token after the attempt started, took its
// duration; a section session lists each section's title and verdict.
func TestMarkdownTimesAndSections(t *testing.T) {
	sum := &engine.Summary{Strategy: config.Section, Tier: "quick", Status: engine.StatusDecided, ElapsedMS: 1500, Answer: "merged",
		Models: []engine.ModelResult{{Attempt: "a1", ID: "sim/swift", Stage: engine.StageSections, Role: engine.RoleSection, Status: engine.AttemptDoneStatus,
			StartedMS: 200, FirstTokenMS: 543, ElapsedMS: 900}},
		Sections: []engine.SectionResult{
			{Index: 1, Title: "1. Fees", Model: "sim/swift", Status: "done", ElapsedMS: 900},
			{Index: 2, Title: "2. Liability", Model: "sim/steady", Status: "done", ElapsedMS: 1200, Votes: []string{"risk", "ok", "risk"}, Verdict: "risk", Disagree: true, Retried: true},
			{Index: 3, Title: "3. Law", Status: "failed", Error: "timeout"}},
		Merge: &engine.MergeResult{Mode: config.MergeConcat, Status: "degraded", Missing: []string{"3. Law"}}, SerialMS: 2100, SavedMS: 600}
	s := Session{Header: Header{Prompt: "Review", Strategy: "section", Tier: "quick"}, Events: []engine.Event{{Type: engine.SessionDone, Summary: sum}}}
	var md bytes.Buffer
	if err := Markdown(&md, s); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, want := range []string{
		"| started | first token | took |",
		"| 200 ms | 343 ms | 900 ms |",
		"first token: after the attempt started",
		"## Sections",
		"| 1 | 1. Fees | sim/swift | done | 900 ms |",
		"| 2 | 2. Liability | sim/steady | done ↻ retried | 1.20 s | risk (risk, ok, risk) ⚑ disagreement |",
		"| 3 | 3. Law | — | failed: timeout | — |",
		"Missing from the result: 3. Law.",
		"1.50 s instead of 2.10 s",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
}
