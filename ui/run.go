package ui

import (
	"context"
	"errors"
	"io"
	"log"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/council-dev/council/themes"
)

// drainTimeout bounds how long Run waits, after the screen closes, for a
// cancelled session's channel to close.
const drainTimeout = 3 * time.Second

// Run shows the dashboard in the alternate screen until the user quits or
// ctx ends. While it owns the terminal the standard logger is silenced
// (SDKs log there); with NO_COLOR set it draws without colour.
func Run(ctx context.Context, b Backend, o Options) error {
	var popts []tea.ProgramOption
	// main turns SIGINT and SIGTERM into ctx's end (exit 130); Bubble Tea must
	// not make a SIGTERM a plain quit of its own.
	popts = append(popts, tea.WithContext(ctx), tea.WithoutSignalHandler())
	if themes.NoColorEnv() || o.Theme.NoColor {
		o.Theme = themes.NoColor()
		popts = append(popts, tea.WithColorProfile(colorprofile.Ascii))
	}
	prev := log.Writer()
	log.SetOutput(io.Discard)
	defer log.SetOutput(prev)

	m := New(b, o)
	_, err := tea.NewProgram(m, popts...).Run()
	m.stop(drainTimeout)
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil // the caller asked us to stop
	}
	return err
}

// stop cancels a running session and drains its channel until it closes
// (the engine must not block on a screen that is gone), waiting at most d.
func (m *Model) stop(d time.Duration) {
	if m.cancel != nil {
		m.cancel()
	}
	ch := m.events
	if ch == nil {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-t.C:
			return
		}
	}
}
