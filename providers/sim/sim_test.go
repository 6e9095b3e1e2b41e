package sim

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/providers"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// trace is everything observable about one call.
type trace struct {
	text   string
	times  []time.Duration // of each chunk, since Stream was called
	chunks []providers.Chunk
	err    error
	end    time.Duration // when Next returned false
}

func (tr trace) usage() providers.Usage {
	if len(tr.chunks) == 0 {
		return providers.Usage{}
	}
	return *tr.chunks[len(tr.chunks)-1].Usage
}

func run(t *testing.T, ctx context.Context, m *Model, req providers.Request) trace {
	t.Helper()
	start := time.Now()
	s, err := m.Stream(ctx, req)
	if err != nil {
		t.Fatalf("Stream: %v (the simulator reports everything through Err)", err)
	}
	defer s.Close()
	if d := time.Since(start); d != 0 {
		t.Fatalf("Stream blocked for %v, want 0", d)
	}
	var tr trace
	for s.Next() {
		c := s.Chunk()
		tr.text += c.Text
		tr.times = append(tr.times, time.Since(start))
		tr.chunks = append(tr.chunks, c)
	}
	tr.end = time.Since(start)
	tr.err = s.Err()
	return tr
}

func textReq(prompt string) providers.Request {
	return providers.Request{Messages: []providers.Message{{Role: "user", Content: prompt}}}
}

func classifyReq(prompt string) providers.Request {
	r := textReq(prompt)
	r.Kind = providers.KindClassify
	return r
}

func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func within(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Abs(want) }

func provErr(t *testing.T, err error) *providers.Error {
	t.Helper()
	var pe *providers.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want a *providers.Error", err, err)
	}
	return pe
}

func TestZeroParamsUseDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("zero", Params{}, 1)
		p := m.Params()
		if p.TTFT != DefaultTTFT || p.TTFTP95 != 3*DefaultTTFT || p.TokensPerSec != DefaultTokensPerSec ||
			p.OutputTokens != DefaultOutputTokens || p.SlowFactor != DefaultSlowFactor {
			t.Errorf("Params() = %+v, want the defaults", p)
		}
		want := map[string]float64{
			"error_rate": 0, "rate_limit_rate": 0, "stall_rate": 0, "cut_rate": 0,
			"slow_rate": 0, "slow_factor": 10, "tokens_per_sec": 50, "bad_ranking_rate": 0,
		}
		if got := m.Knobs(); !maps.Equal(got, want) {
			t.Errorf("Knobs() = %v, want %v", got, want)
		}
		tr := run(t, t.Context(), m, textReq("What is a goroutine?"))
		if tr.err != nil || len(tr.chunks) == 0 || strings.TrimSpace(tr.text) == "" {
			t.Fatalf("zero-params call: err %v, %d chunks, text %q", tr.err, len(tr.chunks), tr.text)
		}
	})
}

func TestNormalizeClamps(t *testing.T) {
	p := normalize(Params{
		TTFT: time.Second, TTFTP95: time.Millisecond, TokensPerSec: math.NaN(),
		ErrorRate: 2, RateLimitRate: -1, StallRate: math.NaN(), SlowFactor: 0.5,
	})
	if p.TTFTP95 != time.Second || p.TokensPerSec != DefaultTokensPerSec || p.ErrorRate != 1 ||
		p.RateLimitRate != 0 || p.StallRate != 0 || p.SlowFactor != 1 {
		t.Errorf("normalize = %+v", p)
	}
}

