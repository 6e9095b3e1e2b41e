package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocSmokeBlocks: the commands the docs show without a $ because they
// need a terminal or run until stopped (council watch, a request loop) are
// run by the tmux smoke test, which reads them from the page: each sits
// under a <!-- smoke: NAME --> marker, .ci/smoke.sh asks for every NAME
// with doc_lines (and for no other), and no council watch line with a URL
// is shown outside such a block.
func TestDocSmokeBlocks(t *testing.T) {
	raw, err := os.ReadFile(".ci/smoke.sh")
	if err != nil {
		t.Fatal(err)
	}
	asked := map[string]bool{}
	for _, m := range regexp.MustCompile(`doc_lines ([a-z-]+)\)`).FindAllStringSubmatch(string(raw), -1) {
		asked[m[1]] = true
	}
	if len(asked) == 0 {
		t.Fatal(".ci/smoke.sh reads no block of the docs (doc_lines NAME)")
	}
	// doc_lines reads docs/serve-and-watch.md.
	if !strings.Contains(string(raw), `"$ROOT/docs/serve-and-watch.md"`) {
		t.Fatal("doc_lines no longer reads docs/serve-and-watch.md: change this test with it")
	}
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	marker := regexp.MustCompile(`^<!-- smoke: ([a-z-]+) `)
	watchLine := regexp.MustCompile(`^    ([A-Z_]+=\S+ )*council watch .*https?://`)
	found := map[string]bool{}
	for _, page := range append([]string{"README.md"}, pages...) {
		lines := strings.Split(readDoc(t, page), "\n")
		block := ""
		for i, l := range lines {
			if m := marker.FindStringSubmatch(l); m != nil {
				if page != "docs/serve-and-watch.md" {
					t.Errorf("%s:%d: a smoke block outside docs/serve-and-watch.md, which doc_lines does not read", page, i+1)
				}
				if found[m[1]] {
					t.Errorf("%s:%d: a second smoke block %q", page, i+1, m[1])
				}
				found[m[1]] = true
				if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "    ") {
					t.Errorf("%s:%d: smoke block %q: no indented lines under the marker", page, i+1, m[1])
				}
				if !asked[m[1]] {
					t.Errorf("%s:%d: smoke block %q: .ci/smoke.sh never runs it (doc_lines %s)", page, i+1, m[1], m[1])
				}
				block = m[1]
				continue
			}
			if !strings.HasPrefix(l, "    ") {
				block = ""
				continue
			}
			if watchLine.MatchString(l) && block == "" {
				t.Errorf("%s:%d: %q is shown but not run: put it in a smoke block (<!-- smoke: NAME -->) that .ci/smoke.sh runs", page, i+1, strings.TrimSpace(l))
			}
		}
	}
	for name := range asked {
		if !found[name] {
			t.Errorf(".ci/smoke.sh runs the smoke block %q, which no page has", name)
		}
	}
	if !found["watch-traffic"] {
		t.Error("the watch-traffic block (to see it on traffic) is gone")
	}
}
