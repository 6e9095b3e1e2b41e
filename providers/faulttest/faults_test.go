package faulttest_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/anthropic"
	"github.com/council-dev/council/providers/gemini"
	"github.com/council-dev/council/providers/openai"
	"github.com/council-dev/council/providers/providertest"
)

// The Gemini SDK starts an opencensus worker that lives as long as the
// process.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"))
}

// The stand-ins run on real loopback sockets, not inside testing/synctest
// bubbles: the faults that only time ends (black hole, slowloris) are
// there to show that net/http's real transport ends a pending body read
// when the attempt's context is done, which an in-memory net.Pipe
// transport inside a bubble would not exercise (and httptest's loopback
// listeners do not work in a bubble). So those tests use a short real
// deadline and assert only a timeout within a generous bound; the logs
// show the real figures. Everything else the limits end, not time.
//
// The tests run one at a time (no t.Parallel) so that the memory measured
// around one hostile attempt is that attempt's.
const (
	// hostileCap is where a hostile handler stops writing by itself; a
	// client that obeys its limits hangs up long before.
	hostileCap = 64 << 20
	// shortDeadline is the attempt's deadline for the faults that only
	// time ends (black hole, slowloris).
	shortDeadline = 300 * time.Millisecond
	// longDeadline is the attempt's deadline where the limits, not time,
	// must end the attempt.
	longDeadline = 20 * time.Second
	// bound is how long any attempt may take past its deadline, generous
	// for a loaded machine under -race; the logs show the real figures.
	bound = 5 * time.Second
	// maxAlloc bounds what one hostile attempt may allocate in all,
	// client and stand-in server together: a few times the 1 MiB event
	// limit.
	maxAlloc = 16 << 20
)

// vendor is one provider under test and the dialect its stand-in speaks.
type vendor struct {
	d      providertest.Dialect
	keyEnv string
	key    string
	open   func(url, key string, hc *http.Client, lim providers.Limits) (providers.Provider, error)
}

var vendors = []vendor{
	{providertest.OpenAI, "OPENAI_API_KEY", "sk-faulttest-0123456789abcdef",
		func(url, key string, hc *http.Client, lim providers.Limits) (providers.Provider, error) {
			return openai.New(openai.Options{Settings: providers.Settings{Name: "openai", BaseURL: url + "/v1", APIKey: key, KeyEnv: "OPENAI_API_KEY", Limits: lim}, HTTPClient: hc})
		}},
	{providertest.Anthropic, "ANTHROPIC_API_KEY", "sk-ant-faulttest-0123456789abcdef",
		func(url, key string, hc *http.Client, lim providers.Limits) (providers.Provider, error) {
			return anthropic.New(anthropic.Options{Settings: providers.Settings{Name: "anthropic", BaseURL: url, APIKey: key, KeyEnv: "ANTHROPIC_API_KEY", Limits: lim}, HTTPClient: hc})
		}},
	{providertest.Gemini, "GEMINI_API_KEY", "AIzaFaultTest0123456789abcdef",
		func(url, key string, hc *http.Client, lim providers.Limits) (providers.Provider, error) {
			return gemini.New(gemini.Options{Settings: providers.Settings{Name: "gemini", BaseURL: url, APIKey: key, KeyEnv: "GEMINI_API_KEY", Limits: lim}, HTTPClient: hc})
		}},
}

// forEach runs f for each vendor as a subtest.
func forEach(t *testing.T, f func(t *testing.T, v vendor)) {
	for _, v := range vendors {
		t.Run(v.d.Name, func(t *testing.T) { f(t, v) })
	}
}

type result struct {
	text    string
	err     error
	elapsed time.Duration
}

// call makes one attempt of v against a stand-in running h, with the given
// deadline and limits, reads its stream to the end and checks that the key
// appears nowhere in the error.
func (v vendor) call(t *testing.T, h http.HandlerFunc, deadline time.Duration, lim providers.Limits) result {
	t.Helper()
	p := v.provider(t, h, lim)
	ctx, cancel := context.WithTimeout(t.Context(), deadline)
	defer cancel()
	return v.run(t, ctx, p)
}

