package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// The property test: random sessions where features meet (every strategy
// × retries × fallbacks × hedge budget × spending caps × follow-up turns ×
// cancel points × scripted faults per model), each run on the virtual
// clock, each checked against the invariants every session keeps (see
// checkSession). FuzzCompositions explores with go test -fuzz (make fuzz);
// TestCompositions runs a bounded, seeded share of the same space on every
// go test; TestCompositionRegressions replays what they found.

// fault is how a scripted model misbehaves.
type fault uint8

const (
	faultNone       fault = iota
	faultFail             // every call fails (HTTP 500) after its ttft
	faultStall            // streams a word, then goes silent
	faultCut              // streams a word, then the connection drops
	faultRateLimit        // 429 with a Retry-After
	faultMalformed        // rankings and votes that cannot be read
	faultFailSecond       // the second call fails (a member's review), the rest answer
	faultSlow             // answers, ten times slower
	faultPanic            // a bug in council: the engine panics on the call's error
	numFaults
)

var faultNames = [...]string{"none", "fail", "stall", "cut", "rate_limit", "malformed", "fail_second", "slow", "panic"}

func (f fault) String() string { return faultNames[f] }

// composition is one random session setup. Every field is drawn from one
// byte of the input, in the order of its fields (see decode), so a case
// can be written down as the bytes it came from.
type composition struct {
	strategy    config.Strategy
	models      int // 2..4 models in the tier, m0..m3
	fallbackOf  int // -1: none; else model index whose fallback is fb
	classifier  bool
	retries     int
	maxExtra    float64
	sessionCap  float64
	runCap      float64
	turns       int           // follow-up sessions after the first
	cancelAt    time.Duration // 0: never; else the first session is cancelled then
	tieBreak    config.TieBreak
	minResp     int
	sections    int
	synthMerge  bool
	sectionVote bool
	minRequests int
	// Drawn last, so that earlier inputs keep their meaning: whether the
	// cancel is a server's shutdown, and the event (1..) of the first
	// session at which the consumer panics, 0 for none.
	shutdown        bool
	consumerPanicAt int
	// knee: a p95 hedge delay over m0's window, filled first with calls
	// of 100..190ms and three in ten of 8s (a slow mode, the knee at
	// 190ms); replace: hedge.replace. Drawn after the rest.
	knee, replace bool
	faults        [5]fault         // m0..m3, fb
	ttft          [5]time.Duration // m0..m3, fb
}

var strategiesDrawn = []config.Strategy{config.Race, config.Hedge, config.Consensus, config.Council, config.Auto, config.Section}

// byteReader hands out the input's bytes, then zeros.
type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) next(n int) int {
	if r.i >= len(r.b) {
		return 0
	}
	v := r.b[r.i]
	r.i++
	return int(v) % n
}

// decode turns fuzz bytes into a composition; any input is one.
func decode(b []byte) composition {
	r := &byteReader{b: b}
	var c composition
	c.strategy = strategiesDrawn[r.next(len(strategiesDrawn))]
	c.models = 2 + r.next(3)
	c.fallbackOf = r.next(c.models+1) - 1
	c.classifier = r.next(2) == 1
	c.retries = r.next(3)
	c.maxExtra = []float64{0, 0.5, 1}[r.next(3)]
	c.sessionCap = []float64{0, 0, 0, 0.00002, 0.002, 0.05}[r.next(6)]
	c.runCap = []float64{0, 0, 0, 0.00005, 0.004, 0.1}[r.next(6)]
	c.turns = r.next(3)
	if v := r.next(8); v > 0 {
		c.cancelAt = time.Duration(v*v) * 37 * time.Millisecond
	}
	c.tieBreak = []config.TieBreak{config.TieFail, config.TieDefault, config.TieEscalate}[r.next(3)]
	c.minResp = 1 + r.next(c.models)
	c.sections = 1 + r.next(4)
	c.synthMerge = r.next(2) == 1
	c.sectionVote = r.next(2) == 1
	c.minRequests = 1 + r.next(4)
	for i := range c.faults {
		// Half the models behave; a planted bug is rare.
		c.faults[i] = faultNone
		if v := r.next(32); v >= 16 {
			c.faults[i] = fault(1 + (v-16)%int(faultPanic-1))
			if v == 31 {
				c.faults[i] = faultPanic
			}
		}
		c.ttft[i] = time.Duration(1+r.next(20)) * 25 * time.Millisecond
	}
	c.shutdown = r.next(2) == 1
	if v := r.next(64); v >= 60 {
		c.consumerPanicAt = 1 + (v-60)*5
	}
	c.knee = r.next(2) == 1
	c.replace = r.next(2) == 1
	return c
}

