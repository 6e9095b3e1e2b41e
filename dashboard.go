package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/term"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
	"github.com/council-dev/council/ui"
)

var errNoTerminal = errors.New("the dashboard needs a terminal; for scripts use council run (see council help)")

// runDashboard opens the dashboard on eng in the alternate screen.
// doc is the --input document for the section strategy, if any.
func runDashboard(ctx context.Context, b ui.Backend, cfg *config.Config, theme, historyDir string, getenv func(string) string, doc string) error {
	if err := needTerminal(); err != nil {
		return err
	}
	if theme == "" {
		theme = cfg.Theme
	}
	th, err := themes.Load(theme)
	if err != nil {
		return fmt.Errorf("%w: %v (themes: %v)", errBadTheme, err, themes.Names())
	}
	why := cfg.Why
	if why == "" {
		why = "config " + cfg.Source
	}
	return ui.Run(ctx, b, ui.Options{Theme: th, Why: why, Version: version, HistoryDir: historyDir, Document: doc})
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
