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
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/providers"
)

const runUsage = `usage: council run [flags] [PROMPT]

One headless session: the answer on stdout, a one-line summary on stderr.
PROMPT is the rest of the command line (flags may come before or after it);
without one the prompt is read from stdin (from a terminal, end it with ctrl+d).

flags:
  --strategy NAME  race, hedge, consensus, council or auto (default: the config's default_strategy)
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

examples:
  council run "How do database indexes work?"
  echo "I was charged twice" | council run --strategy consensus --json
  council run --strategy hedge --models sim/swift,sim/steady "Summarise RFC 9110"
  council run --repeat 50 --json "ping" > sessions.jsonl

Exit status: 0 decided (or degraded), 1 failed or the output could not be
written, 2 usage or configuration error, 130 cancelled (ctrl+c, SIGINT, SIGTERM).
`

func (c *cli) run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var (
		path     = fs.String("config", "", "config file")
		strategy = fs.String("strategy", "", "race, hedge, consensus, council or auto (default: the config's default_strategy)")
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
		s, err := config.ParseStrategy(*strategy)
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
	if p := runQuorumProblem(cfg, req); p != "" {
		// Refused before any model is called: the session could only fail.
		return c.usage(p)
	}
	rec := record.NewRecorder(cfg, eng, record.Options{File: *recordTo, Version: version, Getenv: c.getenv})

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
	var tot engine.Totals
	if *repeat > 1 {
		// Totals on stderr, so that stdout stays what N=1 writes, N times.
		defer func() {
			if tot.N > 0 {
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
		var rs *record.Recording
		if rec != nil {
			rs = rec.Begin(req)
			show := onEvent
			onEvent = func(ev engine.Event) {
				rs.Event(ev)
				if show != nil {
					show(ev)
				}
			}
		}
		sum, err := eng.Run(ctx, req, onEvent)
		if rs != nil {
			if rerr := rs.End(); rerr != nil {
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
		tot.Add(sum)
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

// runQuorumProblem is why req, a consensus, can never reach quorum, or "".
func runQuorumProblem(cfg *config.Config, req engine.SessionRequest) string {
	strategy, tier := req.Strategy, req.Tier
	if strategy == "" {
		strategy = cfg.DefaultStrategy
	}
	if strategy != config.Consensus {
		return ""
	}
	if tier == "" {
		tier = cfg.DefaultTier
	}
	n, from := len(req.Models), "--models"
	for _, id := range req.Models {
		if _, ok := cfg.Model(id); !ok {
			return "" // the engine names the unknown model
		}
	}
	if n == 0 {
		from = "tiers." + tier + ".models"
		t, ok := cfg.Tier(tier)
		if !ok {
			return ""
		}
		n = len(t.Models)
	}
	return quorumProblem(cfg, tier, n, from)
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
	fmt.Fprintln(c.stderr, sum.Line())
	return nil
}
