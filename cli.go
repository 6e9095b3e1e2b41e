package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/themes"
)

// Exit statuses.
const (
	exitOK        = 0   // decided or degraded
	exitFailed    = 1   // the session failed, or the output could not be written
	exitUsage     = 2   // usage or configuration error
	exitCancelled = 130 // cancelled by the user or a signal (128 + SIGINT)
)

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
	// bugLog is where the engine writes the stack of a session's bug;
	// nil: stderr.
	bugLog io.Writer
}

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
// seed picks a random one. extra adds engine options read from the config
// (council serve's fleet). It reports problems itself.
func (c *cli) setup(path string, seed int64, extra ...func(*config.Config) ([]engine.Option, error)) (*config.Config, *engine.Engine, bool) {
	cfg, ok := c.loadConfig(path)
	if !ok {
		return nil, nil, false
	}
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	bugs := c.bugLog
	if bugs == nil {
		bugs = c.stderr
	}
	opts := []engine.Option{engine.WithSeed(seed), engine.WithBugLog(bugs)}
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

// themeError says a theme is unknown, listing the valid ones once.
func themeError(name string) string {
	return fmt.Sprintf("unknown theme %q (themes: %s, none)", name, strings.Join(themes.Names(), ", "))
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
