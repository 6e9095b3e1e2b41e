package record

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// Recorder writes sessions to logs: every session to one file (council
// run --record FILE), or each to a file of its own in a directory
// (council --record DIR, or record = true in the config).
type Recorder struct {
	cfg     *config.Config
	eng     *engine.Engine
	version string
	file    string // one log for every session, or
	dir     string // a log per session here
}

// Options say where a [Recorder] writes.
type Options struct {
	// File is one log for every session; Dir a directory with a log per
	// session. Without either, the config's record and record_dir decide.
	File, Dir string
	// Version is the recording program's, written in every header.
	Version string
	// Getenv finds the default directory ([DefaultDir]).
	Getenv func(string) string
}

// NewRecorder is the recorder the options and the config ask for, or nil
// when nothing is to be recorded. eng is read for the models' health at
// each session's start and end.
func NewRecorder(cfg *config.Config, eng *engine.Engine, o Options) *Recorder {
	r := &Recorder{cfg: cfg, eng: eng, version: o.Version}
	switch {
	case o.File != "":
		r.file = o.File
	case o.Dir != "":
		r.dir = o.Dir
	case cfg.Record:
		r.dir = cfg.RecordDir
		if r.dir == "" {
			r.dir = DefaultDir(o.Getenv)
		}
	default:
		return nil
	}
	return r
}

// DefaultDir is $XDG_STATE_HOME/council/sessions, else
// ~/.local/state/council/sessions.
func DefaultDir(getenv func(string) string) string {
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "council", "sessions")
	}
	return filepath.Join(getenv("HOME"), ".local", "state", "council", "sessions")
}

// Dir is the directory the recorder writes a log per session in, "" when
// it writes one file.
func (r *Recorder) Dir() string { return r.dir }

// Recording is one session being recorded.
type Recording struct {
	r      *Recorder
	header Header
	f      *os.File
	w      *Writer
	err    error
}

// Begin starts recording a session about to run with req.
func (r *Recorder) Begin(req engine.SessionRequest) *Recording {
	return &Recording{r: r, header: NewHeader(r.cfg, req, r.eng.Health(), r.version, time.Now())}
}

// Event records one event; the file is opened at the first (a log per
// session is a new file named by its start and session id).
func (s *Recording) Event(ev engine.Event) {
	if s.err != nil {
		return
	}
	if s.w == nil {
		if s.r.file != "" {
			s.f, s.err = Create(s.r.file)
		} else {
			s.f, s.err = CreateNew(s.r.dir, time.Now(), ev.Session)
		}
		if s.err != nil {
			return
		}
		s.w = NewWriter(s.f)
		s.err = s.w.Header(s.header)
	}
	if s.err == nil {
		s.err = s.w.Event(ev)
	}
}

// End writes the council's health as the session left it, closes the
// session's log and returns the first error it met.
func (s *Recording) End() error {
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

// Engine is an engine with every session it starts recorded: the
// dashboard's backend when it records.
type Engine struct {
	*engine.Engine
	rec    *Recorder
	report func(error)
}

// Recorded is eng with every session recorded by r; report hears of each
// recording that failed (the session itself goes on).
func (r *Recorder) Recorded(eng *engine.Engine, report func(error)) Engine {
	return Engine{Engine: eng, rec: r, report: report}
}

// Start starts a session and records it as it is read.
func (b Engine) Start(ctx context.Context, req engine.SessionRequest) (<-chan engine.Event, error) {
	in, err := b.Engine.Start(ctx, req)
	if err != nil {
		return nil, err
	}
	s := b.rec.Begin(req)
	out := make(chan engine.Event, cap(in))
	go func() {
		defer close(out)
		gone := false // the screen stopped reading: record the rest all the same
		for ev := range in {
			s.Event(ev)
			if !gone {
				select {
				case out <- ev:
				case <-ctx.Done():
					gone = true
				}
			}
		}
		if err := s.End(); err != nil {
			b.report(err)
		}
	}()
	return out, nil
}