// provider returns v's provider with lim, against a stand-in running h.
func (v vendor) provider(t *testing.T, h http.HandlerFunc, lim providers.Limits) providers.Provider {
	t.Helper()
	srv := providertest.NewServer(t, h)
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	t.Cleanup(hc.CloseIdleConnections) // before the server closes
	p, err := v.open(srv.URL, v.key, hc, lim)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run makes one attempt of p in ctx and reads its stream to the end.
func (v vendor) run(t *testing.T, ctx context.Context, p providers.Provider) result {
	t.Helper()
	start := time.Now()
	s, err := p.Stream(ctx, providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
	var text string
	if err == nil {
		text, _, err = providertest.Drain(t, s)
	}
	r := result{text: text, err: err, elapsed: time.Since(start)}
	providertest.AssertNoSecret(t, err, v.key)
	return r
}

// wantKind checks that r failed with a *providers.Error of kind.
func (v vendor) wantKind(t *testing.T, r result, kind providers.Kind) *providers.Error {
	t.Helper()
	if r.err == nil {
		t.Fatalf("no error; text %d bytes", len(r.text))
	}
	pe := providertest.AsProviderError(t, r.err, v.d.Name)
	if pe.Kind != kind {
		t.Errorf("Kind = %v, want %v (%v)", pe.Kind, kind, r.err)
	}
	return pe
}

// measure runs f and logs, and returns, what it allocated in all and the
// peak of the heap in use above where it started (sampled every 5 ms).
func measure(t *testing.T, f func()) (total, peak uint64) {
	t.Helper()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop, peakc := make(chan struct{}), make(chan uint64)
	go func() {
		var p uint64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			p = max(p, m.HeapInuse)
			select {
			case <-stop:
				peakc <- p
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(stop)
	p := <-peakc
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	total = after.TotalAlloc - before.TotalAlloc
	if p > before.HeapInuse {
		peak = p - before.HeapInuse
	}
	t.Logf("allocated %.1f MiB in all; heap in use peaked %.1f MiB above its start", mib(total), mib(peak))
	return total, peak
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

func TestRateLimited(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		r := v.call(t, providertest.ErrorStatus(v.d, 429, "slow down", map[string]string{"Retry-After": "7"}), longDeadline, providers.Limits{})
		pe := v.wantKind(t, r, providers.KindRateLimited)
		if pe.Status != 429 || pe.RetryAfter != 7*time.Second {
			t.Errorf("Status %d, RetryAfter %v; want 429, 7s (%v)", pe.Status, pe.RetryAfter, pe)
		}
	})
}

func TestServerError(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		for _, status := range []int{500, 503} {
			r := v.call(t, providertest.ErrorStatus(v.d, status, "the server fell over", nil), longDeadline, providers.Limits{})
			if pe := v.wantKind(t, r, providers.KindHTTP); pe.Status != status {
				t.Errorf("Status = %d, want %d (%v)", pe.Status, status, pe)
			}
		}
	})
}

func TestAuth(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		r := v.call(t, providertest.ErrorStatus(v.d, 401, "invalid x-api-key", nil), longDeadline, providers.Limits{})
		pe := v.wantKind(t, r, providers.KindAuth)
		if !strings.Contains(pe.Error(), v.keyEnv) {
			t.Errorf("the error does not name %s: %v", v.keyEnv, pe)
		}
	})
}

// TestKeyEcho: servers echo the key they were sent; it must not reach the
// error, whatever the status.
func TestKeyEcho(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		for _, status := range []int{400, 401, 500} {
			msg := "Incorrect API key provided: " + v.key + ". You passed " + v.key
			r := v.call(t, providertest.ErrorStatus(v.d, status, msg, nil), longDeadline, providers.Limits{})
			if r.err == nil {
				t.Fatalf("HTTP %d: no error", status)
			}
			t.Logf("HTTP %d: %v", status, r.err)
		}
		msg := "Incorrect API key provided: " + v.key
		r := v.call(t, providertest.ErrorMidStream(v.d, msg), longDeadline, providers.Limits{})
		v.wantKind(t, r, providers.KindHTTP)
		t.Logf("mid-stream: %v", r.err)
	})
}

