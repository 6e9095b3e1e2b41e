// Package sim is a simulated model: a [providers.Provider] that streams
// plausible answers with realistic timing and failures, so that council runs,
// demos and tests need no key and no network.
//
// A [Model]'s character is its [Params], the [models.sim] keys of the
// configuration:
//
//   - ttft, ttft_p95: the median and 95th percentile of the time to first
//     token; each call draws it from the log-normal fitted to them.
//   - tokens_per_sec: the streaming speed; every gap between tokens is
//     jittered by ±40% around 1/tokens_per_sec.
//   - output_tokens: the typical length of a text answer, jittered by ±30%.
//   - rate_limit_rate, error_rate, stall_rate, cut_rate, slow_rate: the
//     probability that a call is rate limited (HTTP 429), fails (HTTP 500 or
//     503, before or during the stream), stalls (goes silent, usually after
//     some tokens, and never ends until its context is cancelled: the
//     engine's stall timeout must catch it), is cut (streams part of the
//     answer, then ends without its final event: an error of kind invalid),
//     or is slow. They are drawn in this order; the first that hits decides.
//   - slow_factor: a slow call's time to first token and token gaps are
//     slow_factor times longer: the heavy tail that hedging is for.
//   - bad_ranking_rate: the probability that a review's ranking is
//     malformed (see below).
//   - capacity: how many calls the model serves at full speed. A call
//     started while n calls are in flight, n >= capacity, has every wait
//     (n+1)/capacity times longer, as a server sharing its processors
//     would: the concurrency ceiling a bench finds. 0: unlimited.
//   - answers: the distribution of votes for classification requests. Without
//     it, a model classifies by content: it reads the categories from the
//     system prompt ("...into exactly one of these categories: a, b, c.")
//     or the prompt, and picks the one the user's message is about, from a
//     small lexicon of cue words per common category (support tickets and
//     the router's routes) and the categories' own names, mostly right, with
//     a confidence that drops when the cues are weak or ambiguous.
//
// The chaos knobs can be changed while the model runs ([Model.Tune],
// [Model.SetParams]); a change applies to calls started afterwards.
//
// Every call is reproducible: its random draws come from a generator seeded
// from the model's seed, its name and its call number, so the same sequence
// of calls to a model gives the same answers at the same (virtual) times,
// whatever the other models do concurrently. A call whose context carries
// a [providers.DrawKey] is numbered by that key and the calls made under
// it instead, whatever calls of other keys came first. All draws are made when
// [Model.Stream] is called; the stream then only waits and emits, on
// timers of the model's [providers.Clock] ([Model.SetClock]; by default
// [providers.RealClock]). The model reads no other time.
//
// Text answers are passages of an embedded corpus of prose, chosen by the
// prompt's words (or its hash) and the call's draws, so different models
// answer the same prompt differently but on the same topic. Classification
// answers are small JSON objects, sometimes fenced or preceded by a sentence,
// as real models do; without [Params.Answers] they name the category the
// message is about.
//
// A council's later stages are simulated too. A review
// ([providers.KindRank]) reads the question after "Question:" and the
// responses after lines "Response A:", "Response B:", ..., writes a
// sentence or two on each and ends with "FINAL RANKING:" and one line
// "1. Response C" per response, best first, in the order of a noisy
// judgement of each response's quality (its use of the question's topic
// words, its topic, its length), so reviewers mostly agree; with
// probability bad_ranking_rate the ranking is malformed. A synthesis
// ([providers.KindSynthesize]) reads the question and the answers after
// lines "Answer 1 ...:", "Answer 2 ...:", ... and composes a final answer
// of about 1.5 × output_tokens from their strongest sentences, the better
// ranked first, deduplicated; without answers it answers the question as
// a text answer does.
//
// Every chunk carries the cumulative [providers.Usage], so a stream that
// fails or is cancelled still tells how many tokens it burnt.
package sim

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/council-dev/council/providers"
)

// Defaults applied to zero (or invalid) fields of [Params].
const (
	DefaultTTFT         = 300 * time.Millisecond
	DefaultTokensPerSec = 50
	DefaultOutputTokens = 60
	DefaultSlowFactor   = 10
)

