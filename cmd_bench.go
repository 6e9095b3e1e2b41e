package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/progress"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/bench"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

var benchUsage = withStrategies(`usage: council bench [flags] [PROMPT]

Runs many sessions of a strategy and measures them: per strategy and per
model, sessions, successes, p50/p95/p99 latency, time to first token,
extra requests (hedges fired, stragglers cancelled), tokens, cost and
what cancelled attempts burnt, breaker trips; for consensus, accuracy
against the simulated voters' right answer and the votes needed to decide.
With only simulated models it runs on a virtual clock: thousands of
sessions of seconds-long latencies take seconds, and the same seed gives
the same numbers. Real models: it prints the estimated cost and asks first.

flags:
  --strategy NAME     STRATEGIES_COMMA, or single (the first model alone)
                      (default: the config's default_strategy)
  --compare a,b,c     these strategies side by side on the same seeded workload
  --sweep-concurrency A..B
                      the strategy at each max_concurrency from A to B, with
                      that many sessions in flight: throughput and p99, and
                      the ceiling where throughput stops rising
  --sessions N        sessions per strategy (per concurrency in a sweep)
                      (default: 1000 simulated, 20 with real models)
  --parallel N        sessions in flight at once (default 1; a sweep sets it)
  --tier NAME, --models a,b,c, --config FILE
                      as in council run
  --seed N            seed for the simulated models (default 1)
  --system TEXT, --system-file FILE, --max-tokens N, --temperature T
                      how every model is asked, as in council run
  --max-cost USD      each session's spending cap, as in council run
  --json              the report as one JSON object on stdout
  --csv               the report as CSV on stdout
  --yes               real models: do not ask before spending money
  --real-clock        run simulated models in real time (to check the
                      virtual clock against it)

examples:
  council bench --strategy hedge --sessions 2000
  council bench --compare single,hedge,race --json
  council bench --strategy race --sweep-concurrency 1..16

Exit status: 0 done, 1 the output could not be written or a model could
not be set up, 2 usage or configuration error, 130 stopped (the partial
report is printed first).
`)

// benchDefaultSessions is how many sessions a strategy runs when
// --sessions is not given: many with simulated models, which cost nothing
// and run on the virtual clock, few with real ones.
const (
	benchDefaultSessions     = 1000
	benchDefaultRealSessions = 20
)

func (c *cli) bench(args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	sf := addSessionFlags(fs, 1, false)
	var (
		strategy = fs.String("strategy", "", "strategy to measure")
		compare  = fs.String("compare", "", "strategies side by side")
		sweep    = fs.String("sweep-concurrency", "", "A..B")
		sessions = fs.Int("sessions", 0, "sessions per strategy")
		parallel = fs.Int("parallel", 1, "sessions in flight")
		asJSON   = fs.Bool("json", false, "JSON report")
		asCSV    = fs.Bool("csv", false, "CSV report")
		yes      = fs.Bool("yes", false, "do not ask before spending money")
		realTime = fs.Bool("real-clock", false, "simulated models in real time")
	)
	pos, code, ok := c.parseFlags(fs, args, benchUsage)
	if !ok {
		return code
	}
	switch {
	case *asJSON && *asCSV:
		return c.usage("give --json or --csv, not both")
	case *strategy != "" && *compare != "":
		return c.usage("give --strategy or --compare, not both")
	case *compare != "" && *sweep != "":
		return c.usage("--sweep-concurrency measures one strategy: give --strategy, not --compare")
	case *sessions < 0:
		return c.usage("--sessions must be at least 1")
	case *parallel < 1:
		return c.usage("--parallel must be at least 1")
	}
	req, msg := sf.request()
	if msg != "" {
		return c.usage(msg)
	}
	w := &bench.Workload{Tier: req.Tier, Models: req.Models, Settings: req.Settings, MaxCostUSD: req.MaxCostUSD,
		Seed: sf.seed, Parallel: *parallel, Real: *realTime, Prompt: strings.TrimSpace(strings.Join(pos, " "))}
	lo, hi := 0, 0
	if *sweep != "" {
		var err error
		if lo, hi, err = parseRange(*sweep); err != nil {
			return c.usage("--sweep-concurrency: " + err.Error())
		}
	}
	strategies, msg := benchStrategies(*strategy, *compare)
	if msg != "" {
		return c.usage(msg)
	}
	if code, ok := c.benchSetup(w, sf.config, &strategies, *sessions); !ok {
		return code
	}
	if !w.Simulated() {
		if code, ok := c.benchConfirm(w, strategies, lo, hi, *yes); !ok {
			return code
		}
	}
	rep, err := c.benchRun(w, strategies, lo, hi)
	if err != nil {
		c.errorf("bench: %v", err)
		return exitFailed
	}
	return c.benchReport(rep, *asJSON, *asCSV)
}

