package watchtest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestServeLoopback serves the demo council's sessions on a loopback
// address, for trying `council watch` by hand; it runs only when asked:
//
//	COUNCIL_WATCH_SERVE=127.0.0.1:8484 go test -run TestServeLoopback -timeout 0 ./engine/watch/watchtest
//
// A session of each strategy in turn starts every COUNCIL_WATCH_EVERY
// (default 2s) until COUNCIL_WATCH_FOR (default 10m) has passed or the
// test is interrupted (SIGINT or SIGTERM). COUNCIL_ADMIN_TOKEN enables
// the admin endpoints, COUNCIL_TOKEN requires a client token; with port 0
// the address taken is written to COUNCIL_WATCH_ADDR_FILE.
func TestServeLoopback(t *testing.T) {
	addr := os.Getenv("COUNCIL_WATCH_SERVE")
	if addr == "" {
		t.Skip("set COUNCIL_WATCH_SERVE=127.0.0.1:PORT to serve the demo council's sessions there")
	}
	every, forD := envDur("COUNCIL_WATCH_EVERY", 2*time.Second), envDur("COUNCIL_WATCH_FOR", 10*time.Minute)
	cfg := config.Demo()
	clients := map[string]providers.Provider{}
	for _, m := range cfg.Models {
		s := m.Sim
		clients[m.ID] = sim.New(m.ID, sim.Params{TTFT: s.TTFT.Duration, TTFTP95: s.TTFTP95.Duration, TokensPerSec: s.TokensPerSec,
			OutputTokens: s.OutputTokens, ErrorRate: s.ErrorRate, StallRate: s.StallRate, CutRate: s.CutRate,
			SlowRate: s.SlowRate, SlowFactor: s.SlowFactor, Answers: s.Answers}, time.Now().UnixNano())
	}
	eng, err := engine.New(cfg, clients)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String() // the port, when asked for :0
	if f := os.Getenv("COUNCIL_WATCH_ADDR_FILE"); f != "" {
		if err := os.WriteFile(f, []byte(addr+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	srv := NewServer(eng, addr)
	srv.Token, srv.AdminToken = os.Getenv("COUNCIL_TOKEN"), os.Getenv("COUNCIL_ADMIN_TOKEN")
	hs := &http.Server{Handler: srv}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, forD)
	defer cancel()
	t.Logf("serving on http://%s", addr)
	prompts := []struct {
		s config.Strategy
		p string
	}{
		{config.Race, "How do database indexes work?"},
		{config.Hedge, "What makes a good sourdough starter?"},
		{config.Consensus, "I was charged twice for my subscription this month"},
		{config.Race, "Why do circuit breakers make distributed systems more reliable?"},
		{config.Council, "How do database indexes work?"},
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := 0; ; i++ {
		p := prompts[i%len(prompts)]
		if err := srv.Run(ctx, engine.SessionRequest{Prompt: p.p, Strategy: p.s}); err != nil {
			t.Logf("session: %v", err)
		}
		select {
		case <-ctx.Done():
			srv.Drop()
			srv.Wait()
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			hs.Shutdown(sctx)
			c()
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				t.Error(err)
			}
			return
		case <-tick.C:
		}
	}
}

func envDur(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}