// Params is a simulated model's character. The zero value works: zero
// fields take the defaults (TTFT 300ms, TTFTP95 3×TTFT, 50 tokens/s, 60
// tokens, SlowFactor 10), and no failures.
type Params struct {
	// TTFT and TTFTP95 are the median and 95th percentile of the time to
	// first token, fitted by a log-normal.
	TTFT, TTFTP95 time.Duration
	// TokensPerSec is the mean streaming speed.
	TokensPerSec float64
	// OutputTokens is the typical length of a text answer, in tokens.
	OutputTokens int
	// The probabilities (0..1) of each failure mode, and of a slow call.
	ErrorRate, RateLimitRate, StallRate, CutRate, SlowRate float64
	// BadRankingRate is the probability (0..1) that a review's ranking
	// (providers.KindRank) is malformed: no "FINAL RANKING:" header, a
	// label that names no response, a label twice, or prose only.
	BadRankingRate float64
	// SlowFactor multiplies a slow call's time to first token and gaps.
	SlowFactor float64
	// Capacity is how many calls run at full speed at once (0: unlimited);
	// a call started beyond it is proportionally slower.
	Capacity int
	// Answers is the vote distribution for classification requests
	// (weights, normalised when drawn). Empty: the model classifies by
	// content, among the categories named in the system prompt or the
	// prompt ("categories: a, b, c"), else billing, technical, account and
	// general.
	Answers map[string]float64
}

// Knob names, as in the configuration and the engine's ModelHealth.Knobs.
const (
	KnobErrorRate      = "error_rate"
	KnobRateLimitRate  = "rate_limit_rate"
	KnobStallRate      = "stall_rate"
	KnobCutRate        = "cut_rate"
	KnobSlowRate       = "slow_rate"
	KnobSlowFactor     = "slow_factor"
	KnobTokensPerSec   = "tokens_per_sec"
	KnobBadRankingRate = "bad_ranking_rate"
)

// knob is one tunable field of Params and its range.
type knob struct {
	name     string
	min, max float64
	field    func(*Params) *float64
}

var knobs = []knob{
	{KnobErrorRate, 0, 1, func(p *Params) *float64 { return &p.ErrorRate }},
	{KnobRateLimitRate, 0, 1, func(p *Params) *float64 { return &p.RateLimitRate }},
	{KnobStallRate, 0, 1, func(p *Params) *float64 { return &p.StallRate }},
	{KnobCutRate, 0, 1, func(p *Params) *float64 { return &p.CutRate }},
	{KnobSlowRate, 0, 1, func(p *Params) *float64 { return &p.SlowRate }},
	{KnobSlowFactor, 1, 1000, func(p *Params) *float64 { return &p.SlowFactor }},
	{KnobTokensPerSec, 1, 100000, func(p *Params) *float64 { return &p.TokensPerSec }},
	{KnobBadRankingRate, 0, 1, func(p *Params) *float64 { return &p.BadRankingRate }},
}

// normalize fills defaults, clamps every knob to its range and copies
// Answers, so that the model never shares a map with its caller.
func normalize(p Params) Params {
	if p.TTFT <= 0 {
		p.TTFT = DefaultTTFT
	}
	if p.TTFTP95 <= 0 {
		p.TTFTP95 = 3 * p.TTFT
	}
	if p.TTFTP95 < p.TTFT {
		p.TTFTP95 = p.TTFT
	}
	if !(p.TokensPerSec > 0) { // also NaN
		p.TokensPerSec = DefaultTokensPerSec
	}
	if p.OutputTokens <= 0 {
		p.OutputTokens = DefaultOutputTokens
	}
	if !(p.SlowFactor > 0) {
		p.SlowFactor = DefaultSlowFactor
	}
	for _, k := range knobs {
		f := k.field(&p)
		*f = clamp(*f, k.min, k.max)
	}
	p.Answers = maps.Clone(p.Answers)
	return p
}

func clamp(v, lo, hi float64) float64 {
	switch {
	case math.IsNaN(v) || v < lo:
		return lo
	case v > hi:
		return hi
	}
	return v
}

// Model is a simulated model. It is safe for concurrent use.
type Model struct {
	name string
	seed int64

	mu       sync.Mutex
	params   Params
	calls    uint64
	keyed    map[uint64]uint64 // calls made under each draw key
	inflight int               // calls started and not yet ended, for Capacity
	clock    providers.Clock
}

var _ providers.Provider = (*Model)(nil)

