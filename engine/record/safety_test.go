package record

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
)

// hostile is an answer that would retitle the terminal (OSC 0), write the
// clipboard (OSC 52), clear the screen (CSI 2J), move the cursor home and
// ring the bell, written raw.
const hostile = "safe\x1b]0;pwned\x07 text\x1b]52;c;ZXZpbA==\x07 and\x1b[2J\x1b[H more\x07\u009b31m end"

// Neither the answer, a model's text, its error nor the prompt reaches a
// Markdown report with its escape sequences: council replay --markdown
// and the dashboard's export (both record.Markdown) are read in terminals.
func TestMarkdownStripsEscapeSequences(t *testing.T) {
	sum := &engine.Summary{Session: "s1", Strategy: "race", Tier: "quick", Status: engine.StatusDecided,
		Winner: "sim/a", Answer: hostile, Error: "", Models: []engine.ModelResult{
			{Attempt: "a1", ID: "sim/a", Status: engine.AttemptWon, Text: hostile},
			{Attempt: "a2", ID: "sim/b", Status: engine.AttemptFailedStatus, Error: "http 500: " + hostile},
		}}
	s := Session{Header: Header{Prompt: "tell me " + hostile, Strategy: "race", Tier: "quick", Recorded: time.Unix(0, 0)},
		Events: []engine.Event{{Type: engine.SessionDone, Session: "s1", Summary: sum}}}
	var md bytes.Buffer
	if err := Markdown(&md, s); err != nil {
		t.Fatal(err)
	}
	out := md.String()
	for _, bad := range []string{"\x1b", "\x07", "\x9b", "\u009b", "]0;", "]52;", "[2J"} {
		if strings.Contains(out, bad) {
			t.Errorf("the report holds %q:\n%q", bad, out)
		}
	}
	// The text around the sequences is kept, in the answer and the model's section.
	if n := strings.Count(out, "safe text and more end"); n < 3 {
		t.Errorf("the text around the sequences appears %d times, want the prompt, answer and model text:\n%s", n, out)
	}
}

// A symbolic link planted where council run --record's log goes is
// refused, never written through; so is a file others may read, which
// a log (prompts and answers) must not be; a new log is 0600.
func TestCreateRefusesLinksAndOpenFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "log.jsonl")
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if f, err := Create(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		if f != nil {
			f.Write([]byte("captured\n"))
			f.Close()
		}
		t.Errorf("Create through a link: err %v, want it refused", err)
	}
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Errorf("the link's target was written: %q", b)
	}

	fresh := filepath.Join(dir, "sub", "new.jsonl")
	f, err := Create(fresh)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o600 {
		t.Errorf("new log mode %04o, want 0600", fi.Mode().Perm())
	}
	// Appending to one's own private log goes on working.
	if f, err = Create(fresh); err != nil {
		t.Errorf("appending to a 0600 log: %v", err)
	} else {
		f.Close()
	}

	open := filepath.Join(dir, "open.jsonl")
	if err := os.WriteFile(open, []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(open, 0o644) // past the umask
	if f, err := Create(open); err == nil || !strings.Contains(err.Error(), "mode 0644") || !strings.Contains(err.Error(), "chmod 600") {
		if f != nil {
			f.Close()
		}
		t.Errorf("Create on a 0644 file: err %v, want it refused, naming the mode and the fix", err)
	}
}

// A log per session is always a new file: a link planted at its name is
// left alone (the log takes the next name), and two sessions of the same
// id in the same second get two files.
func TestCreateNewNeverReusesAName(t *testing.T) {
	dir := t.TempDir()
	at := time.Date(2026, 12, 6, 16, 30, 0, 0, time.UTC)
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	planted := filepath.Join(dir, FileName(at, "s1"))
	if err := os.Symlink(target, planted); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	var names []string
	for range 2 {
		f, err := CreateNew(dir, at, "s1")
		if err != nil {
			t.Fatal(err)
		}
		f.WriteString("{}\n")
		f.Close()
		fi, err := os.Lstat(f.Name())
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want a regular 0600 file", f.Name(), err, fi.Mode())
		}
		names = append(names, filepath.Base(f.Name()))
	}
	want := []string{"20261206-163000-s1-2.jsonl", "20261206-163000-s1-3.jsonl"}
	if !slices.Equal(names, want) {
		t.Errorf("logs %v, want %v", names, want)
	}
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Errorf("the planted link's target was written: %q", b)
	}
	if fi, _ := os.Lstat(planted); fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the planted link was replaced")
	}
}

// Two councils recording into one directory within the same second (on
// the virtual clock, no time passes at all), each with its session s1,
// write two logs, one session each.
func TestRecorderTwoSessionsInOneSecondTwoLogs(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		for range 2 {
			cfg, e := demo(t)
			rec := NewRecorder(cfg, e, Options{Dir: dir, Version: "test"})
			req := engine.SessionRequest{Prompt: "How do database indexes work?", Strategy: config.Race}
			rs := rec.Begin(req)
			if _, err := e.Run(context.Background(), req, rs.Event); err != nil {
				t.Fatal(err)
			}
			if err := rs.End(); err != nil {
				t.Fatal(err)
			}
			e.Close()
		}
	})
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	if len(files) != 2 {
		t.Fatalf("%d logs %v, want 2", len(files), files)
	}
	for _, f := range files {
		ss, err := ReadFile(f)
		if err != nil || len(ss) != 1 || ss[0].Summary() == nil {
			t.Errorf("%s: %d sessions, err %v; want one whole session", f, len(ss), err)
		}
	}
}

// repeatReader is an endless stream of one byte.
type repeatReader byte

func (r repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

// A line over wire.MaxLineBytes (the event stream's cap too) stops the
// read with an error naming the file and the line, having held no more
// than the cap: a 300 MB line once took 968 MB.
func TestReadCapsALine(t *testing.T) {
	header := `{"kind":"council.session","format":1,"strategy":"race","tier":"quick","prompt":"p"}` + "\n"
	long := io.MultiReader(strings.NewReader(header), io.LimitReader(repeatReader('x'), 64<<20), strings.NewReader("\n"))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ss, err := Read(long)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err %v, want ErrLineTooLong at line 2", err)
	}
	if len(ss) != 1 {
		t.Errorf("%d sessions before the long line, want its header's", len(ss))
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 3*wire.MaxLineBytes {
		t.Errorf("reading a 64 MiB line allocated %d MiB; want it stopped near the %d MiB cap", got>>20, wire.MaxLineBytes>>20)
	}

	// Through a file, the error names it.
	path := filepath.Join(t.TempDir(), "big.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(header)
	io.Copy(f, io.LimitReader(repeatReader('x'), wire.MaxLineBytes+1))
	f.WriteString("\n")
	f.Close()
	if _, err := ReadFile(path); !errors.Is(err, ErrLineTooLong) || !strings.Contains(err.Error(), path+": line 2") {
		t.Errorf("ReadFile: %v, want it to name %s and line 2", err, path)
	}
	// A line of exactly the cap is read (as the bad JSON it is here).
	exact := io.MultiReader(strings.NewReader(header), io.LimitReader(repeatReader('x'), wire.MaxLineBytes-1), strings.NewReader("\n"))
	if _, err := Read(exact); errors.Is(err, ErrLineTooLong) || err == nil || !strings.Contains(err.Error(), "line 2: not a JSON object") {
		t.Errorf("a line of exactly the cap: %v, want it read (and refused as JSON)", err)
	}
}