// benchStrategies are the strategies --strategy or --compare name, or what
// is wrong with them; none means the config's default.
func benchStrategies(strategy, compare string) ([]string, string) {
	var strategies []string
	if compare != "" {
		for _, s := range strings.Split(compare, ",") {
			if s = strings.TrimSpace(s); s != "" {
				strategies = append(strategies, s)
			}
		}
	} else if strategy != "" {
		strategies = []string{strategy}
	}
	for _, s := range strategies {
		if s == bench.Single {
			continue
		}
		st, err := engine.ParseStrategy(s)
		if err != nil {
			return nil, err.Error() + " (or single)"
		}
		if info, _ := engine.LookupStrategy(st); !info.PromptAlone {
			return nil, "bench cannot measure strategy " + s + ": it needs a document"
		}
	}
	return strategies, ""
}

// benchSetup loads the config into w, checks the tier and models against
// it, and sets what the config decides: the default strategy, the clients,
// the number of sessions. ok is false with the exit code when it fails.
func (c *cli) benchSetup(w *bench.Workload, path string, strategies *[]string, sessions int) (int, bool) {
	cfg, ok := c.loadConfig(path)
	if !ok {
		return exitUsage, false
	}
	w.Config = cfg
	if len(*strategies) == 0 {
		*strategies = []string{string(cfg.DefaultStrategy)}
	}
	if msg := checkChoices(cfg, w.Tier, w.Models); msg != "" {
		return c.usage(msg), false
	}
	w.Clients = func(cfg *config.Config, seed int64) (map[string]providers.Provider, error) {
		return buildClients(c.ctx, cfg, seed)
	}
	w.Sessions = sessions
	if w.Sessions == 0 {
		w.Sessions = benchDefaultSessions
		if !w.Simulated() {
			w.Sessions = benchDefaultRealSessions
		}
	}
	return 0, true
}

// benchConfirm estimates what a bench of real models may cost and asks
// before spending it (confirmSpend).
func (c *cli) benchConfirm(w *bench.Workload, strategies []string, lo, hi int, yes bool) (int, bool) {
	batches := 1
	if hi > 0 {
		batches = hi - lo + 1
	}
	est, err := bench.Estimate(w, strategies, batches)
	if err != nil {
		return c.usage(err.Error()), false
	}
	return c.confirmSpend(est, yes)
}

// benchRun runs the bench (a sweep when hi > 0) with its progress shown.
func (c *cli) benchRun(w *bench.Workload, strategies []string, lo, hi int) (*bench.Report, error) {
	prog := c.newBenchProgress()
	defer prog.clear()
	w.Progress = prog.update
	if hi > 0 {
		return bench.RunSweep(c.ctx, w, strategies[0], lo, hi)
	}
	return bench.Run(c.ctx, w, strategies)
}

