package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/themes"
	"github.com/council-dev/council/ui"
)

// recorder writes sessions to logs: every session to one file (council
// run --record FILE), or each to a file of its own in a directory
// (council --record DIR, or record = true in the config).
type recorder struct {
	cfg  *config.Config
	eng  *engine.Engine
	file string // one log for every session, or
	dir  string // a log per session here
}

// newRecorder is the recorder the flag and the config ask for, or nil.
func newRecorder(cfg *config.Config, eng *engine.Engine, file, dir string, getenv func(string) string) *recorder {
	switch {
	case file != "":
		return &recorder{cfg: cfg, eng: eng, file: file}
	case dir != "":
		return &recorder{cfg: cfg, eng: eng, dir: dir}
	case cfg.Record:
		d := cfg.RecordDir
		if d == "" {
			d = defaultRecordDir(getenv)
		}
		return &recorder{cfg: cfg, eng: eng, dir: d}
	}
	return nil
}

// defaultRecordDir is $XDG_STATE_HOME/council/sessions, else
// ~/.local/state/council/sessions.
func defaultRecordDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "council", "sessions")
	}
	return filepath.Join(getenv("HOME"), ".local", "state", "council", "sessions")
}

// recording is one session being recorded.
type recording struct {
	r      *recorder
	header record.Header
	f      *os.File
	w      *record.Writer
	err    error
}

// begin starts recording a session about to run with req.
func (r *recorder) begin(req engine.SessionRequest) *recording {
	return &recording{r: r, header: record.NewHeader(r.cfg, req, r.eng.Health(), version, time.Now())}
}

// event records one event; the file is opened at the first (a log per
// session is named by its session id).
func (s *recording) event(ev engine.Event) {
	if s.err != nil {
		return
	}
	if s.w == nil {
		path := s.r.file
		if path == "" {
			path = filepath.Join(s.r.dir, record.FileName(time.Now(), ev.Session))
		}
		if s.f, s.err = record.Create(path); s.err != nil {
			return
		}
		s.w = record.NewWriter(s.f)
		s.err = s.w.Header(s.header)
	}
	if s.err == nil {
		s.err = s.w.Event(ev)
	}
}

// end writes the council's health as the session left it, closes the
// session's log and returns the first error it met.
func (s *recording) end() error {
	if s.w != nil && s.err == nil {
		s.err = s.w.Health(s.r.eng.Health())
	}
	if s.f != nil {
		if err := s.f.Close(); s.err == nil {
			s.err = err
		}
	}
	return s.err
}

// recordingBackend is the engine with every dashboard session recorded.
type recordingBackend struct {
	*engine.Engine
	rec    *recorder
	report func(error)
}

func (b recordingBackend) Start(ctx context.Context, req engine.SessionRequest) (<-chan engine.Event, error) {
	in, err := b.Engine.Start(ctx, req)
	if err != nil {
		return nil, err
	}
	s := b.rec.begin(req)
	out := make(chan engine.Event, cap(in))
	go func() {
		defer close(out)
		gone := false // the screen stopped reading: record the rest all the same
		for ev := range in {
			s.event(ev)
			if !gone {
				select {
				case out <- ev:
				case <-ctx.Done():
					gone = true
				}
			}
		}
		if err := s.end(); err != nil {
			b.report(err)
		}
	}()
	return out, nil
}

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
