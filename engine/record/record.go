// Package record writes council sessions as event logs and reads them
// back: one JSON object per line, a header line for each session (the
// format version, the council's version, the strategy, tier and models,
// the settings that shaped it, and every model's health when it started)
// followed by the session's events exactly as `council run --events`
// prints them.
//
// Writing is crash-safe: every line is written whole, in one write, so a
// log cut short by a crash or a full disk is readable up to its last
// whole line; [Read] says where such a log ends early. A log from a newer
// format version is refused; a malformed line is reported with its number.
// Keys are never written: the header's config has every provider's key
// sources removed. A [Recorder] is what the commands use: it records
// every session to one log, or each to a new log of its own in a
// directory. Logs are private (0600) and never written through a
// symbolic link; a line over [wire.MaxLineBytes] is refused on reading.
package record

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
)

// Format is the version of the log format this package writes; [Read]
// refuses a newer one.
const Format = 1

// kindHeader marks a header line, kindHealth the health line that may
// close a session; event lines have a "type" instead.
const (
	kindHeader = "council.session"
	kindHealth = "council.health"
)

// healthLine is every model's health as a session left it.
type healthLine struct {
	Kind   string               `json:"kind"`
	Health []engine.ModelHealth `json:"health"`
}

// Header opens one session in a log.
type Header struct {
	Kind     string    `json:"kind"` // always "council.session"
	Format   int       `json:"format"`
	Council  string    `json:"council"` // the version that recorded it
	Recorded time.Time `json:"recorded"`
	Strategy string    `json:"strategy"`
	Tier     string    `json:"tier"`
	Prompt   string    `json:"prompt"`
	Models   []Model   `json:"models"`
	// Config is the recording council's configuration as TOML, without
	// any key or key command, so a replay draws with the same tiers,
	// quorum and timeouts.
	Config string `json:"config"`
	// Health is every model's breaker and latency when the session began,
	// so the breaker board replays as it was seen.
	Health []engine.ModelHealth `json:"health"`
	// Turns is the conversation the session continued, when it was a
	// follow-up: the file alone says what each model was asked.
	Turns []engine.Turn `json:"turns,omitempty"`
}

// Model is a model of the recorded council.
type Model struct {
	ID       string `json:"id"`
	Provider string `json:"provider"`
	Kind     string `json:"kind"`
	Model    string `json:"model"`
}

// NewHeader describes a session about to start on cfg with req, the
// council's health then, and the recording program's version.
func NewHeader(cfg *config.Config, req engine.SessionRequest, health []engine.ModelHealth, version string, now time.Time) Header {
	h := Header{Kind: kindHeader, Format: Format, Council: version, Recorded: now.UTC(),
		Strategy: string(req.Strategy), Tier: req.Tier, Prompt: req.Prompt, Health: health, Turns: req.Turns}
	if h.Strategy == "" {
		h.Strategy = string(cfg.DefaultStrategy)
	}
	if h.Tier == "" {
		h.Tier = cfg.DefaultTier
	}
	for _, m := range cfg.Models {
		h.Models = append(h.Models, Model{ID: m.ID, Provider: m.Provider, Kind: cfg.Providers[m.Provider].Kind, Model: m.Model})
	}
	h.Config = configTOML(cfg)
	return h
}

// configTOML writes cfg as TOML without any key, key variable's value or
// key command.
func configTOML(cfg *config.Config) string {
	c := *cfg
	c.Providers = make(map[string]config.ProviderConfig, len(cfg.Providers))
	for name, p := range cfg.Providers {
		p.APIKey, p.APIKeyCmd = "", ""
		c.Providers[name] = p
	}
	var b bytes.Buffer
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return ""
	}
	return b.String()
}

// Writer appends sessions to a log. It is safe for concurrent use; each
// line goes out in one write.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
	err error
}