// benchReport writes the report as asked and returns the exit status.
func (c *cli) benchReport(rep *bench.Report, asJSON, asCSV bool) int {
	if c.ctx.Err() != nil {
		rep.Partial = true
	}
	out := bufio.NewWriter(c.stdout)
	var err error
	switch {
	case asJSON:
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	case asCSV:
		err = rep.WriteCSV(out)
	default:
		err = rep.WriteText(out, c.termWidth())
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if rep.Stopped != "" {
		c.errorf("bench stopped: %s", rep.Stopped)
	}
	if rep.Partial {
		c.errorf("bench stopped: the report is partial (the sessions that ended)")
	}
	if err != nil {
		return c.written(err)
	}
	if rep.Stopped != "" && c.ctx.Err() == nil {
		return exitFailed
	}
	if c.ctx.Err() != nil {
		return exitCancelled
	}
	return exitOK
}

// parseRange reads "A..B" (or one number).
func parseRange(s string) (lo, hi int, err error) {
	a, b, found := strings.Cut(s, "..")
	if !found {
		b = a
	}
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if err1 != nil || err2 != nil || lo < 1 || hi < lo || hi > 1024 {
		return 0, 0, fmt.Errorf("%q: want A..B with 1 <= A <= B <= 1024, e.g. 1..16", s)
	}
	return lo, hi, nil
}

// confirmSpend shows what the bench may cost and asks on stdin, unless
// --yes. ok is false when the bench must not run.
func (c *cli) confirmSpend(est float64, yes bool) (int, bool) {
	fmt.Fprintf(c.stderr, "council: this bench calls real models and may cost up to $%.4f (at the config's prices, every session at its worst)\n", est)
	if yes {
		return 0, true
	}
	fmt.Fprint(c.stderr, "council: go ahead? [y/N] ")
	type answer struct {
		line string
		err  error
	}
	got := make(chan answer, 1)
	go func() { // a read from a terminal cannot be interrupted: left behind on ctrl+c
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		got <- answer{line, err}
	}()
	select {
	case <-c.ctx.Done():
		fmt.Fprintln(c.stderr)
		return exitCancelled, false
	case a := <-got:
		switch strings.ToLower(strings.TrimSpace(a.line)) {
		case "y", "yes":
			return 0, true
		}
		if a.err != nil && !errors.Is(a.err, io.EOF) {
			c.errorf("reading the answer: %v", a.err)
		}
		c.errorf("bench not run: not confirmed (--yes skips the question)")
		return exitUsage, false
	}
}

// termWidth is $COLUMNS when set, else stdout's width when it is a
// terminal, else 100.
func (c *cli) termWidth() int {
	if n, err := strconv.Atoi(c.getenv("COLUMNS")); err == nil && n > 20 {
		return n
	}
	if f, ok := c.stdout.(*os.File); ok && term.IsTerminal(f.Fd()) {
		if w, _, err := term.GetSize(f.Fd()); err == nil && w > 20 {
			return w
		}
	}
	return 100
}

// benchProgress shows how far the bench is: a progress bar on stdout when
// it is a terminal, else a line on stderr every tenth of the way.
type benchProgress struct {
	c     *cli
	bar   *progress.Model
	tty   io.Writer
	width int // the bar's line is cut to it
	last  int // tenths reported (plain text)
}

func (c *cli) newBenchProgress() *benchProgress {
	p := &benchProgress{c: c, last: -1, width: c.termWidth()}
	if f, ok := c.stdout.(*os.File); ok && term.IsTerminal(f.Fd()) {
		b := progress.New(progress.WithWidth(min(40, p.width/3)))
		p.bar, p.tty = &b, f
	}
	return p
}

// update shows done of the whole bench's total sessions, and the batch
// running.
func (p *benchProgress) update(batch string, done, total int) {
	frac := float64(done) / float64(max(total, 1))
	if p.bar != nil {
		view := p.bar.ViewAs(frac)
		if p.c.getenv("NO_COLOR") != "" {
			view = ansi.Strip(view)
		}
		// Within the width: a line that wraps cannot be redrawn with \r.
		line := ansi.Truncate(fmt.Sprintf("%s %s: %d/%d sessions", view, providers.SafeText(batch), done, total), p.width-1, "…")
		fmt.Fprintf(p.tty, "\r%s\x1b[K", line)
		return
	}
	if tenth := done * 10 / max(total, 1); tenth > p.last {
		p.last = tenth
		fmt.Fprintf(p.c.stderr, "council: bench %s: %d/%d sessions\n", providers.SafeText(batch), done, total)
	}
}

// clear removes the bar before the report is written.
func (p *benchProgress) clear() {
	if p.bar != nil {
		fmt.Fprint(p.tty, "\r\x1b[K")
	}
}
