package ui

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// A capture in the docs: the golden file it is copied from, then a text
// block, then the end marker. make docs rewrites the block from the golden.
var docCapture = regexp.MustCompile("(?s)(<!-- capture (Test\\w+): [^\n]*-->\n```text\n)(.*?)(```\n<!-- end of capture -->)")

// docPages is README.md and every page of docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../README.md"}, pages...)
}

// TestDocCaptures: every terminal capture in README.md and docs/ is its
// golden's text (ui/testdata/NAME.golden, the final frame of that golden
// test), so a capture cannot drift from what the dashboard draws. With
// -update (make docs) the captures are rewritten from the goldens.
func TestDocCaptures(t *testing.T) {
	update := false
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		update = true
	}
	found := 0
	for _, page := range docPages(t) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		doc := string(raw)
		var problems []string
		out := docCapture.ReplaceAllStringFunc(doc, func(block string) string {
			found++
			m := docCapture.FindStringSubmatch(block)
			g, err := os.ReadFile(filepath.Join("testdata", m[2]+".golden"))
			if err != nil {
				problems = append(problems, page+": capture "+m[2]+" has no golden: "+err.Error())
				return block
			}
			want := strings.TrimRight(string(g), "\n") + "\n"
			if m[3] != want {
				problems = append(problems, page+": capture "+m[2]+" differs from testdata/"+m[2]+".golden (make docs)")
			}
			return m[1] + want + m[4]
		})
		if update && out != doc {
			if err := os.WriteFile(page, []byte(out), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, p := range problems {
			t.Error(p)
		}
	}
	if found == 0 {
		t.Fatal("no captures found in README.md and docs/: the markers changed?")
	}
}

// TestDocTextBlocksAreCaptures: a terminal capture that no golden
// produces cannot be kept true, so every ```text block in the docs sits
// between capture markers.
func TestDocTextBlocksAreCaptures(t *testing.T) {
	for _, page := range docPages(t) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		doc := docCapture.ReplaceAllString(string(raw), "")
		if n := strings.Count(doc, "```text\n"); n > 0 {
			t.Errorf("%s: %d ```text block(s) outside capture markers: add a golden test for each and mark it (<!-- capture TestGoldenX: ... -->), or drop it", page, n)
		}
	}
}