// New returns a simulated model. name is the model's name, used in messages
// and to derive its random draws; seed makes it reproducible.
func New(name string, p Params, seed int64) *Model {
	return &Model{name: name, seed: seed, params: normalize(p), clock: providers.RealClock}
}

// SetClock makes the model wait on c: every stream started afterwards
// times its chunks with c's timers, and the model reads no other time.
// nil restores [providers.RealClock], the default (which, inside a
// testing/synctest bubble, is the bubble's virtual clock).
func (m *Model) SetClock(c providers.Clock) {
	if c == nil {
		c = providers.RealClock
	}
	m.mu.Lock()
	m.clock = c
	m.mu.Unlock()
}

// Name returns the model's name.
func (m *Model) Name() string { return m.name }

// Params returns the model's current parameters, with defaults filled in
// and knobs clamped to their ranges.
func (m *Model) Params() Params {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.params
	p.Answers = maps.Clone(p.Answers)
	return p
}

// SetParams replaces the model's parameters (normalised as by [New]). Calls
// already streaming keep the parameters they started with.
func (m *Model) SetParams(p Params) {
	p = normalize(p)
	m.mu.Lock()
	m.params = p
	m.mu.Unlock()
}

// Tune changes one knob by delta, clamped to its range (rates 0..1,
// slow_factor 1..1000, tokens_per_sec 1..100000), and returns the new value.
// Knob names are the config keys: "error_rate", "rate_limit_rate",
// "stall_rate", "cut_rate", "slow_rate", "slow_factor", "tokens_per_sec",
// "bad_ranking_rate".
func (m *Model) Tune(knobName string, delta float64) (float64, error) {
	if math.IsNaN(delta) || math.IsInf(delta, 0) {
		return 0, fmt.Errorf("sim model %s: invalid delta %v for knob %q", m.name, delta, knobName)
	}
	for _, k := range knobs {
		if k.name != knobName {
			continue
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		f := k.field(&m.params)
		*f = clamp(*f+delta, k.min, k.max)
		return *f, nil
	}
	return 0, fmt.Errorf("sim model %s: unknown knob %q", m.name, knobName)
}

// Knobs returns the current value of every knob [Model.Tune] accepts.
func (m *Model) Knobs() map[string]float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[string]float64, len(knobs))
	for _, k := range knobs {
		out[k.name] = *k.field(&m.params)
	}
	return out
}

// Stream starts a simulated completion. It never blocks and never fails:
// every outcome, including failures before the first token (429, 5xx), is
// drawn now and played out by the stream, whose Err reports it after Next
// returns false. All waiting happens inside Next, on timers of the model's
// clock ([Model.SetClock]), and honours ctx at once (Err is then
// context.Cause(ctx)); the stream starts no goroutine.
func (m *Model) Stream(ctx context.Context, req providers.Request) (providers.Stream, error) {
	m.mu.Lock()
	p := m.params // Answers is never mutated in place, so sharing it is safe
	call := m.calls
	m.calls++
	if k, ok := ctx.Value(providers.DrawKey{}).(uint64); ok {
		if m.keyed == nil {
			m.keyed = map[uint64]uint64{}
		}
		// Above every plain call number: the key in the high bits, the
		// call under it in the low ones.
		call = 1<<63 | k<<16 | m.keyed[k]
		m.keyed[k]++
	}
	m.inflight++
	load := 1.0
	if p.Capacity > 0 && m.inflight > p.Capacity {
		load = float64(m.inflight) / float64(p.Capacity)
	}
	clock := m.clock
	m.mu.Unlock()

	rng := callRNG(m.seed, m.name, call)
	sc := plan(rng, p, req)
	if load > 1 {
		sc.slow(load)
	}
	st := newStream(ctx, sc, clock)
	st.ended = func() {
		m.mu.Lock()
		m.inflight--
		m.mu.Unlock()
	}
	return st, nil
}

// slow makes every wait of the script f times longer.
func (sc *script) slow(f float64) {
	for i := range sc.steps {
		sc.steps[i].delay = time.Duration(float64(sc.steps[i].delay) * f)
	}
	sc.endDelay = time.Duration(float64(sc.endDelay) * f)
}

