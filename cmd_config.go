package main

import (
	"bufio"
	"flag"
	"fmt"

	"github.com/council-dev/council/engine"
)

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
	out := bufio.NewWriter(c.stdout) // keeps the first error; later writes fail with it
	cfg.Describe(out, c.getenv)
	if len(problems) > 0 {
		fmt.Fprintf(out, "\nconfig loads, but %d warning(s) on stderr: a consensus there always fails\n", len(problems))
	} else {
		fmt.Fprintln(out, "\nconfig ok")
	}
	return c.written(out.Flush())
}