func (c composition) String() string {
	var fs []string
	for i, f := range c.faults {
		fs = append(fs, fmt.Sprintf("%s:%s@%s", modelName(i), f, c.ttft[i]))
	}
	return fmt.Sprintf("knee=%v replace=%v shutdown=%v consumer_panic_at=%d ", c.knee, c.replace, c.shutdown, c.consumerPanicAt) + fmt.Sprintf("%s models=%d fallbackOf=%d classifier=%v retries=%d max_extra=%g cap=%g run_cap=%g turns=%d cancel=%s tie=%s min=%d sections=%d synth=%v vote=%v min_requests=%d faults=[%s]",
		c.strategy, c.models, c.fallbackOf, c.classifier, c.retries, c.maxExtra, c.sessionCap, c.runCap, c.turns, c.cancelAt,
		c.tieBreak, c.minResp, c.sections, c.synthMerge, c.sectionVote, c.minRequests, strings.Join(fs, " "))
}

func modelName(i int) string {
	if i == 4 {
		return "fb"
	}
	return "m" + strconv.Itoa(i)
}

// injected reports whether the composition plants a bug in council: a
// model whose calls make the engine panic, which may be called.
func (c composition) injected() bool {
	if c.consumerPanicAt > 0 {
		return true
	}
	for i, f := range c.faults {
		if f == faultPanic && (i < c.models || i == 4 || c.strategy == config.Auto) {
			return true
		}
	}
	return false
}

// config builds the engine's config for c.
func (c composition) config() *config.Config {
	ids := make([]string, 0, 5)
	for i := range c.models {
		ids = append(ids, modelName(i))
	}
	cfg := testConfig(append(ids, "fb")...)
	tier := cfg.Tiers["t"]
	tier.Models = ids
	cfg.Tiers["t"] = tier
	if c.fallbackOf >= 0 {
		cfg.Models[c.fallbackOf].Fallbacks = []string{"fb"}
	}
	cfg.Breaker.MinRequests = c.minRequests
	cfg.Retry = config.RetryConfig{Attempts: c.retries, Backoff: config.Duration{Duration: 50 * time.Millisecond}}
	cfg.Hedge.MaxExtra, cfg.Hedge.Replace = c.maxExtra, c.replace
	if c.knee {
		cfg.Hedge.Delay = config.HedgeDelay{Quantile: 0.95}
	}
	cfg.MaxCostUSD, cfg.MaxRunCostUSD = c.sessionCap, c.runCap
	cfg.Consensus.Voters, cfg.Consensus.MinResponses, cfg.Consensus.TieBreak = c.models, min(c.minResp, c.models), c.tieBreak
	cfg.Council.MinResponses = c.minResp
	cfg.Router = config.RouterConfig{DefaultRoute: "chat", MinConfidence: 0.6, Routes: config.DefaultRoutes()}
	if c.classifier {
		cfg.Router.Classifier = "fb"
	}
	cfg.Section = config.SectionConfig{Split: config.SplitHeadings, ChunkTokens: 100, MaxSections: 40,
		Merge: config.MergeConcat, VoteCategories: []string{"ok", "risk"}}
	if c.synthMerge {
		cfg.Section.Merge = config.MergeSynthesis
	}
	if c.sectionVote {
		cfg.Section.Vote, cfg.Section.VoteWhen = 3, []string{"clause 1"}
	}
	return cfg
}

