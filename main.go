// Command council is a terminal dashboard for live multi-model LLM sessions:
// one prompt goes to several models at once under a strategy (race, hedge,
// consensus, council, or auto to let a router pick), with per-model circuit
// breakers, and every stream, latency, breaker and vote is shown as it
// happens. `council run` does the same headless, for scripts.
//
// This file parses flags, loads the config and wires the pieces; the logic
// lives in engine, providers and ui.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/charmbracelet/x/term"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/themes"
	"github.com/council-dev/council/ui"
)

// version is the program's version, set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit statuses.
const (
	exitOK        = 0   // decided or degraded
	exitFailed    = 1   // the session failed, or the output could not be written
	exitUsage     = 2   // usage or configuration error
	exitCancelled = 130 // cancelled by the user or a signal (128 + SIGINT)
)

func main() {
	ctx, stop := signalContext()
	code := realMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// signalContext returns a context cancelled by the first SIGINT or
// SIGTERM, so that either ends the session the same way: cancelled,
// summarised, the buffered output written, exit 130. After the first
// signal the default handling is back: a second one kills the process.
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sig:
			cancel()
		case <-done:
		}
		signal.Stop(sig)
	}()
	return ctx, func() { close(done); cancel() }
}

// cli is what one invocation reads and writes.
type cli struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
}

