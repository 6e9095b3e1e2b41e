package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
	"github.com/council-dev/council/ui"
)

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

var errNoTerminal = errors.New("the dashboard needs a terminal; for scripts use council run (see council help)")

// dashOptions are the dashboard's flags.
type dashOptions struct {
	theme    string
	strategy config.Strategy
	tier     string
	models   []string
	noMouse  bool
	// doc is the --input document for the section strategy, if any;
	// historyDir the record directory the history lists earlier runs from.
	doc, historyDir string
	// settings and maxCost are how the models are asked and each
	// session's cap (--system, --max-tokens, --temperature, --max-cost).
	settings engine.Settings
	maxCost  float64
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
	return ui.Run(ctx, b, ui.Options{Theme: th, Why: why, AutoFireEvery: cfg.Dashboard.Hold(), Strategy: o.strategy, Tier: o.tier,
		Models: o.models, NoMouse: o.noMouse, Version: version, HistoryDir: o.historyDir, Document: o.doc,
		Settings: o.settings, MaxCostUSD: o.maxCost})
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
