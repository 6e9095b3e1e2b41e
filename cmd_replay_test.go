package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/engine/wire"
)

// A session recorded by `council run --record` replays, with `council
// replay --json`, to the very summary `council run --json` printed; the
// log is private and holds no key.
func TestRecordThenReplay(t *testing.T) {
	dir := t.TempDir()
	log := dir + "/s.jsonl"
	cfgPath := dir + "/council.toml"
	const key = "sk-known-fake-key-0123456789abcdef"
	cfg := strings.Replace(string(mustRead(t, "testdata/fast.toml")), "[providers.sim]", "[providers.openai]\nkind = \"openai\"\napi_key = \""+key+"\"\n\n[providers.sim]", 1)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var printed string
	synctest.Test(t, func(t *testing.T) {
		out, errOut, code := council(t, nil, "run", "--config", cfgPath, "--json", "--repeat", "3", "--record", log, "--seed", "2", "--strategy", "consensus", "I was charged twice")
		if code != 0 {
			t.Fatalf("run: exit %d: %s", code, errOut)
		}
		printed = out
	})
	out, errOut, code := council(t, nil, "replay", "--json", log)
	if code != 0 || out != printed {
		t.Errorf("replay --json: exit %d %s\n%s\nwant what run printed:\n%s", code, errOut, out, printed)
	}
	data := string(mustRead(t, log))
	if strings.Contains(data, key) {
		t.Errorf("the API key is in the log")
	}
	if strings.Count(data, `"kind":"council.session"`) != 3 {
		t.Errorf("want 3 session headers in the log")
	}
	if fi, _ := os.Stat(log); fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v, want 0600", fi.Mode().Perm())
	}
	md, _, code := council(t, nil, "replay", "--markdown", log)
	if code != 0 || strings.Count(md, "# council session:") != 3 || !strings.Contains(md, "## Votes") {
		t.Errorf("replay --markdown: exit %d\n%s", code, md)
	}
	// Cut the log in the middle of its last line: the sessions before it
	// still replay, with a warning naming where it ends.
	cut := strings.LastIndex(data, `"type":"session_done"`) + 20
	if err := os.WriteFile(log, []byte(data[:cut]), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = council(t, nil, "replay", "--json", log)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(errOut, "ends early at line") {
		t.Errorf("cut log: exit %d, %d summaries, stderr %q", code, strings.Count(out, "\n"), errOut)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// council replay --markdown writes a recorded answer without its escape
// sequences (a title, the clipboard, a cleared screen), and a line over
// the cap is refused, naming the file and the line.
func TestReplayMarkdownIsSafeAndLinesAreCapped(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "s.jsonl")
	hostile := "fine\x1b]0;pwned\x07\x1b]52;c;ZXZpbA==\x07\x1b[2J answer"
	var b bytes.Buffer
	w := record.NewWriter(&b)
	w.Header(record.Header{Kind: "council.session", Format: record.Format, Strategy: "race", Tier: "quick", Prompt: "p"})
	w.Event(engine.Event{Type: engine.SessionDone, Session: "s1", Summary: &engine.Summary{Session: "s1", Strategy: "race",
		Tier: "quick", Status: engine.StatusDecided, Answer: hostile,
		Models: []engine.ModelResult{{Attempt: "a1", ID: "sim/a", Status: engine.AttemptWon, Text: hostile}}}})
	if err := os.WriteFile(log, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	md, errOut, code := council(t, nil, "replay", "--markdown", log)
	if code != 0 || strings.ContainsAny(md, "\x1b\x07") || strings.Count(md, "fine answer") != 2 {
		t.Errorf("replay --markdown: exit %d %s\n%q", code, errOut, md)
	}

	long := filepath.Join(dir, "long.jsonl")
	b.Reset()
	w = record.NewWriter(&b)
	w.Header(record.Header{Kind: "council.session", Format: record.Format, Strategy: "race", Tier: "quick", Prompt: "p"})
	b.WriteString(`{"type":"delta","text":"` + strings.Repeat("x", wire.MaxLineBytes) + "\"}\n")
	if err := os.WriteFile(long, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = council(t, nil, "replay", "--json", long)
	if code != 1 || !strings.Contains(errOut, long+": line 2") || !strings.Contains(errOut, "over 16 MiB") {
		t.Errorf("replay of an overlong line: exit %d, stderr %q", code, errOut)
	}
}

// council run --record refuses to write its log through a symbolic link
// planted at its path: the session runs, the recording fails, exit 1.
func TestRunRecordRefusesALink(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "elsewhere"), filepath.Join(dir, "s.jsonl")
	os.WriteFile(target, nil, 0o600)
	if err := os.Symlink(target, link); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	synctest.Test(t, func(t *testing.T) {
		_, errOut, code := council(t, nil, "run", "--config", "testdata/fast.toml", "--seed", "1", "--record", link, "hi")
		if code != 1 || !strings.Contains(errOut, "recording: ") || !strings.Contains(errOut, "symbolic link") {
			t.Errorf("exit %d, stderr %q; want 1 and the link refused", code, errOut)
		}
	})
	if b, _ := os.ReadFile(target); len(b) != 0 {
		t.Errorf("the session was written through the link: %d bytes", len(b))
	}
}

// council replay --help is like every other command's: the usage on
// stdout with double-dash flags and examples, exit 0; a bad flag is named
// and followed by the usage on stderr, exit 2.
func TestReplayHelpIsLikeTheOthers(t *testing.T) {
	out, errOut, code := council(t, nil, "replay", "--help")
	if code != 0 || errOut != "" {
		t.Errorf("replay --help: exit %d stderr %q, want 0 and nothing", code, errOut)
	}
	for _, want := range []string{"usage: council replay [flags] FILE", "flags:", "--speed N", "--step", "--json", "--markdown", "--theme", "examples:", "Exit status"} {
		if !strings.Contains(out, want) {
			t.Errorf("replay --help has no %q:\n%s", want, out)
		}
	}
	if regexp.MustCompile(`(^|\s)-[a-z]{2,}`).MatchString(out) {
		t.Errorf("a single-dash long flag in:\n%s", out)
	}
	out, errOut, code = council(t, nil, "replay", "--bogus", "x.jsonl")
	if code != exitUsage || out != "" || !strings.Contains(errOut, "--bogus") || !strings.Contains(errOut, "usage: council replay") {
		t.Errorf("replay --bogus: exit %d stdout %q stderr %q, want 2, the flag named and the usage", code, out, errOut)
	}
	_, errOut, code = council(t, nil, "replay")
	if code != exitUsage || !strings.Contains(errOut, "council replay needs a log") {
		t.Errorf("replay without a file: exit %d stderr %q", code, errOut)
	}
}