func realMain(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	c := &cli{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	if len(args) > 0 {
		switch args[0] {
		case "run":
			return c.run(args[1:])
		case "config":
			if len(args) > 1 && args[1] == "check" {
				return c.configCheck(args[2:])
			}
			return c.usage("unknown command: council config needs check (see council config check --help)")
		case "version", "--version", "-version":
			_, err := fmt.Fprintf(stdout, "council %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return c.written(err)
		case "replay":
			return c.replay(args[1:])
		case "serve":
			return c.serve(args[1:])
		case "watch":
			return c.watch(args[1:])
		case "bench":
			return c.bench(args[1:])
		case "help", "-h", "--help":
			_, err := fmt.Fprint(stdout, usageText)
			return c.written(err)
		}
	}
	return c.dashboard(args)
}

var usageText = withStrategies(`council: one prompt, several models, live.

usage:
  council [flags]                       the dashboard (needs a terminal)
      --strategy STRATEGIES  --tier NAME  --models a,b,c
      --theme dark|light|high-contrast|none  --no-mouse  --seed N  --config FILE
      --input FILE (a document: m cycles to section)  --record DIR (a log per session)
      --system TEXT|--system-file FILE  --max-tokens N  --temperature T  --max-cost USD
  council run [flags] [PROMPT]          one headless session (PROMPT, else stdin)
      --strategy STRATEGIES  --tier NAME  --models a,b,c
      --strategy STRATEGIES_DOC --input FILE|-  (PROMPT is the instruction for every section)
      --json  --events  --repeat N  --seed N  --config FILE  --record FILE
      --system TEXT|--system-file FILE  --max-tokens N  --temperature T  --max-cost USD
      --continue FILE  (a follow-up to the conversation recorded in FILE)
  council replay [--json|--markdown|--speed N|--step] FILE   play a recorded log back
  council watch [--token T] [--admin-token T] URL [URL...]   the dashboard on running servers' sessions
  council bench [flags]                 many sessions measured: percentiles, extra requests, cost
      --strategy NAME|--compare a,b,c  --sweep-concurrency A..B  --sessions N  --seed N
      --json  --csv  --yes (real models: no question before spending)
  council config check [--config FILE]  validate; print the resolved setup, keys redacted
  council serve [--addr 127.0.0.1:8484] [--config FILE]   the strategies behind an
      OpenAI-compatible API (model council/race, ...), with a live event stream
  council version
  council COMMAND --help                a command's flags and examples

examples:
  council                                   the dashboard on your config, or the demo council
  council --strategy consensus --tier quick the dashboard, set up for a vote
  council run "How do database indexes work?"
  echo "I was charged twice" | council run --strategy consensus --json

Config: --config, then $COUNCIL_CONFIG, then $XDG_CONFIG_HOME/council/council.toml,
else the default council (your API keys) or the built-in demo council of simulated models.
Exit status: 0 decided (or degraded), 1 the session failed or the output could
not be written, 2 usage or configuration error, 130 cancelled (ctrl+c, SIGINT
or SIGTERM).
`)

var runUsage = withStrategies(`usage: council run [flags] [PROMPT]

One headless session: the answer on stdout, a one-line summary on stderr.
PROMPT is the rest of the command line (flags may come before or after it);
without one the prompt is read from stdin (from a terminal, end it with ctrl+d).

flags:
  --strategy NAME  STRATEGIES_OR (default: the config's default_strategy)
  --tier NAME      a tier of the config (default: its default_tier)
  --models a,b,c   these models instead of the tier's
  --json           one summary object per session on stdout, one line each
  --events         every event as one JSON object per line on stdout
  --repeat N       N sessions in one process, sharing breakers and statistics;
                   the totals go to stderr at the end
  --seed N         seed for simulated models (default: random)
  --config FILE    the config (default: $COUNCIL_CONFIG, then
                   $XDG_CONFIG_HOME/council/council.toml, else the built-in council)
  --input FILE     the document of --strategy section (- reads stdin)
  --record FILE    append every session to this log (council replay plays it)
  --system TEXT, --system-file FILE
                   a system prompt for every model (over the config's)
  --max-tokens N, --temperature T
                   how every model is asked (a model that refuses one drops it, noted)
  --max-cost USD   this session's spending cap: over it, the session does not start
  --continue FILE  a follow-up: continue the conversation recorded in FILE (by
                   --record FILE), each model shown its own earlier answers
                   (follow_up = "winner" in the config: the final answers);
                   with --record FILE the new turn is appended to the log

strategies:
STRATEGY_LINES

examples:
  council run "How do database indexes work?"
  echo "I was charged twice" | council run --strategy consensus --json
  council run --strategy hedge --models sim/swift,sim/steady "Summarise RFC 9110"
  council run --repeat 50 --json "ping" > sessions.jsonl

Exit status: 0 decided (or degraded), 1 failed or the output could not be
written, 2 usage or configuration error, 130 cancelled (ctrl+c, SIGINT, SIGTERM).
`)

const configCheckUsage = `usage: council config check [--config FILE]

Loads the config, validates it and prints the resolved setup (strategy,
tiers, providers, models and prices) with API keys redacted; warnings go to
stderr. Exit 0 when it loads, 2 when it does not.

flags:
  --config FILE  the config (default: $COUNCIL_CONFIG, then
                 $XDG_CONFIG_HOME/council/council.toml, else the built-in council)

examples:
  council config check
  council config check --config ./council.toml
`

// parseFlags parses a command's flags: --help prints its usage on stdout
// (exit 0); a bad flag is named, with the usage on stderr (exit 2). ok is
// false when the command should exit with code.
func (c *cli) parseFlags(fs *flag.FlagSet, args []string, usage string) (pos []string, code int, ok bool) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	pos, err := parseInterleaved(fs, args)
	switch {
	case err == nil:
		return pos, 0, true
	case errors.Is(err, flag.ErrHelp):
		_, werr := fmt.Fprint(c.stdout, usage)
		return nil, c.written(werr), false
	}
	// The flag package names flags with one dash; the usage uses two.
	msg := strings.Replace(err.Error(), ": -", ": --", 1)
	c.errorf("%s", msg)
	fmt.Fprint(c.stderr, "\n"+usage)
	return nil, exitUsage, false
}

func (c *cli) usage(msg string) int {
	c.errorf("%s", msg)
	return exitUsage
}

// written is the exit status after writing the output: 0, or 1 with the
// error reported when stdout failed.
func (c *cli) written(err error) int {
	if err != nil {
		c.errorf("writing the output: %v", err)
		return exitFailed
	}
	return exitOK
}

// errorf writes "council: message" on stderr, with terminal escapes
// removed (an error may quote a server, a model or a config file).
func (c *cli) errorf(format string, args ...any) {
	fmt.Fprintln(c.stderr, "council:", providers.SafeText(fmt.Sprintf(format, args...)))
}

// parseInterleaved parses flags that may come before or after positional
// arguments ("council run 'prompt' --json").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// loadConfig resolves the config and prints its warnings.
func (c *cli) loadConfig(path string) (*config.Config, bool) {
	cfg, err := config.Find(path, c.getenv)
	if err == nil && cfg.Theme != "" {
		// The engine cannot know the themes; the dashboard's key is checked here.
		if _, terr := themes.Load(cfg.Theme); terr != nil {
			err = cfg.Errorf("theme", "%s", themeError(cfg.Theme))
		}
	}
	if err != nil {
		c.errorf("%v", err)
		return nil, false
	}
	for _, w := range cfg.Warnings() {
		c.errorf("warning: %s", w)
	}
	return cfg, true
}

// setup loads the config and builds the engine over its providers; a zero
// seed picks a random one. It reports problems itself.
func (c *cli) setup(path string, seed int64, extra ...func(*config.Config) ([]engine.Option, error)) (*config.Config, *engine.Engine, bool) {
	cfg, ok := c.loadConfig(path)
	if !ok {
		return nil, nil, false
	}
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	opts := []engine.Option{engine.WithSeed(seed)}
	for _, f := range extra {
		more, err := f(cfg)
		if err != nil {
			c.errorf("%v", err)
			return nil, nil, false
		}
		opts = append(opts, more...)
	}
	clients, err := buildClients(c.ctx, cfg, seed)
	if err == nil {
		var eng *engine.Engine
		if eng, err = engine.New(cfg, clients, opts...); err == nil {
			return cfg, eng, true
		}
	}
	c.errorf("%v", err)
	return nil, nil, false
}

func (c *cli) configCheck(args []string) int {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	path := fs.String("config", "", "config file")
	if _, code, ok := c.parseFlags(fs, args, configCheckUsage); !ok {
		return code
	}
	cfg, ok := c.loadConfig(*path)
	if !ok {
		return exitUsage
	}
	problems := engine.ConfigProblems(cfg)
	for _, p := range problems {
		c.errorf("warning: %s", p)
	}
	out := &errWriter{w: c.stdout}
	cfg.Describe(out, c.getenv)
	if len(problems) > 0 {
		fmt.Fprintf(out, "\nconfig loads, but %d warning(s) on stderr: a consensus there always fails\n", len(problems))
	} else {
		fmt.Fprintln(out, "\nconfig ok")
	}
	return c.written(out.err)
}

// errWriter remembers the first error of w; later writes fail with it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	e.err = err
	return n, err
}