func TestTTFTDistribution(t *testing.T) {
	tests := []struct {
		name      string
		ttft, p95 time.Duration
	}{
		{"default spread", 300 * time.Millisecond, 900 * time.Millisecond},
		{"fast", 150 * time.Millisecond, 600 * time.Millisecond},
		{"narrow", time.Second, 1200 * time.Millisecond},
		{"fixed", 200 * time.Millisecond, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				m := New("ttft", Params{TTFT: tt.ttft, TTFTP95: tt.p95, OutputTokens: 3}, 42)
				const n = 2000
				ttfts := make([]time.Duration, 0, n)
				for range n {
					tr := run(t, t.Context(), m, textReq("Explain entropy."))
					if tr.err != nil || len(tr.times) == 0 {
						t.Fatalf("call failed: %v", tr.err)
					}
					ttfts = append(ttfts, tr.times[0])
				}
				if got := quantile(ttfts, 0.5); !within(float64(got), float64(tt.ttft), 0.05) {
					t.Errorf("median TTFT = %v, want %v ±5%%", got, tt.ttft)
				}
				if got := quantile(ttfts, 0.95); !within(float64(got), float64(tt.p95), 0.08) {
					t.Errorf("p95 TTFT = %v, want %v ±8%%", got, tt.p95)
				}
			})
		})
	}
}

func TestTokensPerSec(t *testing.T) {
	for _, tps := range []float64{20, 50, 400} {
		synctest.Test(t, func(t *testing.T) {
			m := New("speed", Params{TokensPerSec: tps, OutputTokens: 300}, 7)
			tr := run(t, t.Context(), m, textReq("Tell me about Roman roads."))
			if tr.err != nil {
				t.Fatal(tr.err)
			}
			u := tr.usage()
			streamed := u.OutputTokens - tr.chunks[0].Usage.OutputTokens // tokens after the first chunk
			dur := tr.times[len(tr.times)-1] - tr.times[0]
			got := float64(streamed) / dur.Seconds()
			if !within(got, tps, 0.05) {
				t.Errorf("TokensPerSec %v: streamed %d tokens in %v = %.1f tok/s, want ±5%%", tps, streamed, dur, got)
			}
			// Gaps are jittered, not constant.
			gaps := map[time.Duration]bool{}
			for i := 1; i < len(tr.times); i++ {
				gaps[tr.times[i]-tr.times[i-1]] = true
			}
			if len(gaps) < len(tr.times)/2 {
				t.Errorf("only %d distinct gaps in %d chunks: no jitter", len(gaps), len(tr.times))
			}
		})
	}
}

func TestOutputLengthAndUsage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const want = 80
		m := New("len", Params{OutputTokens: want, TokensPerSec: 1000}, 3)
		prompts := []string{"How do I cook a steak?", "Why is the sky blue?", "zzz", "Give me travel advice for Japan."}
		total, calls := 0, 0
		for i := range 200 {
			req := textReq(prompts[i%len(prompts)])
			req.System = "You are terse." // 14 chars: 3 tokens
			tr := run(t, t.Context(), m, req)
			if tr.err != nil {
				t.Fatal(tr.err)
			}
			out := 0
			for j, c := range tr.chunks {
				if c.Usage == nil {
					t.Fatalf("chunk %d has no Usage", j)
				}
				wantIn := max(len(req.Prompt())/4, 1) + 3
				if c.Usage.InputTokens != wantIn {
					t.Fatalf("InputTokens = %d, want %d", c.Usage.InputTokens, wantIn)
				}
				if c.Usage.OutputTokens <= out {
					t.Fatalf("OutputTokens not increasing: %d after %d", c.Usage.OutputTokens, out)
				}
				out = c.Usage.OutputTokens
			}
			if words := len(strings.Fields(tr.text)); out != words {
				t.Errorf("OutputTokens = %d, want one per word (%d)", out, words)
			}
			if len(tr.chunks) < out*2/3 {
				t.Errorf("%d chunks for %d tokens, want about one per token", len(tr.chunks), out)
			}
			total += out
			calls++
		}
		if avg := float64(total) / float64(calls); !within(avg, want, 0.15) {
			t.Errorf("average answer = %.1f tokens, want about %d", avg, want)
		}

		req := textReq("How do database indexes work?")
		req.MaxTokens = 10
		if tr := run(t, t.Context(), m, req); tr.usage().OutputTokens > 10 || tr.err != nil {
			t.Errorf("MaxTokens 10: %d tokens, err %v", tr.usage().OutputTokens, tr.err)
		}
	})
}

func TestTextLooksLikeAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		prompt := "How should I think about database transactions and isolation?"
		a := run(t, t.Context(), New("alpha", Params{OutputTokens: 60}, 1), textReq(prompt))
		b := run(t, t.Context(), New("beta", Params{OutputTokens: 60}, 1), textReq(prompt))
		if a.text == b.text {
			t.Errorf("two models gave the same answer: %q", a.text)
		}
		for _, tr := range []trace{a, b} {
			if strings.Contains(strings.ToLower(tr.text), "lorem") || !strings.ContainsAny(tr.text, ".") {
				t.Errorf("not prose: %q", tr.text)
			}
			if !strings.Contains(strings.ToLower(tr.text), "database") && !strings.Contains(tr.text, "index") &&
				!strings.Contains(tr.text, "transaction") && !strings.Contains(tr.text, "query") {
				t.Errorf("answer to a database question is off topic: %q", tr.text)
			}
		}
	})
}

func TestRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("limited", Params{RateLimitRate: 1}, 1)
		for range 50 {
			tr := run(t, t.Context(), m, textReq("hi"))
			pe := provErr(t, tr.err)
			if pe.Kind != providers.KindRateLimited || pe.Status != 429 || pe.RetryAfter <= 0 {
				t.Fatalf("err = %+v, want rate_limited, 429, RetryAfter > 0", pe)
			}
			if len(tr.chunks) != 0 {
				t.Fatalf("rate-limited call streamed %q", tr.text)
			}
			if tr.end < 20*time.Millisecond || tr.end > 50*time.Millisecond {
				t.Fatalf("rate limit reported after %v, want 20-50ms", tr.end)
			}
		}
	})
}

func TestHTTPError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("flaky", Params{ErrorRate: 1}, 1)
		before, during := 0, 0
		statuses := map[int]int{}
		for range 200 {
			tr := run(t, t.Context(), m, textReq("Explain comparative advantage."))
			pe := provErr(t, tr.err)
			if pe.Kind != providers.KindHTTP || (pe.Status != 500 && pe.Status != 503) {
				t.Fatalf("err = %+v, want http 500 or 503", pe)
			}
			statuses[pe.Status]++
			if len(tr.chunks) == 0 {
				before++
			} else {
				during++
			}
		}
		if before < 50 || during < 50 || statuses[500] < 50 || statuses[503] < 50 {
			t.Errorf("before first token %d, mid-stream %d, statuses %v: want a mix of all", before, during, statuses)
		}
	})
}

func TestStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("staller", Params{StallRate: 1, OutputTokens: 40}, 1)
		withText := 0
		for range 30 {
			cause := errors.New("stall timeout")
			ctx, cancel := context.WithCancelCause(t.Context())
			start := time.Now()
			s, _ := m.Stream(ctx, textReq("Tell me about jet lag."))
			var (
				chunks int
				ended  time.Duration
				done   = make(chan struct{})
			)
			go func() {
				defer close(done)
				for s.Next() {
					chunks++
				}
				ended = time.Since(start)
			}()
			time.Sleep(time.Hour) // far longer than any answer takes
			synctest.Wait()
			select {
			case <-done:
				t.Fatalf("stalled stream ended by itself after %d chunks: err %v", chunks, s.Err())
			default:
			}
			cancel(cause)
			<-done
			if ended != time.Hour {
				t.Errorf("Next returned %v after cancel, want at once", ended-time.Hour)
			}
			if !errors.Is(s.Err(), cause) {
				t.Errorf("Err = %v, want the cancel cause", s.Err())
			}
			if chunks > 0 {
				withText++
			}
			s.Close()
		}
		if withText < 15 || withText == 30 {
			t.Errorf("%d of 30 stalls streamed text first, want most but not all", withText)
		}
	})
}

func TestCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := Params{OutputTokens: 50}
		whole := New("cutter", p, 9)
		p.CutRate = 1
		cut := New("cutter", p, 9)
		for i := range 50 {
			req := textReq("How do I write clearly?")
			if i%2 == 1 {
				req = classifyReq("Categories: a, b")
			}
			full := run(t, t.Context(), whole, req)
			tr := run(t, t.Context(), cut, req)
			pe := provErr(t, tr.err)
			if pe.Kind != providers.KindInvalid || !strings.Contains(pe.Message, "final event") {
				t.Fatalf("err = %+v, want invalid, stream ended without its final event", pe)
			}
			if tr.text == "" || len(tr.text) >= len(full.text) || !strings.HasPrefix(full.text, tr.text) {
				t.Fatalf("cut text %q, want a non-empty strict prefix of %q", tr.text, full.text)
			}
			if tr.usage().OutputTokens == 0 {
				t.Fatalf("cut stream reports no output tokens")
			}
		}
	})
}

func TestSlowFactor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, factor := range []float64{3, 10} {
			p := Params{OutputTokens: 30}
			normal := New("tortoise", p, 5)
			p.SlowRate, p.SlowFactor = 1, factor
			slow := New("tortoise", p, 5)
			for range 20 {
				a := run(t, t.Context(), normal, textReq("Why walk every day?"))
				b := run(t, t.Context(), slow, textReq("Why walk every day?"))
				if a.err != nil || b.err != nil || a.text != b.text {
					t.Fatalf("slow call differs beyond timing: %v %v\n%q\n%q", a.err, b.err, a.text, b.text)
				}
				for i := range a.times {
					want := float64(a.times[i]) * factor
					if !within(float64(b.times[i]), want, 1e-6) {
						t.Fatalf("factor %v: chunk %d at %v, want %v", factor, i, b.times[i], time.Duration(want))
					}
				}
			}
		}
	})
}

func TestCancelMidStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("cancelled", Params{OutputTokens: 100}, 1)
		cause := errors.New("lost the race")
		ctx, cancel := context.WithCancelCause(t.Context())
		s, _ := m.Stream(ctx, textReq("What is quantum tunnelling?"))
		for range 3 {
			if !s.Next() {
				t.Fatalf("stream ended early: %v", s.Err())
			}
		}
		used := *s.Chunk().Usage
		// Cancel while Next waits for the fourth chunk: it must return at
		// once, not when the chunk was due.
		go func() {
			time.Sleep(time.Millisecond)
			cancel(cause)
		}()
		start := time.Now()
		if s.Next() {
			t.Fatalf("Next = true after cancel, chunk %q", s.Chunk().Text)
		}
		if d := time.Since(start); d != time.Millisecond {
			t.Errorf("Next returned %v after Next started, want 1ms (the cancel)", d)
		}
		if !errors.Is(s.Err(), cause) {
			t.Errorf("Err = %v, want %v", s.Err(), cause)
		}
		if s.Next() || s.Chunk().Text != "" {
			t.Error("Next after the end returned a chunk")
		}
		if used.OutputTokens < 3 {
			t.Errorf("usage before cancel = %+v", used)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		if err := s.Close(); err != nil {
			t.Error(err)
		}

		// Cancelled before the first Next.
		ctx2, cancel2 := context.WithCancel(t.Context())
		cancel2()
		tr := run(t, ctx2, m, textReq("x"))
		if len(tr.chunks) != 0 || !errors.Is(tr.err, context.Canceled) || tr.end != 0 {
			t.Errorf("pre-cancelled: %d chunks, err %v, after %v", len(tr.chunks), tr.err, tr.end)
		}
	})
}

