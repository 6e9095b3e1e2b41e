package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/themes"
	"github.com/council-dev/council/ui"
)

// replay plays a recorded log back: in the dashboard, or as summaries
// (--json) or a report (--markdown).
func (c *cli) replay(args []string) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	asJSON := fs.Bool("json", false, "print each session's summary, as council run --json printed it")
	markdown := fs.Bool("markdown", false, "print each session as a Markdown report")
	speed := fs.Float64("speed", 1, "play this many times faster than recorded (the dashboard)")
	step := fs.Bool("step", false, "start paused: n plays one event at a time, space goes on, 0 restarts")
	theme := fs.String("theme", "", "colour theme: dark, light, high-contrast")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitUsage
	}
	if len(pos) != 1 {
		return c.usage("usage: council replay [--json | --markdown | --speed N | --step] FILE")
	}
	sessions, err := record.ReadFile(pos[0])
	if err != nil {
		if !errors.Is(err, record.ErrTruncated) || len(sessions) == 0 {
			c.errorf("%v", err)
			return exitFailed
		}
		c.errorf("warning: %v; replaying what it has", err) // a log cut by a crash
	}
	out := bufio.NewWriter(c.stdout)
	switch {
	case *asJSON:
		enc := json.NewEncoder(out)
		for _, s := range sessions {
			if sum := s.Summary(); sum != nil {
				if err := enc.Encode(sum); err != nil {
					c.errorf("writing: %v", err)
					return exitFailed
				}
			} else {
				c.errorf("the session recorded at line %d ends before its summary", s.Line)
			}
		}
	case *markdown:
		for i, s := range sessions {
			if i > 0 {
				out.WriteString("\n---\n\n")
			}
			if err := record.Markdown(out, s); err != nil {
				c.errorf("writing: %v", err)
				return exitFailed
			}
		}
	default:
		p, err := record.NewPlayer(sessions, *speed)
		if err != nil {
			c.errorf("%s: %v", pos[0], err)
			return exitFailed
		}
		if *step {
			p.TogglePause()
		}
		why := fmt.Sprintf("replaying %s: %d session(s) at %gx; space pauses, n steps, 0 restarts, r plays the next", pos[0], p.Sessions(), *speed)
		return c.dashboardExit(runReplay(c.ctx, p, *theme, why))
	}
	if err := out.Flush(); err != nil {
		c.errorf("writing: %v", err)
		return exitFailed
	}
	return exitOK
}

// runReplay opens the dashboard on a recorded log.
func runReplay(ctx context.Context, p *record.Player, theme, why string) error {
	if err := needTerminal(); err != nil {
		return err
	}
	th, err := themes.Load(theme)
	if err != nil {
		return fmt.Errorf("%w: %v (themes: %v)", errBadTheme, err, themes.Names())
	}
	return ui.Run(ctx, p, ui.Options{Theme: th, Why: why, Prompt: p.Prompt(), AutoRun: true, Version: version})
}