func (c *cli) run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var (
		path     = fs.String("config", "", "config file")
		strategy = fs.String("strategy", "", engine.StrategyNames(", ", true)+" (default: the config's default_strategy)")
		tier     = fs.String("tier", "", "tier name (default: the config's default_tier)")
		models   = fs.String("models", "", "comma-separated model ids (default: the tier's models)")
		asJSON   = fs.Bool("json", false, "print one summary object per session, one line each")
		events   = fs.Bool("events", false, "print every event as one JSON object per line")
		repeat   = fs.Int("repeat", 1, "run N sessions in one process, sharing breakers and statistics")
		seed     = fs.Int64("seed", 0, "seed for simulated models (default: random)")
		recordTo = fs.String("record", "", "append every session to this log, one JSON object per line (council replay reads it)")
		system   = fs.String("system", "", "a system prompt for every model (over the config's)")
		sysFile  = fs.String("system-file", "", "read the system prompt from this file")
		maxTok   = fs.Int("max-tokens", 0, "cap each answer at N tokens (over the config's)")
		temp     = fs.String("temperature", "", "sampling temperature, 0 to 2 (dropped, with a note, for models that refuse one)")
		maxCost  = fs.Float64("max-cost", 0, "cap this session's cost in USD: a session that may cost more does not start")
		input    = fs.String("input", "", "a document for --strategy section: a file, or - for stdin")
		contFrom = fs.String("continue", "", "continue the conversation recorded in this log (--record FILE writes one): each model sees its own earlier answers")
	)
	pos, code, ok := c.parseFlags(fs, args, runUsage)
	if !ok {
		return code
	}
	if *repeat < 1 {
		return c.usage("--repeat must be at least 1")
	}
	req := engine.SessionRequest{Tier: *tier, MaxCostUSD: *maxCost}
	if msg := settingsFlags(&req.Settings, *system, *sysFile, *maxTok, *temp); msg != "" {
		return c.usage(msg)
	}
	if *maxCost < 0 || math.IsNaN(*maxCost) || math.IsInf(*maxCost, 0) {
		return c.usage("--max-cost must be a positive number of dollars")
	}
	if *strategy != "" {
		s, err := engine.ParseStrategy(*strategy)
		if err != nil {
			return c.usage(err.Error())
		}
		req.Strategy = s
	}
	var err error
	if req.Models, err = parseModels(*models); err != nil {
		return c.usage(err.Error())
	}
	req.Prompt = strings.TrimSpace(strings.Join(pos, " "))
	if code, ok := c.readInput(*input, &req); !ok {
		return code
	}
	if req.Prompt == "" {
		if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
			fmt.Fprintln(c.stderr, "council: reading the prompt from the terminal; end it with ctrl+d")
		}
		b, err := c.readStdin()
		if c.ctx.Err() != nil {
			return exitCancelled
		}
		if err != nil {
			return c.usage("reading the prompt from stdin: " + err.Error())
		}
		req.Prompt = strings.TrimSpace(string(b))
	}
	if req.Prompt == "" {
		return c.usage("no prompt: give one as an argument or on stdin")
	}
	if *contFrom != "" {
		ss, err := record.ReadFile(*contFrom)
		if err != nil && !errors.Is(err, record.ErrTruncated) {
			return c.usage("--continue: " + err.Error())
		}
		if err != nil {
			c.errorf("--continue: %v; continuing from the %d whole sessions before it", err, len(ss))
		}
		if len(ss) == 0 {
			return c.usage("--continue: " + *contFrom + " holds no session to continue")
		}
		req.Turns = record.Turns(ss)
	}
	cfg, eng, ok := c.setup(*path, *seed)
	if !ok {
		return exitUsage
	}
	defer eng.Close()
	if err := engine.Check(cfg, req); err != nil {
		// Refused before any model is called: the session could only fail.
		return c.usage(err.Error())
	}
	rec := newRecorder(cfg, eng, *recordTo, "", c.getenv)

	// A failing stdout stops the work: nobody would see the answer. outErr
	// is the first output error: a write's (which the bufio.Writer then
	// keeps returning) or the encoder's own (a number JSON cannot hold).
	ctx, stopRun := context.WithCancel(c.ctx)
	defer stopRun()
	out := bufio.NewWriter(c.stdout)
	enc := json.NewEncoder(out)
	var outErr error
	check := func(err error) {
		if err != nil && outErr == nil {
			outErr = err
			stopRun()
		}
	}
	status := exitOK
	var tot totals
	if *repeat > 1 {
		// Totals on stderr, so that stdout stays what N=1 writes, N times.
		defer func() {
			if tot.n > 0 {
				fmt.Fprintln(c.stderr, "council:", tot.String())
			}
		}()
	}
	for i := 0; i < *repeat && outErr == nil; i++ {
		var onEvent func(engine.Event)
		if *events {
			onEvent = func(ev engine.Event) {
				if outErr != nil {
					return
				}
				check(enc.Encode(ev))
				if ev.Type != engine.Delta {
					check(out.Flush())
				}
			}
		}
		var rs *recording
		if rec != nil {
			rs = rec.begin(req)
			show := onEvent
			onEvent = func(ev engine.Event) {
				rs.event(ev)
				if show != nil {
					show(ev)
				}
			}
		}
		sum, err := eng.Run(ctx, req, onEvent)
		if rs != nil {
			if rerr := rs.end(); rerr != nil {
				c.errorf("recording: %v", rerr)
				status = exitFailed
			}
		}
		if err != nil {
			check(out.Flush())
			if outErr == nil {
				return c.usage(err.Error())
			}
			break
		}
		switch {
		case *asJSON && !*events:
			check(enc.Encode(sum))
		case !*asJSON && !*events:
			check(c.printSummary(out, sum))
		}
		tot.add(sum)
		check(out.Flush())
		switch sum.Status {
		case engine.StatusFailed:
			status = max(status, exitFailed)
		case engine.StatusCancelled:
			status = exitCancelled
		}
		if c.ctx.Err() != nil {
			break
		}
	}
	check(out.Flush())
	switch {
	case c.ctx.Err() != nil:
		// A signal or the user: whatever the session's status, 130.
		return exitCancelled
	case outErr != nil:
		return c.written(outErr)
	}
	return status
}

