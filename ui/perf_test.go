package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
)

// eightModels is a fake backend with eight simulated models in one tier.
func eightModels() (*fakeBackend, []string) {
	f := newFake()
	ids := make([]string, 8)
	f.health = nil
	for i := range ids {
		ids[i] = fmt.Sprintf("sim/model-%d", i+1)
		f.health = append(f.health, engine.ModelHealth{ID: ids[i], Breaker: engine.BreakerSnapshot{Requests: 10, FailureRate: 0.1},
			Latency: engine.LatencySnapshot{Count: 10, Total: engine.Quantiles{P50: time.Second, P99: 3 * time.Second}},
			Recent:  []engine.Outcome{1, 1, 2, 1, 3, 1, 1, 1, 2, 1}})
	}
	f.cfg.Tiers["quick"] = config.TierConfig{Models: ids, PerModelTimeout: config.Duration{Duration: 20 * time.Second}}
	return f, ids
}

// BenchmarkFrame8 is one full frame with eight panes streaming long
// answers at 200×50, in colour: before each frame every pane gets a new
// delta, as it would while eight models stream.
func BenchmarkFrame8(b *testing.B) {
	f, ids := eightModels()
	th, _ := themes.Load("dark")
	m := New(f, Options{Theme: th, Clock: func() time.Time { return fixedClock }, Prompt: "bench"})
	m.Update(teaSize(200, 50))
	m.Update(healthMsg{health: f.Health(), at: fixedClock})
	m.running, m.startWall = true, fixedClock.Add(-2*time.Second)
	words := strings.Repeat("the quick brown fox jumps over the lazy dog while tokens stream in ", 30)
	for i, id := range ids {
		m.apply(engine.Event{Type: engine.AttemptStarted, Model: id, Role: engine.RoleRacer, T: ms(i)})
		m.apply(engine.Event{Type: engine.FirstToken, Model: id, T: ms(100 + 50*i)})
		m.apply(engine.Event{Type: engine.Delta, Model: id, T: ms(1500), Text: words[:1000+100*i]})
	}
	b.ReportAllocs()
	t := ms(1500)
	for b.Loop() {
		t += ms(16)
		for _, id := range ids {
			m.apply(engine.Event{Type: engine.Delta, Model: id, T: t, Text: " more"})
		}
		m.ctx.Frame++
		_ = m.View()
	}
}

// TestViewRateUnderLoad streams 8 models × 100 tokens/s for 2 s on the
// virtual clock and counts frames: the batching read must keep View at or
// under twice the 60 fps frame rate, however many deltas arrive.
func TestViewRateUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f, ids := eightModels()
		const perModel, every = 200, 10 * time.Millisecond // 100 tokens/s for 2 s
		fb := &streamingBackend{fakeBackend: f, ids: ids, perModel: perModel, every: every}
		m := New(fb, Options{Theme: themes.NoColor(), Prompt: "load"})
		m.Update(teaSize(200, 50))
		l := newLoop(t, m)
		defer func() {
			l.close()
			time.Sleep(time.Second) // let pending ticks fire and exit
			synctest.Wait()
		}()
		t0 := time.Now()
		l.views = 0
		l.send(keyMsg("r"))
		l.until(func() bool { return m.sessionN == 1 && !m.running })
		elapsed := time.Since(t0)
		deltas := 8 * perModel
		rate := float64(l.views) / elapsed.Seconds()
		t.Logf("%d deltas over %s (virtual): %d View calls, %.0f per second", deltas, elapsed, l.views, rate)
		if rate > 120 {
			t.Errorf("View ran %.0f times a second, want at most 120 (2× 60 fps)", rate)
		}
		if got := m.byID[ids[7]].a.textRunes; got != perModel*4 {
			t.Errorf("last pane got %d runes, want %d: deltas lost", got, perModel*4)
		}
	})
}

// streamingBackend emits, for each model, a delta every `every` from its
// own goroutine, as the engine would, then ends the session.
type streamingBackend struct {
	*fakeBackend
	ids      []string
	perModel int
	every    time.Duration
}

func (s *streamingBackend) Start(_ context.Context, req engine.SessionRequest) (<-chan engine.Event, error) {
	out := make(chan engine.Event, 256)
	go func() {
		defer close(out)
		t0 := time.Now()
		out <- engine.Event{Type: engine.SessionStarted}
		done := make(chan struct{})
		for _, id := range s.ids {
			go func() {
				defer func() { done <- struct{}{} }()
				out <- engine.Event{Type: engine.AttemptStarted, Model: id, Role: engine.RoleRacer, T: time.Since(t0)}
				for i := 0; i < s.perModel; i++ {
					time.Sleep(s.every)
					out <- engine.Event{Type: engine.Delta, Model: id, T: time.Since(t0), Text: "tok "}
				}
			}()
		}
		for range s.ids {
			<-done
		}
		out <- engine.Event{Type: engine.SessionDone, T: time.Since(t0), Summary: &engine.Summary{Status: engine.StatusDecided, Elapsed: time.Since(t0)}}
	}()
	return out, nil
}