// composedFake is model i of c: it answers each kind of request as a
// model would, misbehaving as its fault says.
func composedFake(c composition, i int) *fake {
	calls := 0
	id, f, ttft := modelName(i), c.faults[i], c.ttft[i]
	return byKind(func(req providers.Request) script { // called under the fake's lock
		calls++
		switch f {
		case faultFail:
			return script{ttft: ttft, err: boom500}
		case faultStall:
			return script{ttft: ttft, text: "stalling answer", after: 1, stall: true}
		case faultCut:
			return script{ttft: ttft, gap: ttft / 4, text: "cut answer here", after: 1, err: &providers.Error{Kind: providers.KindError, Message: "connection reset"}}
		case faultRateLimit:
			return script{ttft: ttft, err: &providers.Error{Kind: providers.KindRateLimited, Status: 429, Message: "slow down", RetryAfter: 200 * time.Millisecond}}
		case faultFailSecond:
			if calls == 2 {
				return script{ttft: ttft, err: boom500}
			}
		case faultSlow:
			ttft *= 10
		case faultPanic:
			return script{ttft: ttft, err: panicky{}}
		}
		malformed := f == faultMalformed
		switch req.Kind {
		case providers.KindRank:
			if malformed {
				return script{ttft: ttft, text: "They are all fine, I think."}
			}
			var out []string
			for _, m := range responseRE.FindAllStringSubmatch(req.Prompt(), -1) {
				out = append(out, fmt.Sprintf("%d. Response %s", len(out)+1, m[1]))
			}
			return script{ttft: ttft, gap: time.Millisecond, text: "Fine.\n\nFINAL RANKING:\n" + strings.Join(out, "\n")}
		case providers.KindClassify:
			if malformed {
				return script{ttft: ttft, text: "I cannot decide."}
			}
			cat := []string{"billing", "technical", "billing", "account", "general"}[i]
			if strings.Contains(req.System, "high-stakes") { // the router's classifier
				cat = "code"
			}
			return script{ttft: ttft, text: `{"category": "` + cat + `", "confidence": 0.9}`}
		case providers.KindSection:
			text := "section by " + id + "."
			if strings.Contains(req.System, "ok, risk") {
				text += "\nVERDICT: " + []string{"ok", "risk"}[i%2]
			}
			return script{ttft: ttft, gap: time.Millisecond, text: text}
		}
		return script{ttft: ttft, gap: time.Millisecond, text: "answer from " + id + " to the question."}
	})
}

// runComposition runs c's sessions on one engine inside a synctest
// bubble and checks every invariant.
func runComposition(t *testing.T, b []byte) (outcomes []string) {
	c := decode(b)
	synctest.Test(t, func(t *testing.T) {
		fakes := map[string]*fake{}
		for i := range 5 {
			fakes[modelName(i)] = composedFake(c, i)
		}
		cfg := c.config()
		clients := make(map[string]providers.Provider, len(fakes))
		for id, f := range fakes {
			clients[id] = f
		}
		var bugs strings.Builder
		e, err := New(cfg, clients, WithSeed(int64(len(b))), WithBugLog(&bugs))
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if c.knee {
			for i := range 100 {
				d := time.Duration(100+i%10*10) * time.Millisecond
				if i%10 < 3 {
					d = 8 * time.Second
				}
				e.models["m0"].stats.addOK(d/4, d)
			}
		}
		var turns []Turn
		spent := 0.0
		for n := range 1 + c.turns {
			ctx, cancelCause := context.WithCancelCause(t.Context())
			cancel := func() {
				if c.shutdown {
					cancelCause(ErrShutdown)
				}
				cancelCause(nil)
			}
			if n == 0 && c.cancelAt > 0 {
				stop := time.AfterFunc(c.cancelAt, cancel) // the virtual clock's
				defer stop.Stop()
			}
			req := SessionRequest{Prompt: "Is my invoice overdue? turn " + strconv.Itoa(n), Strategy: c.strategy, Turns: turns}
			if c.strategy == config.Section {
				req.Document = doc(c.sections)
			}
			var evs []Event
			sum, err := e.Run(ctx, req, func(ev Event) {
				evs = append(evs, ev)
				if n == 0 && len(evs) == c.consumerPanicAt {
					panic("a planted bug in the consumer")
				}
			})
			cancel()
			if err != nil {
				if sum != nil || len(evs) > 0 || err.Error() == "" {
					t.Fatalf("%s: session %d refused (%v) after it began", c, n, err)
				}
				continue // refused before it began (a spending cap): nothing ran
			}
			if n == 0 && c.consumerPanicAt > 0 && c.consumerPanicAt < len(evs) {
				t.Errorf("%s: the consumer was called after it panicked", sum.Session)
			}
			if n == 0 && c.consumerPanicAt > 0 && c.consumerPanicAt <= len(evs) {
				// What the consumer saw stops at its panic: the summary alone.
				if sum.Status != StatusFailed || sum.ErrorKind != ErrorKindInternal {
					t.Errorf("%s: the consumer panicked, status %s kind %q", sum.Session, sum.Status, sum.ErrorKind)
				}
			} else {
				checkSession(t, c, evs, sum)
				if bugs.Len() > 0 && !c.injected() {
					t.Errorf("%s: the bug log has %q", sum.Session, bugs.String())
				}
			}
			spent += sum.CostUSD
			if sum.Status == StatusCancelled && (n > 0 || c.cancelAt == 0) {
				t.Errorf("%s: cancelled, but nothing cancelled it", sum.Session)
			}
			if c.sessionCap > 0 && sum.CostUSD > c.sessionCap+1e-9 {
				t.Errorf("%s: cost %g over the session cap %g", sum.Session, sum.CostUSD, c.sessionCap)
			}
			if c.runCap > 0 && spent > c.runCap+1e-9 {
				t.Errorf("%s: the run spent %g, over its cap %g", sum.Session, spent, c.runCap)
			}
			o := string(c.strategy) + " " + string(sum.Status) + " " + sum.ErrorKind
			if sum.HedgeReplaced {
				o += " replaced"
			}
			outcomes = append(outcomes, o)
			if t.Failed() {
				t.Logf("composition %s\ninput %q\nbug log:\n%s", c, b, bugs.String())
				return
			}
			turns = append(turns, sum.Turn(req.Prompt))
		}
	})
	return outcomes
}