// parseModels splits --models; a model listed twice is an error (each is
// a paid call; a repeat is a typo).
func parseModels(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, m := range strings.Split(s, ",") {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		if seen[m] {
			return nil, fmt.Errorf("--models lists %q more than once", m)
		}
		seen[m] = true
		out = append(out, m)
	}
	return out, nil
}

// readStdin reads all of stdin, unless a signal comes first: a read from
// a terminal or a pipe cannot be interrupted, so it is left behind (the
// process is about to exit).
func (c *cli) readStdin() ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := io.ReadAll(c.stdin)
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-c.ctx.Done():
		return nil, c.ctx.Err()
	}
}

// totals sum up the sessions of --repeat.
type totals struct {
	n        int
	statuses map[engine.Status]int
	wins     map[string]int
	elapsed  []float64 // ms
	cost     float64
}

func (t *totals) add(s *engine.Summary) {
	if t.statuses == nil {
		t.statuses, t.wins = map[engine.Status]int{}, map[string]int{}
	}
	t.n++
	t.statuses[s.Status]++
	if s.Winner != "" {
		t.wins[s.Winner]++
	}
	t.elapsed = append(t.elapsed, s.ElapsedMS)
	t.cost += s.CostUSD
}

// String is one line: "3 sessions: 2 decided, 1 degraded, 0 failed, 0
// cancelled; wins sim/a 67%, sim/b 33%; p50 12ms p95 30ms p99 31ms; cost $0.000123".
func (t *totals) String() string {
	b := fmt.Sprintf("%d sessions: %d decided, %d degraded, %d failed, %d cancelled", t.n,
		t.statuses[engine.StatusDecided], t.statuses[engine.StatusDegraded], t.statuses[engine.StatusFailed], t.statuses[engine.StatusCancelled])
	if len(t.wins) > 0 {
		ids := make([]string, 0, len(t.wins))
		for id := range t.wins {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool {
			if t.wins[ids[i]] != t.wins[ids[j]] {
				return t.wins[ids[i]] > t.wins[ids[j]]
			}
			return ids[i] < ids[j]
		})
		var ws []string
		for _, id := range ids {
			ws = append(ws, fmt.Sprintf("%s %.0f%%", id, 100*float64(t.wins[id])/float64(t.n)))
		}
		b += "; wins " + strings.Join(ws, ", ")
	}
	if len(t.elapsed) > 0 {
		e := slices.Clone(t.elapsed)
		slices.Sort(e)
		q := func(p float64) float64 { // nearest rank
			return e[max(int(math.Ceil(p*float64(len(e))))-1, 0)]
		}
		b += fmt.Sprintf("; p50 %.0fms p95 %.0fms p99 %.0fms", q(0.50), q(0.95), q(0.99))
	}
	return b + fmt.Sprintf("; cost $%.6f", t.cost)
}

