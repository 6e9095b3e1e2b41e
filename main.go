// Command council is a terminal dashboard for live multi-model LLM sessions:
// one prompt goes to several models at once under a strategy (race, hedge,
// consensus, council, or auto to let a router pick), with per-model circuit
// breakers, and every stream, latency, breaker and vote is shown as it
// happens. `council run` does the same headless, for scripts.
//
// main.go only dispatches: each command is a file of its own (cmd_run.go,
// cmd_dashboard.go, cmd_bench.go, cmd_replay.go, cmd_serve.go,
// cmd_watch.go, cmd_config.go, cmd_version.go) that parses its flags and
// wires the pieces; the settings flags every session-running command takes
// are defined and checked once (flags.go), and what every command shares
// (errors, exit statuses, loading the config) is in cli.go. The logic
// lives in engine, providers and ui.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

func main() {
	ctx, stop := signalContext()
	code := realMain(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// realMain runs the command args name (the dashboard when none does) and
// returns its exit status.
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
			return c.printVersion()
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