// checkSession checks the invariants of one session's events and summary.
func checkSession(t *testing.T, c composition, evs []Event, sum *Summary) {
	t.Helper()
	errorf := func(format string, args ...any) { t.Errorf("%s: "+format, append([]any{sum.Session}, args...)...) }
	// No panic, unless the composition planted one.
	if sum.ErrorKind == ErrorKindInternal && !c.injected() {
		errorf("a bug in council: %s\n%s", sum.Error, sum.Stack)
	}
	// Exactly one session_done, the last event; gap-free sequence numbers.
	if n := count(evs, SessionDone); n != 1 || evs[len(evs)-1].Type != SessionDone {
		errorf("%d session_done, last event %s: want exactly one, last", n, evs[len(evs)-1].Type)
	}
	for i, ev := range evs {
		if ev.Seq != i+1 {
			errorf("event %d (%s) has seq %d", i, ev.Type, ev.Seq)
			break
		}
	}
	// Every stage that starts ends, once.
	stages := map[Stage]int{}
	for _, ev := range evs {
		switch ev.Type {
		case StageStarted:
			stages[ev.Stage]++
		case StageDone:
			stages[ev.Stage]--
		}
	}
	for st, n := range stages {
		if n != 0 {
			errorf("stage %s: %d more stage_started than stage_done", st, n)
		}
	}
	// Every attempt ends exactly once, and has one summary row.
	ends, seen := map[string]int{}, map[string]bool{}
	for _, ev := range evs {
		if ev.Attempt != "" && ev.Type != Decided {
			seen[ev.Attempt] = true
		}
		switch ev.Type {
		case AttemptDone, AttemptFailed, AttemptCancelled, AttemptSkipped:
			ends[ev.Attempt]++
		}
	}
	rows := map[string]bool{}
	cost := 0.0
	for _, r := range sum.Models {
		if rows[r.Attempt] {
			errorf("two summary rows for attempt %s", r.Attempt)
		}
		rows[r.Attempt] = true
		cost += r.CostUSD
		if ends[r.Attempt] != 1 {
			errorf("attempt %s (%s, %s) ended %d times, want once", r.Attempt, r.ID, r.Status, ends[r.Attempt])
		}
		if r.Reason == string(ReasonInternal) && !c.injected() {
			errorf("attempt %s cancelled for a bug (reason internal), none planted", r.Attempt)
		}
		switch r.Status {
		case AttemptQueuedStatus, AttemptRunning, "":
			errorf("attempt %s is %q in the summary: not ended", r.Attempt, r.Status)
		}
	}
	for id := range seen {
		if !rows[id] {
			errorf("attempt %s has events but no summary row", id)
		}
	}
	// The cost is the sum of the rows.
	if math.Abs(cost-sum.CostUSD) > 1e-9+1e-9*math.Abs(cost) {
		errorf("cost %g, rows sum to %g", sum.CostUSD, cost)
	}
	// Status, degraded, answer and winner agree (council run's exit code
	// is read from the status: 0 decided or degraded, 1 failed, 130
	// cancelled).
	answered := sum.Status == StatusDecided || sum.Status == StatusDegraded
	switch sum.Status {
	case StatusDecided, StatusDegraded, StatusFailed, StatusCancelled:
	default:
		errorf("status %q", sum.Status)
	}
	if (sum.Status == StatusDegraded) != (len(sum.Degraded) > 0) {
		errorf("status %s with degraded %v", sum.Status, sum.Degraded)
	}
	if answered != (sum.Answer != "") || (sum.Winner != "" && !answered) {
		errorf("status %s with answer %.40q, winner %q", sum.Status, sum.Answer, sum.Winner)
	}
	if !answered && sum.Error == "" {
		errorf("status %s without an error", sum.Status)
	}
	if (sum.ErrorKind != "") != (sum.ErrorKind == ErrorKindInternal && sum.Status == StatusFailed) {
		errorf("error kind %q with status %s", sum.ErrorKind, sum.Status)
	}
	checkHedge(errorf, evs, sum)
}