// printSummary writes a human summary: the answer on stdout and one line
// of facts on stderr, for each session of --repeat too. Both go to a
// terminal, so the model's text loses its escape sequences.
func (c *cli) printSummary(out *bufio.Writer, sum *engine.Summary) error {
	if sum.Answer != "" {
		out.WriteString(providers.SafeText(sum.Answer))
		out.WriteString("\n")
		if err := out.Flush(); err != nil {
			return err
		}
	}
	line := fmt.Sprintf("%s %s/%s: %s", sum.Session, sum.Strategy, sum.Tier, sum.Status)
	if sum.Winner != "" {
		line += " winner " + sum.Winner
	}
	if sum.Route != nil {
		line += fmt.Sprintf(" routed %s (%.2f: %s)", sum.Route.Name, sum.Route.Confidence, sum.Route.Why)
	}
	if sum.Strategy == config.Consensus && sum.Answer != "" {
		line += fmt.Sprintf(" answer %s (agreement %.0f%%)", sum.Answer, sum.Agreement*100)
	}
	if sum.Chairman != "" {
		line += " chairman " + sum.Chairman
	}
	line += sectionNote(sum)
	for _, st := range sum.Stages {
		line += fmt.Sprintf(" [%s %s %.0fms]", st.Name, st.Status, st.ElapsedMS)
	}
	if len(sum.Degraded) > 0 {
		line += " degraded: " + strings.Join(sum.Degraded, ", ")
	}
	if sum.TieBreak != "" {
		line += " tie_break " + sum.TieBreak
	}
	line += fmt.Sprintf(" in %.0fms, $%.6f", sum.ElapsedMS, sum.CostUSD)
	var notes []string
	for _, m := range sum.Models {
		switch m.Status {
		case engine.AttemptWon, engine.AttemptDoneStatus:
		default:
			n := m.ID + " " + string(m.Status)
			if m.Role == engine.RolePrimary || m.Role == engine.RoleBackup {
				// A hedge's model may have two rows (a withheld backup, then
				// its failover): the role tells them apart.
				n = m.ID + " " + string(m.Role) + " " + string(m.Status)
			}
			if m.Stage != engine.StageNone {
				n = m.ID + " " + m.Stage.String() + " " + string(m.Status)
			}
			switch {
			case m.Error != "" && m.Reason != "":
				n += " (" + m.Reason + ": " + m.Error + ")"
			case m.Reason != "":
				n += " (" + m.Reason + ")"
			}
			notes = append(notes, n)
		}
	}
	if len(notes) > 0 {
		line += "; " + strings.Join(notes, ", ")
	}
	if sum.Error != "" {
		line += "; " + sum.Error
	}
	for id, b := range sum.Breakers {
		if b.State != engine.BreakerClosed {
			line += fmt.Sprintf("; breaker %s %s", id, b.State)
		}
	}
	line = providers.SafeText(line)
	fmt.Fprintln(c.stderr, line)
	return nil
}

