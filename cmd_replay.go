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

const replayUsage = `usage: council replay [flags] FILE

Plays a session log back (council run --record FILE, council --record DIR,
or x/X in the dashboard): in the dashboard, marked "replay FILE · speed ·
session i of n" in its header, at the recorded pace; or printed. A replay
shows what happened and changes nothing: keys that would start or change a
session say so, and its sessions' cost is never added to a run's spend.

flags:
  --speed N     play N times faster than recorded (default 1)
  --step        start paused: n plays one event at a time, space goes on,
                0 plays the session again from its start, r plays the next
  --theme NAME  dark, light, high-contrast, none
  --json        print each session's summary, as council run --json printed it
  --markdown    print each session as a Markdown report

examples:
  council replay session.jsonl
  council replay --speed 10 sessions.jsonl
  council replay --step session.jsonl
  council replay --markdown session.jsonl > report.md

Exit status: 0 played or printed, 1 the log cannot be read or the output
written, 2 usage error.
`

// replay plays a recorded log back: in the dashboard, or as summaries
// (--json) or a report (--markdown).
func (c *cli) replay(args []string) int {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print each session's summary, as council run --json printed it")
	markdown := fs.Bool("markdown", false, "print each session as a Markdown report")
	speed := fs.Float64("speed", 1, "play this many times faster than recorded (the dashboard)")
	step := fs.Bool("step", false, "start paused: n plays one event at a time, space goes on, 0 restarts")
	theme := fs.String("theme", "", "colour theme: dark, light, high-contrast, none")
	pos, code, ok := c.parseFlags(fs, args, replayUsage)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return c.usage(fmt.Sprintf("council replay needs a log FILE, got %d arguments (see council replay --help)", len(pos)))
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
		p.SetName(pos[0])
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