// NewWriter writes to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Create opens the log at path to append sessions to, creating it
// readable by its owner only. A log holds prompts and answers, so Create
// never follows a symbolic link at path (a link planted there would carry
// the sessions elsewhere), and refuses anything but a regular file, and a
// file that others may read or write.
func Create(path string) (*os.File, error) {
	if err := mkdirFor(path); err != nil {
		return nil, err
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, fmt.Errorf("%s is a symbolic link: council writes a session log only to a file of its own", path)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND|noFollow, 0o600)
	if err != nil {
		return nil, err
	}
	if err := private(f, path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// private checks that f, opened at path, is a regular file only its owner
// may read or write.
func private(f *os.File, path string) error {
	fi, err := f.Stat()
	switch {
	case err != nil:
		return err
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file (%s): council writes a session log only to a file of its own", path, fi.Mode().Type())
	case fi.Mode().Perm()&0o077 != 0:
		return fmt.Errorf("%s may be read or written by others (mode %04o), and a session log holds prompts and answers: chmod 600 it, or record to another file",
			path, fi.Mode().Perm())
	}
	return nil
}

// CreateNew creates a new log in dir for a session started at t, named
// by [FileName], readable by its owner only. It never opens a file that
// exists, nor a symbolic link: when the name is taken (two sessions of the
// same id in one second, from two councils, or a planted link) it takes
// the name with -2, -3, ... before the extension.
func CreateNew(dir string, t time.Time, session string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	base := strings.TrimSuffix(FileName(t, session), ".jsonl")
	for n := 1; n <= maxNameTries; n++ {
		name := base + ".jsonl"
		if n > 1 {
			name = fmt.Sprintf("%s-%d.jsonl", base, n)
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, fmt.Errorf("%s: %s.jsonl and %d more names like it are taken", dir, base, maxNameTries-1)
}

// maxNameTries bounds the names [CreateNew] tries for one session.
const maxNameTries = 1000

// mkdirFor makes the directory path is in, readable by its owner only.
func mkdirFor(path string) error {
	if dir := filepath.Dir(path); dir != "" {
		return os.MkdirAll(dir, 0o700)
	}
	return nil
}

// Header writes a session's header line.
func (w *Writer) Header(h Header) error { return w.line(h) }

// Event writes one event line.
func (w *Writer) Event(ev engine.Event) error { return w.line(ev) }

// Health writes every model's health as the session left it (after its
// session_done), so that a replay's breaker board ends as it was seen.
func (w *Writer) Health(h []engine.ModelHealth) error {
	return w.line(healthLine{Kind: kindHealth, Health: h})
}

// Err is the first error a write met.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

func (w *Writer) line(v any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends the line
		w.err = err
		return err
	}
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		w.err = fmt.Errorf("writing the session log: %w", err)
	}
	return w.err
}

// Session is one recorded session: its header and events.
type Session struct {
	Header Header
	Events []engine.Event
	// EndHealth is every model's health when the session ended, when the
	// log has it.
	EndHealth []engine.ModelHealth
	// Line is the header's line number in the log.
	Line int
}

// Summary is the session's summary (from session_done), nil when the log
// ends before it.
func (s *Session) Summary() *engine.Summary {
	for i := len(s.Events) - 1; i >= 0; i-- {
		if s.Events[i].Type == engine.SessionDone {
			return s.Events[i].Summary
		}
	}
	return nil
}

// ErrTruncated is wrapped by the error [Read] returns alongside what it
// read when a log ends in the middle of a line.
var ErrTruncated = errors.New("the log ends early")

// ErrNewerFormat is wrapped by the error [Read] returns for a log written
// in a newer format than this program reads.
var ErrNewerFormat = errors.New("the log is from a newer council")

// Read reads every session of a log. A log cut in the middle of a line
// (a crash, a full disk) gives the sessions read so far and an error
// wrapping [ErrTruncated] that says at which line; any other bad line is
// an error naming its line number. A session recorded before
// session_started described it is described from its header.
func Read(r io.Reader) ([]Session, error) {
	out, err := read(r)
	for i := range out {
		out[i].describe()
	}
	return out, err
}

// describe gives the session's session_started, when it lacks one, the
// description newer councils record in it ([engine.SessionInfo]), from the
// header: its strategy, tier and prompt, the tier's models and the spending
// cap in the recorded config (the summary's cap, when it has one), its
// turn from the conversation it continued. The request's settings and
// document name are not in an older log: they stay empty.
func (s *Session) describe() {
	if len(s.Events) == 0 || s.Events[0].Type != engine.SessionStarted {
		return
	}
	ev := &s.Events[0]
	if ev.Detail != nil && ev.Detail.Info != nil {
		return
	}
	h := s.Header
	in := &engine.SessionInfo{Strategy: config.Strategy(h.Strategy), Tier: h.Tier, Turn: len(h.Turns) + 1}
	if cfg, err := h.ConfigOf(); err == nil {
		in.Models, in.CostCapUSD = slices.Clone(cfg.Tiers[h.Tier].Models), cfg.MaxCostUSD
	}
	if sum := s.Summary(); sum != nil && sum.CostCapUSD > 0 {
		in.CostCapUSD = sum.CostCapUSD
	}
	d := new(engine.Detail)
	if ev.Detail != nil {
		*d = *ev.Detail
	}
	d.Info, ev.Detail = in, d
	if ev.Text == "" {
		ev.Text = h.Prompt
	}
}

func read(r io.Reader) ([]Session, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Session
	for n := 1; ; n++ {
		line, err := readLine(br, wire.MaxLineBytes)
		if errors.Is(err, ErrLineTooLong) {
			return out, fmt.Errorf("line %d: %w: more than any event council writes, so the log is damaged or not a council log", n, err)
		}
		if len(line) > 0 && line[len(line)-1] != '\n' {
			return out, fmt.Errorf("%w at line %d (a partial line of %d bytes)", ErrTruncated, n, len(line))
		}
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("line %d: %w", n, err)
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		var probe struct {
			Kind   string `json:"kind"`
			Format int    `json:"format"`
		}
		if err := json.Unmarshal(line, &probe); err != nil {
			return out, fmt.Errorf("line %d: not a JSON object: %v", n, err)
		}
		if probe.Kind == kindHeader {
			if probe.Format > Format {
				return out, fmt.Errorf("line %d: %w (format %d; this council reads format %d and older): upgrade council to replay it", n, ErrNewerFormat, probe.Format, Format)
			}
			var h Header
			if err := json.Unmarshal(line, &h); err != nil {
				return out, fmt.Errorf("line %d: bad header: %v", n, err)
			}
			out = append(out, Session{Header: h, Line: n})
			continue
		}
		if probe.Kind == kindHealth && len(out) > 0 {
			var hl healthLine
			if err := json.Unmarshal(line, &hl); err != nil {
				return out, fmt.Errorf("line %d: bad health line: %v", n, err)
			}
			out[len(out)-1].EndHealth = hl.Health
			continue
		}
		if len(out) == 0 {
			return out, fmt.Errorf("line %d: an event before any session header", n)
		}
		var ev engine.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return out, fmt.Errorf("line %d: bad event: %v", n, err)
		}
		s := &out[len(out)-1]
		s.Events = append(s.Events, ev)
	}
}

// ErrLineTooLong is wrapped by the error [Read] returns for a line over
// [wire.MaxLineBytes], which it stops reading rather than hold.
var ErrLineTooLong = fmt.Errorf("the line is over %d MiB", wire.MaxLineBytes>>20)

// readLine reads one line with its '\n' (without one at the end of r), of
// at most limit bytes.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if line == nil && err != bufio.ErrBufferFull {
			return bytes.Clone(frag), err // the usual line, within the buffer
		}
		need := len(line) + len(frag)
		if need > limit {
			return nil, ErrLineTooLong
		}
		if need > cap(line) {
			// Doubling, not append's 1.25x for large slices: a line near
			// the cap then costs twice its size, not five times.
			grown := make([]byte, len(line), min(limit, 2*need))
			copy(grown, line)
			line = grown
		}
		line = append(line, frag...)
		if err != bufio.ErrBufferFull {
			return line, err
		}
	}
}