func TestResetMidStream(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		r := v.call(t, providertest.ResetMidStream(v.d), longDeadline, providers.Limits{})
		v.wantKind(t, r, providers.KindError)
		t.Logf("%v", r.err)
	})
}

func TestCutStream(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		r := v.call(t, providertest.Deltas(v.d, 3, "cut ", false), longDeadline, providers.Limits{})
		v.wantKind(t, r, providers.KindInvalid)
		if r.text != "cut cut cut " {
			t.Errorf("text = %q before the cut", r.text)
		}
	})
}

// timedOut checks that r ended with its deadline: a timeout, soon after.
func (v vendor) timedOut(t *testing.T, r result, deadline time.Duration) {
	t.Helper()
	t.Logf("ended after %v (deadline %v): %v", r.elapsed.Round(time.Millisecond), deadline, r.err)
	if providers.KindOf(r.err) != providers.KindTimeout || !errors.Is(r.err, context.DeadlineExceeded) {
		t.Errorf("err = %v (kind %v), want a timeout", r.err, providers.KindOf(r.err))
	}
	if r.elapsed > deadline+bound {
		t.Errorf("ended %v after the start; the deadline was %v", r.elapsed, deadline)
	}
}

func TestBlackHole(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		v.timedOut(t, v.call(t, providertest.BlackHole(), shortDeadline, providers.Limits{}), shortDeadline)
	})
}

// TestSlowloris: one byte every 100 ms forever, in a stream and in an
// error body; only the deadline ends it.
func TestSlowloris(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		for _, status := range []int{200, 500} {
			var sent providertest.Sent
			r := v.call(t, providertest.Slowloris(status, 100*time.Millisecond, &sent), shortDeadline, providers.Limits{})
			v.timedOut(t, r, shortDeadline)
		}
	})
}

// TestSlowlorisCancel: a cancelled attempt ends as promptly as one past
// its deadline, with the caller's cause, in a stream and in an error body.
func TestSlowlorisCancel(t *testing.T) {
	errStop := errors.New("the engine stopped the attempt")
	forEach(t, func(t *testing.T, v vendor) {
		for _, status := range []int{200, 500} {
			var sent providertest.Sent
			p := v.provider(t, providertest.Slowloris(status, 100*time.Millisecond, &sent), providers.Limits{})
			ctx, cancel := context.WithCancelCause(t.Context())
			stop := time.AfterFunc(shortDeadline, func() { cancel(errStop) })
			r := v.run(t, ctx, p)
			stop.Stop()
			cancel(nil)
			t.Logf("HTTP %d: ended after %v: %v", status, r.elapsed.Round(time.Millisecond), r.err)
			if !errors.Is(r.err, errStop) {
				t.Errorf("HTTP %d: err = %v, want the cancellation's cause", status, r.err)
			}
			if r.elapsed > shortDeadline+bound {
				t.Errorf("HTTP %d: ended %v after the start; cancelled after %v", status, r.elapsed, shortDeadline)
			}
		}
	})
}

// TestEndlessLine: a data line that never ends must fail invalid at the
// event limit, long before the hostile server's cap.
func TestEndlessLine(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		var sent providertest.Sent
		var r result
		total, _ := measure(t, func() {
			r = v.call(t, providertest.Endless(200, string(v.d.Start)+"data: ", "a", hostileCap, &sent), longDeadline, providers.Limits{})
		})
		v.wantLimit(t, r, &sent, total)
	})
}

// TestEndlessEvent: data lines that never make an event (no blank line)
// are one endless event.
func TestEndlessEvent(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		var sent providertest.Sent
		var r result
		total, _ := measure(t, func() {
			r = v.call(t, providertest.Endless(200, string(v.d.Start), "data: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n", hostileCap, &sent), longDeadline, providers.Limits{})
		})
		v.wantLimit(t, r, &sent, total)
	})
}