// callRNG derives a call's generator from (seed, name, call number), so that
// a model's calls are reproducible whatever order models are called in.
func callRNG(seed int64, name string, call uint64) *rand.Rand {
	h := fnv.New64a()
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h.Write(b[:])
	h.Write([]byte(name))
	binary.LittleEndian.PutUint64(b[:], call)
	h.Write(b[:])
	s1 := h.Sum64()
	h.Write([]byte{0x5a})
	s2 := h.Sum64()
	return rand.New(rand.NewPCG(s1, s2))
}

// outcome is how a call ends.
type outcome uint8

const (
	outcomeOK outcome = iota
	outcomeRateLimited
	outcomeError
	outcomeStall
	outcomeCut
	outcomeSlow
)

// ending is what the stream does after its last chunk.
type ending uint8

const (
	endOK    ending = iota // end cleanly
	endErr                 // wait endDelay, then fail with err
	endStall               // wait for ctx, forever
)

// step is one chunk to emit after a delay.
type step struct {
	delay  time.Duration
	text   string
	tokens int
}

// script is a call's whole future, drawn when the call starts.
type script struct {
	input    int  // input tokens
	cut      bool // max_tokens cut the answer: it finishes with length
	steps    []step
	end      ending
	endDelay time.Duration
	err      error
}

// plan draws every random decision of one call.
func plan(rng *rand.Rand, p Params, req providers.Request) script {
	sc := script{input: inputTokens(req)}

	// Always draw all five, so that the rest of the call (timing, text)
	// does not depend on the rates: the same call with SlowRate 1 is the
	// same answer, exactly SlowFactor times slower.
	var u [5]float64
	for i := range u {
		u[i] = rng.Float64()
	}
	oc := outcomeOK
	switch {
	case u[0] < p.RateLimitRate:
		oc = outcomeRateLimited
	case u[1] < p.ErrorRate:
		oc = outcomeError
	case u[2] < p.StallRate:
		oc = outcomeStall
	case u[3] < p.CutRate:
		oc = outcomeCut
	case u[4] < p.SlowRate:
		oc = outcomeSlow
	}

	if oc == outcomeRateLimited {
		sc.end = endErr
		sc.endDelay = time.Duration(20+rng.IntN(31)) * time.Millisecond
		sc.err = &providers.Error{
			Kind:       providers.KindRateLimited,
			Status:     429,
			RetryAfter: time.Duration(1+rng.IntN(4)) * time.Second,
			Message:    "rate limited (simulated)",
		}
		return sc
	}

	ttft := drawTTFT(rng, p)
	var pieces []piece
	free := true // a free-text answer: the kinds max_tokens, stop and a format shape
	switch req.Kind {
	case providers.KindClassify:
		pieces, free = classifyAnswer(rng, p.Answers, req.System, sample(req.Prompt())), false
	case providers.KindRank:
		pieces, free = rankAnswer(rng, req.Prompt(), p.BadRankingRate, req.MaxTokens), false
	case providers.KindSynthesize:
		n := int(math.Round(1.5 * float64(p.OutputTokens) * (0.7 + 0.6*rng.Float64())))
		pieces = synthAnswer(rng, req.Prompt(), max(n, 1), req.MaxTokens)
		sc.cut = req.MaxTokens > 0 && n > req.MaxTokens
	case providers.KindSection:
		n := int(math.Round(float64(p.OutputTokens) * (0.7 + 0.6*rng.Float64())))
		pieces = sectionAnswer(rng, req.System, req.Prompt(), max(n, 1), req.MaxTokens)
		sc.cut = req.MaxTokens > 0 && n > req.MaxTokens
	default:
		n := int(math.Round(float64(p.OutputTokens) * (0.7 + 0.6*rng.Float64())))
		pieces = textAnswer(rng, sample(req.Prompt()), max(n, 1), req.MaxTokens)
		sc.cut = req.MaxTokens > 0 && n > req.MaxTokens
	}
	if free && req.ResponseFormat() != nil {
		pieces = asJSON(pieces)
	}
	if free && len(req.StopSequences()) > 0 {
		var stopped bool
		if pieces, stopped = cutAtStop(pieces, req.StopSequences()); stopped {
			sc.cut = false // the model stopped, as a vendor says when a stop sequence ends it
		}
	}
	gap := func() time.Duration {
		return time.Duration(float64(time.Second) / p.TokensPerSec * (0.6 + 0.8*rng.Float64()))
	}
	sc.steps = make([]step, len(pieces))
	for i, pc := range pieces {
		var d time.Duration
		if i == 0 {
			d = ttft
		} else {
			for range pc.tokens {
				d += gap()
			}
		}
		sc.steps[i] = step{delay: d, text: pc.text, tokens: pc.tokens}
	}
	if oc == outcomeSlow {
		sc.slow(p.SlowFactor)
	}

	// cutAt returns how many chunks a broken call streams: 1..n-1 when it
	// can, so that some text arrives and some is missing.
	cutAt := func() int {
		if len(sc.steps) < 2 {
			return len(sc.steps) / 2
		}
		return 1 + rng.IntN(len(sc.steps)-1)
	}
	switch oc {
	case outcomeError:
		status, msg := 500, "internal server error (simulated)"
		if rng.IntN(2) == 0 {
			status, msg = 503, "service unavailable (simulated)"
		}
		sc.end = endErr
		sc.err = &providers.Error{Kind: providers.KindHTTP, Status: status, Message: msg}
		if rng.IntN(2) == 0 { // before the first token
			sc.endDelay = drawTTFT(rng, p)
			sc.steps = nil
		} else { // mid-stream, as a vendor's error event would
			k := cutAt()
			sc.endDelay = gap()
			sc.steps = sc.steps[:k]
		}
	case outcomeStall:
		k := 0 // a fifth of stalls never send a token
		if rng.IntN(5) != 0 {
			k = cutAt()
		}
		sc.steps = sc.steps[:k]
		sc.end = endStall
	case outcomeCut:
		k := cutAt()
		sc.steps = sc.steps[:k]
		sc.end = endErr
		sc.endDelay = gap()
		sc.err = &providers.Error{
			Kind:    providers.KindInvalid,
			Message: "stream ended without its final event (simulated)",
		}
	}
	return sc
}