// dashboard opens the live dashboard.
func (c *cli) dashboard(args []string) int {
	fs := flag.NewFlagSet("council", flag.ContinueOnError)
	path := fs.String("config", "", "config file")
	theme := fs.String("theme", "", "colour theme: dark, light, high-contrast, none")
	seed := fs.Int64("seed", 0, "seed for simulated models (default: random)")
	strategy := fs.String("strategy", "", "the first session's strategy")
	tier := fs.String("tier", "", "the first session's tier")
	models := fs.String("models", "", "comma-separated model ids instead of the tier's")
	noMouse := fs.Bool("no-mouse", false, "leave the mouse to the terminal (text selection)")
	recordDir := fs.String("record", "", "record every session in this directory, a log per session")
	input := fs.String("input", "", "a document for the section strategy (a file; m cycles to section)")
	system := fs.String("system", "", "a system prompt for every model (over the config's; O edits it)")
	sysFile := fs.String("system-file", "", "read the system prompt from this file")
	maxTok := fs.Int("max-tokens", 0, "cap each answer at N tokens (over the config's)")
	temp := fs.String("temperature", "", "sampling temperature, 0 to 2 (dropped, with a note, for models that refuse one)")
	maxCost := fs.Float64("max-cost", 0, "cap each session's cost in USD: a session that may cost more does not start")
	pos, code, ok := c.parseFlags(fs, args, usageText)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usage(fmt.Sprintf("unknown command %q (see council help)", pos[0]))
	}
	var opts dashOptions
	if msg := settingsFlags(&opts.settings, *system, *sysFile, *maxTok, *temp); msg != "" {
		return c.usage(msg)
	}
	if *maxCost < 0 || math.IsNaN(*maxCost) || math.IsInf(*maxCost, 0) {
		return c.usage("--max-cost must be a positive number of dollars")
	}
	opts.maxCost = *maxCost
	if *strategy != "" {
		s, err := engine.ParseStrategy(*strategy)
		if err != nil {
			return c.usage(err.Error())
		}
		opts.strategy = s
	}
	var err error
	if opts.models, err = parseModels(*models); err != nil {
		return c.usage(err.Error())
	}
	if *theme != "" {
		if _, err := themes.Load(*theme); err != nil {
			return c.usage(themeError(*theme))
		}
	}
	if opts.doc, code, ok = c.dashboardInput(*input); !ok {
		return code
	}
	opts.docName = *input
	cfg, eng, ok := c.setup(*path, *seed)
	if !ok {
		return exitUsage
	}
	defer eng.Close()
	opts.tier = *tier
	if msg := checkChoices(cfg, opts.tier, opts.models); msg != "" {
		return c.usage(msg)
	}
	opts.theme, opts.noMouse = *theme, *noMouse
	var b ui.Backend = eng
	if rec := newRecorder(cfg, eng, "", *recordDir, c.getenv); rec != nil {
		b = recordingBackend{Engine: eng, rec: rec, report: func(err error) { recordErr.Store(&err) }}
		opts.historyDir = rec.dir
	}
	code = c.dashboardExit(runDashboard(c.ctx, b, cfg, opts, c.getenv))
	if p := recordErr.Load(); p != nil {
		c.errorf("recording: %v", *p)
	}
	return code
}