// ReadFile reads the log at path.
func ReadFile(path string) ([]Session, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ss, err := Read(f)
	if err != nil {
		err = fmt.Errorf("%s: %w", path, err)
	}
	return ss, err
}

// ConfigOf rebuilds the recording council's configuration, for a replay.
func (h Header) ConfigOf() (*config.Config, error) {
	c, err := config.Parse([]byte(h.Config), "recorded config")
	if err != nil {
		return nil, err
	}
	return c, nil
}

// FileName is a log's name for a session started at t: sortable, by the
// second, then the session id ([CreateNew] makes it unique).
func FileName(t time.Time, session string) string {
	return t.UTC().Format("20060102-150405") + "-" + strings.ReplaceAll(session, string(filepath.Separator), "_") + ".jsonl"
}

// Turns are the log's sessions as the turns of a conversation, oldest
// first, for a session that continues it ([engine.SessionRequest].Turns):
// each header's prompt, each model's answer and the final answer. A
// session cut off before its summary is a turn without answers (which the
// engine leaves out of every history).
func Turns(ss []Session) []engine.Turn {
	out := make([]engine.Turn, 0, len(ss))
	for i := range ss {
		if t := ss[i].Header.Turns; len(t) > 0 { // a follow-up: its header has the conversation so far
			out = append(out[:0], t...)
		}
		if sum := ss[i].Summary(); sum != nil {
			out = append(out, sum.Turn(ss[i].Header.Prompt))
		} else {
			out = append(out, engine.Turn{Prompt: ss[i].Header.Prompt})
		}
	}
	return out
}
