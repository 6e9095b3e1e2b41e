package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/providers"
)

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

func (c *cli) run(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	sf := addSessionFlags(fs, 0, true)
	var (
		asJSON   = fs.Bool("json", false, "print one summary object per session, one line each")
		events   = fs.Bool("events", false, "print every event as one JSON object per line")
		repeat   = fs.Int("repeat", 1, "run N sessions in one process, sharing breakers and statistics")
		recordTo = fs.String("record", "", "append every session to this log, one JSON object per line (council replay reads it)")
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
	req, msg := sf.request()
	if msg != "" {
		return c.usage(msg)
	}
	if code, ok := c.readPrompt(pos, *input, &req); !ok {
		return code
	}
	if code, ok := c.continueFrom(*contFrom, &req); !ok {
		return code
	}
	cfg, eng, ok := c.setup(sf.config, sf.seed)
	if !ok {
		return exitUsage
	}
	defer eng.Close()
	if err := engine.Check(cfg, req); err != nil {
		// Refused before any model is called: the session could only fail.
		return c.usage(err.Error())
	}
	r := &runner{c: c, eng: eng, req: req, asJSON: *asJSON, events: *events,
		rec: record.NewRecorder(cfg, eng, record.Options{File: *recordTo, Version: version, Getenv: c.getenv})}
	return r.run(*repeat)
}

// readPrompt sets req's prompt (the arguments, else stdin) and document
// (--input). ok is false with the exit code when there is none.
func (c *cli) readPrompt(pos []string, input string, req *engine.SessionRequest) (code int, ok bool) {
	req.Prompt = strings.TrimSpace(strings.Join(pos, " "))
	if code, ok := c.readInput(input, req); !ok {
		return code, false
	}
	if req.Prompt == "" {
		if f, ok := c.stdin.(*os.File); ok && term.IsTerminal(f.Fd()) {
			fmt.Fprintln(c.stderr, "council: reading the prompt from the terminal; end it with ctrl+d")
		}
		b, err := c.readStdin()
		if c.ctx.Err() != nil {
			return exitCancelled, false
		}
		if err != nil {
			return c.usage("reading the prompt from stdin: " + err.Error()), false
		}
		req.Prompt = strings.TrimSpace(string(b))
	}
	if req.Prompt == "" {
		return c.usage("no prompt: give one as an argument or on stdin"), false
	}
	return 0, true
}

// continueFrom sets req's turns from the log of --continue, if given. ok
// is false with the exit code when the log cannot be continued.
func (c *cli) continueFrom(path string, req *engine.SessionRequest) (code int, ok bool) {
	if path == "" {
		return 0, true
	}
	ss, err := record.ReadFile(path)
	if err != nil && !errors.Is(err, record.ErrTruncated) {
		return c.usage("--continue: " + err.Error()), false
	}
	if err != nil {
		c.errorf("--continue: %v; continuing from the %d whole sessions before it", err, len(ss))
	}
	if len(ss) == 0 {
		return c.usage("--continue: " + path + " holds no session to continue"), false
	}
	req.Turns = record.Turns(ss)
	return 0, true
}

// runner runs council run's sessions one after another and writes what
// they show: the events, the summaries, the totals of --repeat.
type runner struct {
	c              *cli
	eng            *engine.Engine
	req            engine.SessionRequest
	rec            *record.Recorder // nil: not recording
	asJSON, events bool

	// A failing stdout stops the work: nobody would see the answer. outErr
	// is the first output error: a write's (which the bufio.Writer then
	// keeps returning) or the encoder's own (a number JSON cannot hold).
	ctx     context.Context
	stopRun context.CancelFunc
	out     *bufio.Writer
	enc     *json.Encoder
	outErr  error
	status  int
	tot     engine.Totals
}

func (r *runner) check(err error) {
	if err != nil && r.outErr == nil {
		r.outErr = err
		r.stopRun()
	}
}

// run runs repeat sessions and returns the exit status.
func (r *runner) run(repeat int) int {
	r.ctx, r.stopRun = context.WithCancel(r.c.ctx)
	defer r.stopRun()
	r.out = bufio.NewWriter(r.c.stdout)
	r.enc = json.NewEncoder(r.out)
	if repeat > 1 {
		// Totals on stderr, so that stdout stays what N=1 writes, N times.
		defer func() {
			if r.tot.N > 0 {
				fmt.Fprintln(r.c.stderr, "council:", r.tot.String())
			}
		}()
	}
	for i := 0; i < repeat && r.outErr == nil; i++ {
		if code, done := r.session(); done {
			return code
		}
		if r.c.ctx.Err() != nil {
			break
		}
	}
	r.check(r.out.Flush())
	switch {
	case r.c.ctx.Err() != nil:
		// A signal or the user: whatever the session's status, 130.
		return exitCancelled
	case r.outErr != nil:
		return r.c.written(r.outErr)
	}
	return r.status
}

// session runs one session and writes it; done is true when council run
// must end at once with code (the engine refused the request).
func (r *runner) session() (code int, done bool) {
	onEvent, rs := r.onEvent()
	sum, err := r.eng.Run(r.ctx, r.req, onEvent)
	if rs != nil {
		if rerr := rs.End(); rerr != nil {
			r.c.errorf("recording: %v", rerr)
			r.status = exitFailed
		}
	}
	if err != nil {
		r.check(r.out.Flush())
		if r.outErr == nil {
			return r.c.usage(err.Error()), true
		}
		return 0, false
	}
	switch {
	case r.asJSON && !r.events:
		r.check(r.enc.Encode(sum))
	case !r.asJSON && !r.events:
		r.check(r.c.printSummary(r.out, sum))
	}
	r.tot.Add(sum)
	r.check(r.out.Flush())
	switch sum.Status {
	case engine.StatusFailed:
		r.status = max(r.status, exitFailed)
	case engine.StatusCancelled:
		r.status = exitCancelled
	}
	return 0, false
}

// onEvent is what a session's events go to: stdout with --events, the log
// when recording (whose recording is returned, to be ended).
func (r *runner) onEvent() (func(engine.Event), *record.Recording) {
	var onEvent func(engine.Event)
	if r.events {
		onEvent = func(ev engine.Event) {
			if r.outErr != nil {
				return
			}
			r.check(r.enc.Encode(ev))
			if ev.Type != engine.Delta {
				r.check(r.out.Flush())
			}
		}
	}
	if r.rec == nil {
		return onEvent, nil
	}
	rs := r.rec.Begin(r.req)
	return func(ev engine.Event) {
		rs.Event(ev)
		if onEvent != nil {
			onEvent(ev)
		}
	}, rs
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