func TestCloseUnblocksNext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("closer", Params{StallRate: 1}, 2)
		s, _ := m.Stream(t.Context(), textReq("stall please"))
		done := make(chan bool)
		go func() {
			for s.Next() {
			}
			done <- true
		}()
		time.Sleep(time.Minute)
		s.Close()
		<-done
		if s.Err() == nil {
			t.Error("a stream closed before its end reports a clean end")
		}
	})
}

// TestCancelRealClock runs outside synctest: goleak (TestMain) checks that
// nothing is left behind after real timers.
func TestCancelRealClock(t *testing.T) {
	m := New("real", Params{TTFT: time.Millisecond, TTFTP95: 2 * time.Millisecond, TokensPerSec: 2000}, 1)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			s, _ := m.Stream(ctx, textReq("Explain hedged requests."))
			defer s.Close()
			for n := 0; s.Next(); n++ {
				if n == i {
					cancel()
				}
			}
			if !errors.Is(s.Err(), context.Canceled) {
				t.Errorf("Err = %v, want context.Canceled", s.Err())
			}
		})
	}
	wg.Wait()
}

func TestReproducible(t *testing.T) {
	calls := func(t *testing.T, name string, seed int64) []trace {
		var out []trace
		m := New(name, Params{ErrorRate: 0.2, CutRate: 0.2, SlowRate: 0.2, OutputTokens: 30}, seed)
		for i := range 8 {
			req := textReq("What makes bread rise?")
			if i%3 == 2 {
				req = classifyReq("Categories: billing, technical")
			}
			out = append(out, run(t, t.Context(), m, req))
		}
		return out
	}
	same := func(a, b []trace) bool {
		for i := range a {
			if a[i].text != b[i].text || !slices.Equal(a[i].times, b[i].times) ||
				a[i].end != b[i].end || (a[i].err == nil) != (b[i].err == nil) ||
				(a[i].err != nil && a[i].err.Error() != b[i].err.Error()) {
				return false
			}
		}
		return true
	}
	synctest.Test(t, func(t *testing.T) {
		a, b := calls(t, "sage", 11), calls(t, "sage", 11)
		if !same(a, b) {
			t.Error("same seed and name gave different calls")
		}
		if c := calls(t, "sage", 12); same(a, c) {
			t.Error("different seeds gave the same calls")
		}
		if c := calls(t, "swift", 11); same(a, c) {
			t.Error("different models gave the same calls")
		}
	})
}

// parseVote extracts the JSON object from an answer as a tolerant parser
// would: from the first '{' to the last '}'.
func parseVote(t *testing.T, text string) (string, float64) {
	t.Helper()
	i, j := strings.Index(text, "{"), strings.LastIndex(text, "}")
	if i < 0 || j < i {
		t.Fatalf("no JSON object in %q", text)
	}
	var v struct {
		Category   string  `json:"category"`
		Confidence float64 `json:"confidence"`
	}
	if err := json.Unmarshal([]byte(text[i:j+1]), &v); err != nil {
		t.Fatalf("answer %q: %v", text, err)
	}
	return v.Category, v.Confidence
}

func TestClassificationFollowsAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("voter", Params{Answers: map[string]float64{"billing": 0.8, "technical": 0.2}}, 1)
		const n = 2000
		votes := map[string]int{}
		plain, fenced, prose := 0, 0, 0
		for range n {
			tr := run(t, t.Context(), m, classifyReq("My invoice is wrong. Categories: billing, technical"))
			if tr.err != nil {
				t.Fatal(tr.err)
			}
			if len(tr.chunks) < 5 {
				t.Fatalf("answer %q came in %d chunks, want it streamed", tr.text, len(tr.chunks))
			}
			cat, conf := parseVote(t, tr.text)
			if conf <= 0 || conf > 1 {
				t.Fatalf("confidence %v out of range", conf)
			}
			votes[cat]++
			switch {
			case strings.HasPrefix(tr.text, "{"):
				plain++
			case strings.HasPrefix(tr.text, "```"):
				fenced++
			default:
				prose++
			}
		}
		if got := float64(votes["billing"]) / n; !within(got, 0.8, 0.03) || votes["billing"]+votes["technical"] != n {
			t.Errorf("votes %v, want about 80%% billing, 20%% technical", votes)
		}
		if plain < n*7/10 || fenced < n/20 || prose < n/20 {
			t.Errorf("plain %d, fenced %d, with prose %d: want mostly plain, some of each", plain, fenced, prose)
		}
	})
}

