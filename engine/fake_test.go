package engine

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// script is how a fake model behaves on one call.
type script struct {
	ttft   time.Duration // before the first token
	gap    time.Duration // between tokens
	text   string        // the answer, streamed a word per chunk
	err    error         // returned instead of an answer (after ttft)
	after  int           // with err: words streamed before it
	stall  bool          // stream `after` words, then go silent
	noUsed bool          // report no usage
	// reasoning is streamed a word per chunk before text, as reasoning.
	reasoning string
	finish    providers.Finish // sent with the last chunk
	usage     *providers.Usage // reported with the last chunk, instead of the word count
}

// fake is a scripted provider. It records what it saw.
type fake struct {
	mu       sync.Mutex
	scripts  func(call int) script
	byReq    func(req providers.Request) script // when set, instead of scripts
	reqs     []providers.Request                // every request seen
	calls    int
	active   atomic.Int32
	peak     atomic.Int32
	cancelAt []time.Duration // when each cancelled stream saw its ctx end
	start    time.Time
}

func newFake(f func(call int) script) *fake { return &fake{scripts: f, start: time.Now()} }

func fixed(s script) *fake { return newFake(func(int) script { return s }) }

// byKind is a fake that answers each kind of request with its own script
// (a member's answer, a review, a synthesis, a vote); a kind it has no
// script for fails as invalid.
func byKind(f func(req providers.Request) script) *fake {
	fk := newFake(nil)
	fk.byReq = f
	return fk
}

// requests returns the requests the fake has seen.
func (f *fake) requests() []providers.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]providers.Request(nil), f.reqs...)
}

func (f *fake) Stream(ctx context.Context, req providers.Request) (providers.Stream, error) {
	f.mu.Lock()
	var sc script
	if f.byReq != nil {
		sc = f.byReq(req)
	} else {
		sc = f.scripts(f.calls)
	}
	f.calls++
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	n := f.active.Add(1)
	for {
		p := f.peak.Load()
		if n <= p || f.peak.CompareAndSwap(p, n) {
			break
		}
	}
	var words []string
	nreason := 0
	if sc.reasoning != "" {
		words = strings.SplitAfter(sc.reasoning, " ")
		nreason = len(words)
	}
	if sc.text != "" || nreason == 0 {
		words = append(words, strings.SplitAfter(sc.text, " ")...)
	}
	return &fakeStream{f: f, ctx: ctx, sc: sc, words: words, nreason: nreason}, nil
}

func (f *fake) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

type fakeStream struct {
	f     *fake
	ctx   context.Context
	sc    script
	words []string
	// nreason is how many of words are reasoning.
	nreason int
	i       int
	chunk   providers.Chunk
	err     error
	closed  bool
}

func (s *fakeStream) wait(d time.Duration) bool {
	if d <= 0 {
		if s.ctx.Err() != nil {
			s.cancelled()
			return false
		}
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		s.cancelled()
		return false
	}
}

func (s *fakeStream) cancelled() {
	s.err = context.Cause(s.ctx)
	s.f.mu.Lock()
	s.f.cancelAt = append(s.f.cancelAt, time.Since(s.f.start))
	s.f.mu.Unlock()
}

func (s *fakeStream) Next() bool {
	if s.err != nil {
		return false
	}
	d := s.sc.gap
	if s.i == 0 {
		d = s.sc.ttft
	}
	if (s.sc.err != nil || s.sc.stall) && s.i == s.sc.after {
		if s.sc.stall {
			<-s.ctx.Done()
			s.cancelled()
			return false
		}
		if !s.wait(d) {
			return false
		}
		s.err = s.sc.err
		return false
	}
	if s.i >= len(s.words) {
		return false
	}
	if !s.wait(d) {
		return false
	}
	if s.i < s.nreason {
		s.chunk = providers.Chunk{Reasoning: s.words[s.i]}
	} else {
		s.chunk = providers.Chunk{Text: s.words[s.i]}
	}
	s.i++
	if !s.sc.noUsed {
		s.chunk.Usage = &providers.Usage{InputTokens: 10, OutputTokens: s.i}
	}
	if s.i == len(s.words) {
		s.chunk.Finish = s.sc.finish
		if s.sc.usage != nil {
			s.chunk.Usage = s.sc.usage
		}
	}
	return true
}

func (s *fakeStream) Chunk() providers.Chunk { return s.chunk }
func (s *fakeStream) Err() error             { return s.err }
func (s *fakeStream) Close() error {
	if !s.closed {
		s.closed = true
		s.f.active.Add(-1)
	}
	return nil
}

// testConfig is a config with one tier "t" holding the given model ids in
// order, with explicit settings (no defaults from the loader).
func testConfig(ids ...string) *config.Config {
	c := &config.Config{
		DefaultStrategy: config.Race,
		DefaultTier:     "t",
		MaxConcurrency:  8,
		Breaker:         config.BreakerConfig{FailureRate: 0.5, MinRequests: 4, Window: config.Duration{Duration: time.Minute}, Cooldown: config.Duration{Duration: 30 * time.Second}},
		Hedge:           config.HedgeConfig{Delay: config.HedgeDelay{Fixed: 100 * time.Millisecond}, FallbackDelay: config.Duration{Duration: time.Second}, Budget: config.Duration{Duration: time.Second}, MaxExtra: 1},
		Consensus:       config.ConsensusConfig{Voters: 5, MinResponses: 3, Categories: []string{"billing", "technical", "account", "general"}, TieBreak: config.TieFail, DefaultAnswer: "general"},
		Tiers: map[string]config.TierConfig{"t": {
			Models: ids, Timeout: config.Duration{Duration: 30 * time.Second},
			PerModelTimeout: config.Duration{Duration: 20 * time.Second}, StallTimeout: config.Duration{Duration: 3 * time.Second}}},
		Providers: map[string]config.ProviderConfig{"fake": {Kind: "sim"}},
	}
	for _, id := range ids {
		c.Models = append(c.Models, config.ModelConfig{ID: id, Provider: "fake", Model: id, InputPerMTok: 1, OutputPerMTok: 2})
	}
	return c
}

// newTestEngine builds an engine over fakes, keyed by model id.
func newTestEngine(c *config.Config, fakes map[string]*fake) *Engine {
	clients := make(map[string]providers.Provider, len(fakes))
	for id, f := range fakes {
		clients[id] = f
	}
	e, err := New(c, clients)
	if err != nil {
		panic(err)
	}
	return e
}

// collect runs a session and returns its events and summary.
func collect(e *Engine, ctx context.Context, req SessionRequest) ([]Event, *Summary) {
	var evs []Event
	sum, err := e.Run(ctx, req, func(ev Event) { evs = append(evs, ev) })
	if err != nil {
		panic(err)
	}
	return evs, sum
}

func find(evs []Event, t EventType, model string) (Event, bool) {
	for _, ev := range evs {
		if ev.Type == t && (model == "" || ev.Model == model) {
			return ev, true
		}
	}
	return Event{}, false
}

func count(evs []Event, t EventType) int {
	n := 0
	for _, ev := range evs {
		if ev.Type == t {
			n++
		}
	}
	return n
}

func result(sum *Summary, id string) ModelResult {
	for _, r := range sum.Models {
		if r.ID == id {
			return r
		}
	}
	return ModelResult{}
}

func vote(cat string, ttft time.Duration) script {
	return script{ttft: ttft, text: `{"category": "` + cat + `", "confidence": 0.9}`}
}
