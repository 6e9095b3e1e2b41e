package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// readDoc returns a page of the docs.
func readDoc(t *testing.T, page string) string {
	t.Helper()
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sourceText is the non-test Go source of a package directory.
func sourceText(t *testing.T, dir string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(src)
	}
	return b.String()
}

// TestDocInstallPath: the README's go install names the module go.mod
// declares.
func TestDocInstallPath(t *testing.T) {
	mod := regexp.MustCompile(`(?m)^module (\S+)$`).FindStringSubmatch(readDoc(t, "go.mod"))
	if mod == nil {
		t.Fatal("go.mod has no module line")
	}
	m := regexp.MustCompile(`go install (\S+)@latest`).FindAllStringSubmatch(readDoc(t, "README.md"), -1)
	if len(m) == 0 {
		t.Fatal("README.md shows no go install ...@latest")
	}
	for _, i := range m {
		if i[1] != mod[1] {
			t.Errorf("README.md: go install %s@latest, but the module is %s", i[1], mod[1])
		}
	}
}

// TestDocSoakTable: docs/reliability.md's soak table has the header
// TestSoak (make soak) prints, and a row for each strategy it runs, in
// its order.
func TestDocSoakTable(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "engine/soak_test.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	header := ""
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) < 2 {
			return true
		}
		if sel, ok := call.Fun.(*ast.SelectorExpr); !ok || sel.Sel.Name != "Logf" {
			return true
		}
		var args []any
		for _, a := range call.Args {
			lit, ok := a.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, _ := strconv.Unquote(lit.Value)
			args = append(args, s)
		}
		if header == "" && slices.Contains(args[1:], any("strategy")) {
			header = fmt.Sprintf(args[0].(string), args[1:]...)
		}
		return true
	})
	if header == "" {
		t.Fatal("engine/soak_test.go logs no header of string columns (t.Logf(FORMAT, \"strategy\", ...))")
	}
	doc := readDoc(t, "docs/reliability.md")
	i := strings.Index(doc, "\n    "+header+"\n")
	if i < 0 {
		t.Fatalf("docs/reliability.md has no soak table under TestSoak's header:\n    %s", header)
	}
	var rows []string
	for _, l := range strings.Split(doc[i+len(header)+6:], "\n") {
		if !strings.HasPrefix(l, "    ") {
			break
		}
		rows = append(rows, strings.Fields(l)[0])
	}
	var want []string
	for _, s := range append(slices.Clone(config.Strategies), config.Section) {
		want = append(want, string(s))
	}
	if !slices.Equal(rows, want) {
		t.Errorf("the soak table's rows are %v; make soak runs %v", rows, want)
	}
}

// TestDocReviewPrompt: the ranking docs/strategies.md says a reviewer is
// shown is in the prompt reviewers are given.
func TestDocReviewPrompt(t *testing.T) {
	doc := readDoc(t, "docs/strategies.md")
	m := regexp.MustCompile(`\n\n((?: {9}.*\n)+)\n`).FindAllStringSubmatch(doc, -1)
	var shown []string
	for _, b := range m {
		if strings.Contains(b[1], "FINAL RANKING") {
			for _, l := range strings.Split(strings.TrimRight(b[1], "\n"), "\n") {
				shown = append(shown, strings.TrimSpace(l))
			}
		}
	}
	if len(shown) < 2 {
		t.Fatal("docs/strategies.md shows no FINAL RANKING block")
	}
	if src := sourceText(t, "engine"); !strings.Contains(src, strings.Join(shown, "\n")) {
		t.Errorf("the reviewers' prompt (engine) does not ask for the ranking docs/strategies.md shows:\n%s", strings.Join(shown, "\n"))
	}
}

// TestDocMetrics: every council_* metric docs/serve-and-watch.md names is
// one council serve exports.
func TestDocMetrics(t *testing.T) {
	src := sourceText(t, "engine/serve")
	n := 0
	for _, m := range regexp.MustCompile("`(council_[a-z_]+)").FindAllStringSubmatch(readDoc(t, "docs/serve-and-watch.md"), -1) {
		n++
		if !strings.Contains(src, `"`+m[1]+`"`) {
			t.Errorf("docs/serve-and-watch.md names the metric %s, which council serve does not export", m[1])
		}
	}
	if n < 10 {
		t.Errorf("found %d metrics in docs/serve-and-watch.md; they were not found", n)
	}
}