func TestClassificationWithoutAnswers(t *testing.T) {
	tests := []struct {
		prompt string
		want   []string
	}{
		{"Classify this ticket.\nCategories: billing, technical, account.\nTicket: ...", []string{"billing", "technical", "account"}},
		{"Pick one category (exactly one): refund | bug | praise", []string{"refund", "bug", "praise"}},
		{"categories: [\"spam\", \"ham\"]", []string{"spam", "ham"}},
		{"Is this spam or ham?", []string{"general"}},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			m := New("voter", Params{}, 1)
			seen := map[string]bool{}
			for range 60 {
				cat, _ := parseVote(t, run(t, t.Context(), m, classifyReq(tt.prompt)).text)
				if !slices.Contains(tt.want, cat) {
					t.Fatalf("prompt %q: vote %q, want one of %v", tt.prompt, cat, tt.want)
				}
				seen[cat] = true
			}
			if len(seen) != len(tt.want) {
				t.Errorf("prompt %q: votes %v, want all of %v", tt.prompt, seen, tt.want)
			}
		})
	}
}

func TestTune(t *testing.T) {
	tests := []struct {
		knob    string
		delta   float64
		want    float64
		wantErr bool
	}{
		{"error_rate", 0.25, 0.35, false},
		{"error_rate", 5, 1, false},
		{"rate_limit_rate", -1, 0, false},
		{"stall_rate", 0.5, 0.5, false},
		{"cut_rate", 0.1, 0.1, false},
		{"slow_rate", 1.5, 1, false},
		{"slow_factor", -100, 1, false},
		{"slow_factor", 5, 15, false},
		{"tokens_per_sec", 10, 60, false},
		{"tokens_per_sec", -1000, 1, false},
		{"bad_ranking_rate", 0.4, 0.4, false},
		{"bad_ranking_rate", 2, 1, false},
		{"ttft", 1, 0, true},
		{"error_rate", math.NaN(), 0, true},
	}
	for _, tt := range tests {
		m := New("tuned", Params{ErrorRate: 0.1}, 1)
		got, err := m.Tune(tt.knob, tt.delta)
		if (err != nil) != tt.wantErr {
			t.Errorf("Tune(%q, %v) error = %v, want error %v", tt.knob, tt.delta, err, tt.wantErr)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), "tuned") {
				t.Errorf("error %q does not name the model", err)
			}
			continue
		}
		if !within(got, tt.want, 1e-9) || m.Knobs()[tt.knob] != got {
			t.Errorf("Tune(%q, %v) = %v (Knobs %v), want %v", tt.knob, tt.delta, got, m.Knobs()[tt.knob], tt.want)
		}
	}
}

func TestTuneAppliesToLaterCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("live", Params{}, 1)
		before, _ := m.Stream(t.Context(), textReq("Tell me about harmony."))
		defer before.Close()
		if _, err := m.Tune("error_rate", 1); err != nil {
			t.Fatal(err)
		}
		for before.Next() {
		}
		if before.Err() != nil {
			t.Errorf("call started before the change failed: %v", before.Err())
		}
		if tr := run(t, t.Context(), m, textReq("Tell me about harmony.")); providers.KindOf(tr.err) != providers.KindHTTP {
			t.Errorf("call after error_rate=1: err %v, want http", tr.err)
		}
		m.SetParams(Params{RateLimitRate: 1})
		if tr := run(t, t.Context(), m, textReq("x")); providers.KindOf(tr.err) != providers.KindRateLimited {
			t.Errorf("call after SetParams: err %v, want rate_limited", tr.err)
		}
	})
}

