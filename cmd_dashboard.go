package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/themes"
	"github.com/council-dev/council/ui"
)

var errNoTerminal = errors.New("the dashboard needs a terminal; for scripts use council run (see council help)")

// dashOptions are the dashboard's flags.
type dashOptions struct {
	theme   string
	noMouse bool
	// req is the first session's strategy, tier and models, how the
	// models are asked and each session's cap (the session flags).
	req engine.SessionRequest
	// doc is the --input document for the section strategy, if any, and
	// docName its name; historyDir the record directory the history lists
	// earlier runs from.
	doc, docName, historyDir string
}

// runDashboard opens the dashboard on eng in the alternate screen.
func runDashboard(ctx context.Context, b ui.Backend, cfg *config.Config, o dashOptions, getenv func(string) string) error {
	if err := needTerminal(); err != nil {
		return err
	}
	theme := o.theme
	if theme == "" {
		theme = cfg.Theme
	}
	th, err := themes.Load(theme)
	if err != nil {
		return fmt.Errorf("%w: %s", errBadTheme, themeError(theme))
	}
	why := cfg.Why
	if why == "" {
		why = "config " + cfg.Source
	}
	return ui.Run(ctx, b, ui.Options{Theme: th, Why: why, AutoFireEvery: cfg.Dashboard.Hold(), Strategy: o.req.Strategy, Tier: o.req.Tier,
		Models: o.req.Models, NoMouse: o.noMouse, Version: version, HistoryDir: o.historyDir, Document: o.doc,
		DocumentName: o.docName, Settings: o.req.Settings, MaxCostUSD: o.req.MaxCostUSD})
}

// bugBuffer keeps what the engine writes of a session's bug (its stack)
// while the dashboard owns the terminal, to print once it is gone.
type bugBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *bugBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// flush writes what was kept to out.
func (w *bugBuffer) flush(out io.Writer) {
	w.mu.Lock()
	defer w.mu.Unlock()
	out.Write(w.b.Bytes())
}

var errBadTheme = errors.New("bad theme")

// errInterrupted is what the dashboard returns when its terminal library
// caught a SIGINT itself (main's context sees the same signal, but
// possibly a moment later).
var errInterrupted = tea.ErrInterrupted

// needTerminal fails unless stdin and stdout are terminals.
func needTerminal() error {
	if !term.IsTerminal(os.Stdin.Fd()) || !term.IsTerminal(os.Stdout.Fd()) {
		return errNoTerminal
	}
	return nil
}

// recordErr is the first error the dashboard's recorder met, reported
// after the dashboard closes (the screen is not the place for it).
var recordErr atomic.Pointer[error]

// dashboard opens the live dashboard.
func (c *cli) dashboard(args []string) int {
	fs := flag.NewFlagSet("council", flag.ContinueOnError)
	sf := addSessionFlags(fs, 0, true)
	theme := fs.String("theme", "", "colour theme: dark, light, high-contrast, none")
	noMouse := fs.Bool("no-mouse", false, "leave the mouse to the terminal (text selection)")
	recordDir := fs.String("record", "", "record every session in this directory, a log per session")
	input := fs.String("input", "", "a document for the section strategy (a file; m cycles to section)")
	pos, code, ok := c.parseFlags(fs, args, usageText)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usage(fmt.Sprintf("unknown command %q (see council help)", pos[0]))
	}
	opts := dashOptions{theme: *theme, noMouse: *noMouse}
	var msg string
	if opts.req, msg = sf.request(); msg != "" {
		return c.usage(msg)
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
	bugs := new(bugBuffer) // the dashboard owns the terminal: shown after it
	defer bugs.flush(c.stderr)
	c.bugLog = bugs
	cfg, eng, ok := c.setup(sf.config, sf.seed)
	if !ok {
		return exitUsage
	}
	defer eng.Close()
	if msg := checkChoices(cfg, opts.req.Tier, opts.req.Models); msg != "" {
		return c.usage(msg)
	}
	var b ui.Backend = eng
	if rec := record.NewRecorder(cfg, eng, record.Options{Dir: *recordDir, Version: version, Getenv: c.getenv}); rec != nil {
		b = rec.Recorded(eng, func(err error) { recordErr.Store(&err) })
		opts.historyDir = rec.Dir()
	}
	code = c.dashboardExit(runDashboard(c.ctx, b, cfg, opts, c.getenv))
	if p := recordErr.Load(); p != nil {
		c.errorf("recording: %v", *p)
	}
	return code
}