// TestDocServeErrors: every error type and code docs/serve-and-watch.md
// names in its table of statuses is one council serve answers with.
func TestDocServeErrors(t *testing.T) {
	src := sourceText(t, "engine/serve")
	doc := readDoc(t, "docs/serve-and-watch.md")
	i := strings.Index(doc, "| status | when |")
	if i < 0 {
		t.Fatal("docs/serve-and-watch.md has no table of statuses (| status | when |)")
	}
	n := 0
	for _, l := range strings.Split(doc[i:], "\n")[2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		for _, m := range regexp.MustCompile("`([a-z]+_[a-z_]+|overloaded)`").FindAllStringSubmatch(l, -1) {
			n++
			if !strings.Contains(src, `"`+m[1]+`"`) {
				t.Errorf("the table of statuses names %s, which council serve never answers", m[1])
			}
		}
	}
	if n < 6 {
		t.Errorf("found %d error codes in the table of statuses; they were not found", n)
	}
}

// TestDocEvents: docs/json-and-events.md's Events section names every
// event type the engine sends, and its lists of failure kinds and of
// cancel and skip reasons are exactly the engine's.
func TestDocEvents(t *testing.T) {
	doc := readDoc(t, "docs/json-and-events.md")
	i := strings.Index(doc, "### Events")
	if i < 0 {
		t.Fatal("docs/json-and-events.md has no ### Events section")
	}
	events := doc[i:]
	word := regexp.MustCompile(`^[a-z_]+$`)
	for ty := engine.EventType(1); ty < 255; ty++ {
		if name := ty.String(); word.MatchString(name) && !strings.Contains(events, "`"+name+"`") {
			t.Errorf("the Events section does not name the event %s", name)
		}
	}
	list := func(key string) []string {
		var out []string
		for _, m := range regexp.MustCompile("`"+key+"`: ([a-z_,\\s]+)\\)").FindAllStringSubmatch(events, -1) {
			for _, w := range strings.Split(m[1], ",") {
				out = append(out, strings.TrimSpace(w))
			}
		}
		slices.Sort(out)
		return out
	}
	var kinds []string
	for k := providers.Kind(0); k < 255; k++ {
		if name := k.String(); word.MatchString(name) {
			kinds = append(kinds, name)
		}
	}
	slices.Sort(kinds)
	if got := list("kind"); !slices.Equal(got, kinds) {
		t.Errorf("the Events section lists the kinds %v; the providers' are %v", got, kinds)
	}
	var reasons []string
	for _, m := range regexp.MustCompile(`Reason\s*=\s*"([a-z_]+)"`).FindAllStringSubmatch(sourceText(t, "engine"), -1) {
		reasons = append(reasons, m[1])
	}
	slices.Sort(reasons)
	if got := list("reason"); !slices.Equal(got, reasons) || len(reasons) < 10 {
		t.Errorf("the Events section lists the reasons %v; the engine's are %v", got, reasons)
	}
}

// TestDocBenchJSON: the paragraph of docs/bench.md on --json names every
// key council bench --json writes, and only those.
func TestDocBenchJSON(t *testing.T) {
	tags := map[string]bool{}
	for _, m := range regexp.MustCompile(`json:"([a-z0-9_]+)`).FindAllStringSubmatch(sourceText(t, "engine/bench"), -1) {
		tags[m[1]] = true
	}
	doc := readDoc(t, "docs/bench.md")
	i := strings.Index(doc, "`--json` is one object")
	if i < 0 {
		t.Fatal("docs/bench.md has no paragraph on --json (`--json` is one object ...)")
	}
	para, _, _ := strings.Cut(doc[i:], "\n\n")
	para, _, _ = strings.Cut(para, "`--csv`")
	values := []string{"virtual", "real"} // the clock's values
	named := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z0-9_]+)`").FindAllStringSubmatch(para, -1) {
		if slices.Contains(values, m[1]) {
			continue
		}
		named[m[1]] = true
		if !tags[m[1]] {
			t.Errorf("docs/bench.md's --json paragraph names %q, which council bench --json does not write", m[1])
		}
	}
	// A cap's stop is said where the caps are.
	named["stopped"] = strings.Contains(doc, "`stopped`")
	for tag := range tags {
		if !named[tag] {
			t.Errorf("council bench --json writes %q, which docs/bench.md does not name", tag)
		}
	}
}