func TestParamsAreCopied(t *testing.T) {
	answers := map[string]float64{"a": 1}
	m := New("copy", Params{Answers: answers}, 1)
	answers["b"] = 5
	got := m.Params()
	got.Answers["c"] = 7
	if a := m.Params().Answers; len(a) != 1 {
		t.Errorf("model shares its Answers map with callers: %v", a)
	}
}

func TestConcurrentTuning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := New("busy", Params{TTFT: 50 * time.Millisecond, TokensPerSec: 200, OutputTokens: 20}, 1)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 20 {
					ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second) // ends stalls
					req := textReq("Explain circuit breakers.")
					s, _ := m.Stream(ctx, req)
					for s.Next() {
						_ = s.Chunk().Usage.OutputTokens
					}
					_ = s.Err()
					s.Close()
					cancel()
				}
			})
		}
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(10 * time.Millisecond):
				}
				for k := range m.Knobs() {
					if _, err := m.Tune(k, 0.05-0.1*float64(i%2)); err != nil {
						t.Error(err)
					}
				}
				if i%10 == 0 {
					p := m.Params()
					p.StallRate = 0.1
					m.SetParams(p)
				}
			}
		})
		time.Sleep(time.Minute)
		close(stop)
		wg.Wait()
	})
}

func TestLexRoundTrip(t *testing.T) {
	for _, s := range []string{
		`{"category": "billing", "confidence": 0.82}`,
		"```json\n{\"category\": \"tech-support\", \"confidence\": 0.6}\n```",
		"Here is my classification:\n{\"category\": \"a b\"}",
	} {
		var b strings.Builder
		pieces := lex(s)
		for _, p := range pieces {
			b.WriteString(p.text)
		}
		if b.String() != s || len(pieces) < 5 {
			t.Errorf("lex(%q) = %d pieces joining to %q", s, len(pieces), b.String())
		}
	}
}

func TestCorpus(t *testing.T) {
	paras := 0
	for i, tp := range corpus {
		if len(tp.keywords) == 0 {
			t.Errorf("topic %d has no keywords", i)
		}
		for _, p := range tp.paragraphs {
			if len(p) < 40 {
				t.Errorf("topic %d: short paragraph %q", i, strings.Join(p, " "))
			}
		}
		paras += len(tp.paragraphs)
	}
	if len(corpus) < 10 || paras < 30 {
		t.Errorf("corpus has %d topics, %d paragraphs; want at least 10 and 30", len(corpus), paras)
	}
}

// A long prompt is read for cues from its start only: the topic of a
// prompt padded to 1 MB is that of its first words, and the call copies
// nothing of the rest.
func TestLongPromptIsSampled(t *testing.T) {
	long := "How do database indexes work? " + strings.Repeat("x", 1<<20)
	if got := sample(long); len(got) > sampleBytes || !strings.HasPrefix(long, got) {
		t.Fatalf("sample has %d bytes, want at most %d from the start", len(got), sampleBytes)
	}
	if pickTopic(sample(long)) != pickTopic("How do database indexes work?") {
		t.Errorf("the sampled prompt picks another topic")
	}
	m := New("m", Params{TTFT: time.Millisecond}, 1)
	req := providers.Request{Messages: []providers.Message{{Role: "user", Content: long}}}
	allocs := testing.AllocsPerRun(5, func() {
		s, _ := m.Stream(context.Background(), req)
		s.Close()
	})
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	for range 5 {
		s, _ := m.Stream(context.Background(), req)
		s.Close()
	}
	runtime.ReadMemStats(&ms)
	if per := (ms.TotalAlloc - before) / 5; per > 512<<10 {
		t.Errorf("a call on a 1 MB prompt allocates %d KB (%v allocs), want far less than the prompt", per>>10, allocs)
	}
}
