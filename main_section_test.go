package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine/config"
)

func TestRunSectionJSON(t *testing.T) {
	sum := runJSON(t, "--strategy", "section", "--input", "testdata/contract.md", "Summarise each clause")
	if sum["strategy"] != "section" || sum["answer"] == "" {
		t.Fatalf("strategy %v answer %.60q", sum["strategy"], sum["answer"])
	}
	secs, _ := sum["sections"].([]any)
	if len(secs) != 9 {
		t.Fatalf("%d sections, want the contract's 9", len(secs))
	}
	for _, k := range []string{"title", "model", "status", "elapsed_ms"} {
		if _, ok := secs[0].(map[string]any)[k]; !ok {
			t.Errorf("a section has no %q: %v", k, secs[0])
		}
	}
	voted := 0
	for _, s := range secs {
		if v, _ := s.(map[string]any)["votes"].([]any); len(v) == 3 {
			voted++
		}
	}
	if voted == 0 {
		t.Errorf("no section was voted on; the demo's vote_when matches the liability clauses")
	}
	if m, _ := sum["merge"].(map[string]any); m["mode"] != "concat" {
		t.Errorf("merge %v", sum["merge"])
	}
	if saved, _ := sum["saved_ms"].(float64); saved <= 0 {
		t.Errorf("saved_ms %v: nine sections at once should save time", sum["saved_ms"])
	}
}

// --input - reads the document from stdin; the instruction is the argument.
func TestRunSectionFromStdin(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errb bytes.Buffer
		doc := "# A\nFirst part.\n\n# B\nSecond part.\n"
		code := realMain(context.Background(), []string{"run", "--strategy", "section", "--input", "-", "--json", "--seed", "3", "Summarise"},
			strings.NewReader(doc), &out, &errb, func(k string) string {
				if k == "HOME" {
					return t.TempDir()
				}
				return ""
			})
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		var sum struct {
			Sections []struct{ Title string }
		}
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil || len(sum.Sections) != 2 || sum.Sections[1].Title != "B" {
			t.Fatalf("sections %+v (%v)", sum.Sections, err)
		}
	})
}

func TestRunSectionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--strategy", "section", "x"}, "needs a document"},
		{[]string{"run", "--strategy", "section", "--input", "testdata/nope.md", "x"}, "no such file"},
		{[]string{"run", "--input", "testdata/contract.md", "x"}, "--input is a document for --strategy section"},
		{[]string{"run", "--strategy", "section", "--input", "testdata/contract.md"}, "no instruction"},
	} {
		_, errOut, code := council(t, nil, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d stderr %q, want usage with %q", tc.args, code, errOut, tc.want)
		}
	}
}

// A document that splits into more than max_sections is refused, saying
// what to change.
func TestRunSectionTooManySections(t *testing.T) {
	cfg := strings.Replace(string(config.DemoTOML()), "max_sections = 40", "max_sections = 3", 1)
	path := filepath.Join(t.TempDir(), "council.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := council(t, nil, "run", "--config", path, "--strategy", "section", "--input", "testdata/contract.md", "x")
	if code != exitUsage || !strings.Contains(errOut, "9 sections, over section.max_sections (3)") {
		t.Errorf("exit %d stderr %q", code, errOut)
	}
}

// session_started names the document a section session splits (and says
// the rest of what the session was asked), as --events prints it.
func TestRunSectionEventsNameTheInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out, errb bytes.Buffer
		code := realMain(context.Background(), []string{"run", "--strategy", "section", "--input", "testdata/contract.md", "--events", "--seed", "3",
			"--max-tokens", "200", "Summarise each clause"}, strings.NewReader(""), &out, &errb, func(k string) string {
			if k == "HOME" {
				return t.TempDir()
			}
			return ""
		})
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		first, _, _ := strings.Cut(out.String(), "\n")
		var ev map[string]any
		if err := json.Unmarshal([]byte(first), &ev); err != nil {
			t.Fatal(err)
		}
		if ev["type"] != "session_started" || ev["input"] != "testdata/contract.md" || ev["strategy"] != "section" ||
			ev["text"] != "Summarise each clause" || ev["max_tokens"] != 200.0 || ev["turn"] != 1.0 {
			t.Errorf("first event %s, want session_started naming the input, strategy section, 200 tokens, turn 1", first)
		}
	})
}