// themeError says a theme is unknown, listing the valid ones once.
func themeError(name string) string {
	return fmt.Sprintf("unknown theme %q (themes: %s, none)", name, strings.Join(themes.Names(), ", "))
}

// checkChoices checks a tier and models against the config, listing the
// valid choices, as council run's errors do.
func checkChoices(cfg *config.Config, tier string, models []string) string {
	if tier != "" {
		if _, ok := cfg.Tier(tier); !ok {
			return fmt.Sprintf("unknown tier %q (tiers: %s)", tier, strings.Join(cfg.TierOrder(), ", "))
		}
	}
	for _, id := range models {
		if _, ok := cfg.Model(id); !ok {
			ids := make([]string, len(cfg.Models))
			for i, m := range cfg.Models {
				ids[i] = m.ID
			}
			return fmt.Sprintf("unknown model %q (models: %s)", id, strings.Join(ids, ", "))
		}
	}
	return ""
}

// dashboardExit is the exit status after the dashboard returned err.
func (c *cli) dashboardExit(err error) int {
	switch {
	case errors.Is(err, errNoTerminal) || errors.Is(err, errBadTheme):
		return c.usage(err.Error())
	case c.ctx.Err() != nil || errors.Is(err, errInterrupted):
		// A signal ended the dashboard (the terminal is restored by now);
		// q is the way to leave with 0.
		return exitCancelled
	case err != nil:
		c.errorf("%v", err)
		return exitFailed
	}
	return exitOK
}

// settingsFlags fills s from the --system, --system-file, --max-tokens
// and --temperature flags; it returns what is wrong with them, if anything.
func settingsFlags(s *engine.Settings, system, systemFile string, maxTokens int, temperature string) string {
	if system != "" && systemFile != "" {
		return "give --system or --system-file, not both"
	}
	s.System = system
	if systemFile != "" {
		b, err := os.ReadFile(systemFile)
		if err != nil {
			return "--system-file: " + err.Error()
		}
		s.System = strings.TrimSpace(string(b))
	}
	if maxTokens < 0 {
		return "--max-tokens cannot be negative"
	}
	s.MaxTokens = maxTokens
	if temperature != "" {
		t, err := strconv.ParseFloat(temperature, 64)
		if err != nil || t < 0 || t > 2 || math.IsNaN(t) {
			return fmt.Sprintf("--temperature %q: want a number from 0 to 2", temperature)
		}
		s.Temperature = &t
	}
	return ""
}