// TestEventLimitSetting: the limit is the one given, and named.
func TestEventLimitSetting(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		var sent providertest.Sent
		r := v.call(t, providertest.Endless(200, string(v.d.Start)+"data: ", "a", hostileCap, &sent), longDeadline, providers.Limits{MaxEventBytes: 4096})
		pe := v.wantKind(t, r, providers.KindInvalid)
		if !strings.Contains(pe.Message, "event larger than limits.max_event_bytes (4096 bytes)") || !errors.Is(pe, providers.ErrEventTooLarge) {
			t.Errorf("err = %v, want it to name the 4096-byte limit", pe)
		}
	})
}

func (v vendor) wantLimit(t *testing.T, r result, sent *providertest.Sent, total uint64) {
	t.Helper()
	t.Logf("ended after %v, %.1f MiB sent: %v", r.elapsed.Round(time.Millisecond), mib(uint64(sent.Bytes())), r.err)
	pe := v.wantKind(t, r, providers.KindInvalid)
	want := "event larger than limits.max_event_bytes (1048576 bytes)"
	if !strings.Contains(pe.Message, want) || !errors.Is(pe, providers.ErrEventTooLarge) {
		t.Errorf("Message = %q, want it to say %q", pe.Message, want)
	}
	if total > maxAlloc {
		t.Errorf("allocated %.1f MiB for a 1 MiB event limit", mib(total))
	}
	if sent.Bytes() >= hostileCap {
		t.Errorf("the client read the whole %d MiB the server could send", hostileCap>>20)
	}
}

// TestEndlessErrorBody: an error body that never ends is cut at the limit,
// and the status still classifies the failure.
func TestEndlessErrorBody(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		var sent providertest.Sent
		var r result
		total, _ := measure(t, func() {
			r = v.call(t, providertest.Endless(500, `{"error": {"message": "`, "a", hostileCap, &sent), 6*time.Second, providers.Limits{})
		})
		t.Logf("ended after %v, %.1f MiB sent: %.200v", r.elapsed.Round(time.Millisecond), mib(uint64(sent.Bytes())), r.err)
		if pe := v.wantKind(t, r, providers.KindHTTP); pe.Status != 500 {
			t.Errorf("Status = %d, want 500", pe.Status)
		}
		if total > maxAlloc {
			t.Errorf("allocated %.1f MiB for a 64 KiB error body limit", mib(total))
		}
		if sent.Bytes() >= hostileCap {
			t.Errorf("the client read the whole %d MiB the server could send", hostileCap>>20)
		}
	})
}

// TestFlood: many valid deltas, far more bytes than one event may hold,
// are just streamed: the limit is per event, the engine bounds the answer.
func TestFlood(t *testing.T) {
	const n = 20000 // 2-3 MB on the wire: the limit is per event, not per stream
	forEach(t, func(t *testing.T, v vendor) {
		r := v.call(t, providertest.Deltas(v.d, n, "flood ", true), longDeadline, providers.Limits{})
		if r.err != nil {
			t.Fatal(r.err)
		}
		if want := strings.Repeat("flood ", n); r.text != want {
			t.Errorf("got %d bytes of text, want %d", len(r.text), len(want))
		}
		t.Logf("%d deltas in %v", n, r.elapsed.Round(time.Millisecond))
	})
}

// TestKeyAtTheCut: a key the error body echoes right where the body is cut
// must not survive in part, past the redaction of whole keys.
func TestKeyAtTheCut(t *testing.T) {
	forEach(t, func(t *testing.T, v vendor) {
		prefix := `{"error": {"message": "`
		filler := strings.Repeat("x", providers.DefaultMaxErrorBodyBytes-len(prefix)-len(v.key)/2-1) + " "
		body := prefix + filler + v.key + `"}}`
		r := v.call(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(body))
		}, longDeadline, providers.Limits{})
		v.wantKind(t, r, providers.KindAuth)
		half := v.key[:len(v.key)/2]
		for e := r.err; e != nil; e = errors.Unwrap(e) {
			if strings.Contains(e.Error(), half) {
				t.Errorf("half the key (%d bytes) appears in %T: …%s", len(half), e, e.Error()[max(0, strings.Index(e.Error(), half)-20):])
			}
		}
	})
}