// asJSON makes pieces the JSON object {"answer": text}, streamed as
// they are, as a model in JSON mode answers.
func asJSON(pieces []piece) []piece {
	out := make([]piece, len(pieces))
	for i, pc := range pieces {
		b, _ := json.Marshal(pc.text) // escaping is per character: the quoted pieces join into one string
		out[i] = piece{text: string(b[1 : len(b)-1]), tokens: pc.tokens}
	}
	if len(out) == 0 {
		return []piece{{text: `{"answer":""}`, tokens: 1}}
	}
	out[0].text = `{"answer":"` + out[0].text
	out[len(out)-1].text += `"}`
	return out
}

// cutAtStop ends pieces where the first of the stop sequences begins (it
// is not sent), and reports whether one did.
func cutAtStop(pieces []piece, stop []string) ([]piece, bool) {
	var b strings.Builder
	for _, pc := range pieces {
		b.WriteString(pc.text)
	}
	full, at := b.String(), -1
	for _, s := range stop {
		if i := strings.Index(full, s); s != "" && i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 {
		return pieces, false
	}
	var out []piece
	pos := 0
	for _, pc := range pieces {
		if pos+len(pc.text) <= at {
			out = append(out, pc)
			pos += len(pc.text)
			continue
		}
		if rest := pc.text[:at-pos]; rest != "" || len(out) == 0 {
			out = append(out, piece{text: rest, tokens: max(pc.tokens*len(rest)/max(len(pc.text), 1), 1)})
		}
		break
	}
	return out, true
}

// drawTTFT draws a time to first token from the log-normal whose median is
// p.TTFT and whose 95th percentile is p.TTFTP95.
func drawTTFT(rng *rand.Rand, p Params) time.Duration {
	sigma := math.Log(float64(p.TTFTP95)/float64(p.TTFT)) / 1.6448536269514722
	return time.Duration(float64(p.TTFT) * math.Exp(sigma*rng.NormFloat64()))
}

// inputTokens estimates the prompt's tokens as a vendor would count them:
// about four characters a token.
func inputTokens(req providers.Request) int {
	n := 0
	for _, msg := range req.Messages {
		n += len(msg.Content)
	}
	return max(n/4, 1) + len(req.System)/4
}

// sampleBytes is how much of a prompt a simulated model reads to choose
// its topic or its vote: enough for any real cue, and a 1 MB prompt costs
// no copy per call.
const sampleBytes = 16 << 10

// sample is the start of a prompt, at most sampleBytes, cut between runes.
func sample(s string) string {
	if len(s) <= sampleBytes {
		return s
	}
	i := sampleBytes
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}