// checkHedge checks a hedge's replacement: a replaced attempt is a
// primary, cancelled (never failed), once per session, said by
// hedge_replaced and a hedge_fired of reason replaced (which may come
// without one: a primary that finished as it was cancelled is not
// replaced); a hedge that answered has exactly one winner.
func checkHedge(errorf func(string, ...any), evs []Event, sum *Summary) {
	replaced, won := 0, 0
	for _, r := range sum.Models {
		if r.Status == AttemptWon {
			won++
		}
		if r.Reason != string(ReasonReplaced) {
			continue
		}
		replaced++
		if r.Status != AttemptCancelledStatus || r.Role != RolePrimary {
			errorf("attempt %s replaced as %s %s: want a cancelled primary", r.Attempt, r.Role, r.Status)
		}
	}
	fired := 0
	for _, ev := range evs {
		if ev.Type == HedgeFired && ev.Reason == ReasonReplaced {
			fired++
		}
	}
	if replaced > 1 || (replaced == 1) != sum.HedgeReplaced || fired > 1 || fired < replaced {
		errorf("%d primaries replaced, %d hedge_fired replaced, hedge_replaced %v", replaced, fired, sum.HedgeReplaced)
	}
	answered := sum.Status == StatusDecided || sum.Status == StatusDegraded
	if sum.Strategy == config.Hedge && (won > 1 || answered != (won == 1)) {
		errorf("hedge %s with %d winning attempts", sum.Status, won)
	}
}

// compositionSeeds are inputs worth keeping: the reviewer-fallback crash
// first, then every case the property test found (see the commits).
var compositionSeeds = []struct {
	name string
	in   []byte
}{
	// A council whose reviewer m2 fails (its first call answered) and
	// whose fallback fb ranks: parseRanking on a nil review task.
	{"reviewer fallback ranks", []byte{3, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3,
		0, 1, 0, 2, 21, 3, 0, 0, 0, 0}},
	// The consumer panics on an event the session had already summed up
	// (it was cancelled, shutdown, first): Run returned the summary
	// saying cancelled, as if nothing had gone wrong.
	{"consumer panics after the summary", []byte("\xe5^\xc4znJ&\x1a\x9d\xf31\xc3\xcfd\fwvZ\xa5\xc2\xcebgm\"\xb0\xd3}\xfb\xb8\xdf\xef")},
	// A section strategy whose m1 is rate limited and falls back to fb:
	// the section had no run for the fallback's attempt (nil dereference).
	{"section fallback", []byte("\xa1\xe9p\x0eZf\xfc\x9bW\xafG\xb22Ua\xe5\x06z3Q\x04\xa6J\xc0\x02\xbb\xf0\xe5:\aiN")},
}

// FuzzCompositions draws a session from the fuzzer's bytes and checks
// the invariants (make fuzz runs it for two minutes).
func FuzzCompositions(f *testing.F) {
	for _, s := range compositionSeeds {
		f.Add(s.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) { runComposition(t, b) })
}

// TestCompositionRegressions replays every recorded case by name.
func TestCompositionRegressions(t *testing.T) {
	for _, s := range compositionSeeds {
		t.Run(s.name, func(t *testing.T) { runComposition(t, s.in) })
	}
}

// compositionsPerRun is how many compositions TestCompositions draws:
// COUNCIL_COMPOSITIONS overrides it.
const compositionsPerRun = 2000

// TestCompositions runs a bounded, seeded share of FuzzCompositions'
// space on every go test: the same compositions each run.
func TestCompositions(t *testing.T) {
	n := compositionsPerRun
	if v, err := strconv.Atoi(os.Getenv("COUNCIL_COMPOSITIONS")); err == nil {
		n = v
	}
	if testing.Short() {
		n /= 10
	}
	rng := rand.New(rand.NewPCG(20, 4))
	seen := map[string]int{}
	for i := range n {
		b := make([]byte, 32)
		for j := range b {
			b[j] = byte(rng.Uint32())
		}
		ok := t.Run(strconv.Itoa(i), func(t *testing.T) {
			for _, o := range runComposition(t, b) {
				seen[o]++
			}
		})
		if !ok {
			t.Fatalf("composition %d failed: input %q (%s)", i, b, decode(b))
		}
	}
	t.Logf("outcomes (strategy, status, error kind): %v", seen)
	replaced := 0
	for o, k := range seen {
		if strings.HasSuffix(o, " replaced") {
			replaced += k
		}
	}
	if n >= 1000 && replaced == 0 {
		t.Errorf("no hedge replaced its primary in %d compositions: the knob is not exercised", n)
	}
	goleak.VerifyNone(t)
}
