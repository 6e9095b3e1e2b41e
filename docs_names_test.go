package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// repoFiles is every file of the repository (but .git and .cache), by
// its slash path.
func repoFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != "." && (strings.HasPrefix(d.Name(), ".") && d.Name() != ".ci" || d.Name() == "node_modules"):
			return filepath.SkipDir
		case !d.IsDir():
			files = append(files, filepath.ToSlash(path))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// testFuncFiles is every Test, Benchmark and Fuzz function of the
// repository, with the test files that declare it.
func testFuncFiles(t *testing.T, files []string) map[string][]string {
	t.Helper()
	decl := regexp.MustCompile(`(?m)^func ((?:Test|Benchmark|Fuzz)\w*)\(`)
	funcs := map[string][]string{}
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(b), -1) {
			funcs[m[1]] = append(funcs[m[1]], f)
		}
	}
	return funcs
}

// testFuncs is every Test, Benchmark and Fuzz function of the
// repository, with the packages (directories) that have it.
func testFuncs(t *testing.T, files []string) map[string][]string {
	t.Helper()
	funcs := testFuncFiles(t, files)
	for name, fs := range funcs {
		for i, f := range fs {
			fs[i] = filepath.ToSlash(filepath.Dir(f))
		}
		funcs[name] = fs
	}
	return funcs
}

func makeTargets(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, m := range regexp.MustCompile(`(?m)^([a-z][\w-]*):`).FindAllStringSubmatch(string(b), -1) {
		targets = append(targets, m[1])
	}
	return targets
}

var (
	// docFunc is a test or benchmark the docs name, maybe with a
	// subtest and the GOMAXPROCS suffix (BenchmarkBigAnswers/watchers=0-2),
	// and the package a table names beside it ("`BenchmarkRace8` (engine)").
	docFunc = regexp.MustCompile("\\b((?:Test|Benchmark|Fuzz)[A-Z0-9]\\w*)(?:/\\S*)?(?:`? \\(((?:engine|ui|providers|themes)[\\w/]*)\\))?")
	// docGoTest is a go test command the docs show.
	docGoTest = regexp.MustCompile(`go test ((?:[^` + "`" + `\n#&|;)])*)`)
	// docMake is a make target the docs name.
	docMake = regexp.MustCompile("(?:^\\s*|`)make ([a-z][\\w-]*)")
	// docPath is a path in the repository the docs name in code.
	docPath = regexp.MustCompile(`^(?:\./)?((?:engine|providers|ui|themes|testdata|\.ci|docs)(?:/[\w.*-]+)*/?|[\w-]+\.go)$`)
)

// TestDocNamesExist: every test, benchmark and fuzz target the docs
// name exists (in the package a table names beside it), every go test
// command they show selects a function of the packages it names, every
// make target they name is in the Makefile, and every path of the
// repository they name in code exists. So a figure's source, or what
// reproduces it, cannot be renamed away under the page that quotes it.
func TestDocNamesExist(t *testing.T) {
	files := repoFiles(t)
	funcs := testFuncs(t, files)
	targets := makeTargets(t)
	exists := func(p string) bool {
		p = strings.TrimSuffix(strings.TrimSuffix(p, "/..."), "/")
		for _, f := range files {
			if f == p || strings.HasPrefix(f, p+"/") || strings.HasSuffix(f, "/"+p) || strings.Contains(f, "/"+p+"/") {
				return true
			}
			// A pattern (providers/*/testdata) matches a file or a
			// directory above one.
			parts := strings.Split(f, "/")
			for i := range parts {
				if ok, _ := filepath.Match(p, strings.Join(parts[:i+1], "/")); ok {
					return true
				}
			}
		}
		return false
	}
	n := map[string]int{}
	for _, page := range docPages(t) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(raw), "\n") {
			where := page + ":" + strconv.Itoa(i+1)
			for _, m := range docFunc.FindAllStringSubmatch(l, -1) {
				n["func"]++
				pkgs, ok := funcs[m[1]]
				switch {
				case !ok:
					t.Errorf("%s: %s is no test, benchmark or fuzz target of the repository", where, m[1])
				case m[2] != "" && !slices.Contains(pkgs, m[2]):
					t.Errorf("%s: %s is not in %s (it is in %v)", where, m[1], m[2], pkgs)
				}
			}
			for _, m := range docGoTest.FindAllStringSubmatch(l, -1) {
				n["go test"]++
				checkGoTest(t, where, m[1], funcs)
			}
			for _, m := range docMake.FindAllStringSubmatch(l, -1) {
				n["make"]++
				if !slices.Contains(targets, m[1]) {
					t.Errorf("%s: make %s: the Makefile has no such target", where, m[1])
				}
			}
			var code []string
			if strings.HasPrefix(l, "    ") {
				code = append(code, l)
			}
			for _, m := range inlineCode.FindAllStringSubmatch(l, -1) {
				code = append(code, m[1])
			}
			for _, c := range code {
				for _, w := range strings.Fields(c) {
					w = strings.Trim(w, "(),:;'\"")
					if m := docPath.FindStringSubmatch(w); m != nil && !strings.Contains(w, "NAME") {
						n["path"]++
						if !exists(m[1]) {
							t.Errorf("%s: %s: no such file or directory in the repository", where, w)
						}
					}
				}
			}
		}
	}
	for _, kind := range []string{"func", "go test", "make", "path"} {
		if n[kind] < 5 {
			t.Errorf("found %d %s names in the docs; they were not found", n[kind], kind)
		}
	}
}

// checkGoTest checks a go test command of the docs: its -run, -bench and
// -fuzz patterns each select a function of the packages it names.
func checkGoTest(t *testing.T, where, args string, funcs map[string][]string) {
	t.Helper()
	words := shellWords(args)
	var pkgs []string
	patterns := map[string]string{} // prefix -> pattern
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch {
		case (w == "-run" || w == "-bench" || w == "-fuzz") && i+1 < len(words):
			patterns[map[string]string{"-run": "Test", "-bench": "Benchmark", "-fuzz": "Fuzz"}[w]] = words[i+1]
			i++
		case strings.HasPrefix(w, "-") && !strings.Contains(w, "="):
			if slices.Contains([]string{"-benchtime", "-timeout", "-count", "-fuzztime", "-cpuprofile", "-run"}, w) {
				i++
			}
		case strings.HasPrefix(w, "./") || w == ".":
			pkgs = append(pkgs, strings.TrimPrefix(w, "./"))
		}
	}
	if len(pkgs) == 0 {
		pkgs = []string{"."}
	}
	for prefix, p := range patterns {
		if p == "^$" || p == "." {
			continue
		}
		re, err := regexp.Compile(p)
		if err != nil {
			t.Errorf("%s: go test %s: %q: %v", where, args, p, err)
			continue
		}
		found := false
		for name, dirs := range funcs {
			if !strings.HasPrefix(name, prefix) || !re.MatchString(name) {
				continue
			}
			for _, d := range dirs {
				for _, pkg := range pkgs {
					if base, ok := strings.CutSuffix(pkg, "/..."); ok && (d == base || strings.HasPrefix(d, base+"/")) || d == pkg {
						found = true
					}
				}
			}
		}
		if !found {
			t.Errorf("%s: go test %s: %s selects no %s function in %v", where, args, p, prefix, pkgs)
		}
	}
}

var (
	// figure is a measured quantity: a time, a size, a share, a rate.
	figure = regexp.MustCompile(`\d(?:[.,]\d+)? ?(?:µs|ms|s|MB|MiB|KB|GB|%|×|/s)(?:\W|$)`)
	// reproduces names what measures a figure: a make target, a go test
	// or council bench command, a test or benchmark.
	reproduces = regexp.MustCompile("`make (?:bench|soak|test)`|make (?:bench|soak)|go test |council bench |\\b(?:Test|Benchmark)[A-Z]\\w*")
)

// TestDocFiguresSayHowToReproduce: every table and every block of output
// in the docs that shows measured figures (times, sizes, shares) says,
// in it or in the paragraph before it, what measures them:
// the make target, the go test or council bench command, or the test or
// benchmark, whose existence TestDocNamesExist checks. (A block of $
// commands shows their output, which their scripts produce.)
func TestDocFiguresSayHowToReproduce(t *testing.T) {
	blocks := 0
	for _, page := range docPages(t) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		since := 0 // the first line after the last heading
		for i := 0; i < len(lines); i++ {
			l := lines[i]
			if strings.HasPrefix(l, "#") {
				since = i + 1
				continue
			}
			isTable := strings.HasPrefix(l, "|")
			// An indented block starts after a blank line (an indented
			// line after text continues a list item).
			isOutput := strings.HasPrefix(l, "    ") && i > 0 && strings.TrimSpace(lines[i-1]) == ""
			if strings.HasPrefix(l, "```") {
				// A fenced block: a capture (its golden test is named
				// before it) or a config or a command.
				j := i + 1
				for j < len(lines) && !strings.HasPrefix(lines[j], "```") {
					j++
				}
				i = j
				continue
			}
			if !isTable && !isOutput {
				continue
			}
			j := i
			for j < len(lines) && (isTable && strings.HasPrefix(lines[j], "|") || isOutput && (strings.HasPrefix(lines[j], "    ") || strings.TrimSpace(lines[j]) == "" && j+1 < len(lines) && strings.HasPrefix(lines[j+1], "    "))) {
				j++
			}
			block := strings.Join(lines[i:j], "\n")
			// The paragraph before it, and it.
			k := i - 1
			for k > since && strings.TrimSpace(lines[k]) == "" {
				k--
			}
			for k > since && strings.TrimSpace(lines[k-1]) != "" {
				k--
			}
			context := strings.Join(lines[k:j], "\n")
			// A block of $ commands shows their output, which their
			// scripts produce (TestDocExamples).
			commands := isOutput && strings.HasPrefix(strings.TrimSpace(l), "$ ")
			if figure.MatchString(block) && !commands {
				blocks++
				if !reproduces.MatchString(context) {
					t.Errorf("%s:%d: a %s of figures, and nothing in it or in the paragraph before it says what measures them (a make target, a go test or council bench command, a test or benchmark):\n%s",
						page, i+1, map[bool]string{true: "table", false: "block"}[isTable], block)
				}
			}
			i = j
		}
	}
	if blocks < 8 {
		t.Errorf("found %d tables and blocks of figures in the docs; they were not found", blocks)
	}
}

// TestDocBenchmarkMetrics: a benchmark's output line the docs show
// (BenchmarkBigAnswers/watchers=0-2   20   192 ms/op   4.000 answer-MiB
// ...) and a metric a table names beside a benchmark ((`x-bare`)) use
// only the units the benchmarks report: the testing package's (the time
// per op in any unit of time, B/op, allocs/op, MB/s) and those a
// benchmark gives b.ReportMetric.
func TestDocBenchmarkMetrics(t *testing.T) {
	units := map[string]bool{"ns/op": true, "µs/op": true, "ms/op": true, "s/op": true, "B/op": true, "allocs/op": true, "MB/s": true}
	reported := regexp.MustCompile(`ReportMetric\([^\n]*,\s*(?:\w+\s*\+\s*)?"([^"]+)"\)`)
	for _, f := range repoFiles(t) {
		if !strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range reported.FindAllStringSubmatch(string(b), -1) {
			units[m[1]] = true
		}
	}
	outputLine := regexp.MustCompile(`^\s+Benchmark\S+-\d+\s+\d+\s+(.*)$`)
	named := regexp.MustCompile("Benchmark\\w+.*\\(`([a-z][\\w-]*)`\\)")
	n := 0
	for _, page := range docPages(t) {
		for i, l := range strings.Split(readDoc(t, page), "\n") {
			where := page + ":" + strconv.Itoa(i+1)
			if m := outputLine.FindStringSubmatch(l); m != nil {
				f := strings.Fields(m[1])
				for j := 1; j < len(f); j += 2 {
					n++
					if !units[f[j]] {
						t.Errorf("%s: the benchmark output shows %s %s; no benchmark reports %q", where, f[j-1], f[j], f[j])
					}
				}
			}
			for _, m := range named.FindAllStringSubmatch(l, -1) {
				n++
				if !units[m[1]] {
					t.Errorf("%s: %q is named beside a benchmark, but no benchmark reports it", where, m[1])
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("found %d benchmark metrics in the docs; they were not found", n)
	}
}

// TestDocEnvVars: every COUNCIL_* variable the docs name is read by the
// code, named by a config or script the repository has, or set by the
// Makefile: a variable renamed cannot stay in a page.
func TestDocEnvVars(t *testing.T) {
	var sources strings.Builder
	for _, f := range repoFiles(t) {
		if strings.HasSuffix(f, ".go") || strings.HasSuffix(f, ".toml") || strings.HasSuffix(f, ".txtar") || strings.HasSuffix(f, ".sh") || f == "Makefile" {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sources.Write(b)
		}
	}
	src := sources.String()
	n := 0
	for _, page := range docPages(t) {
		for i, l := range strings.Split(readDoc(t, page), "\n") {
			for _, v := range regexp.MustCompile(`\bCOUNCIL_[A-Z_]+\b`).FindAllString(l, -1) {
				n++
				if !strings.Contains(src, v) {
					t.Errorf("%s:%d: %s is a variable nothing in the repository reads or names", page, i+1, v)
				}
			}
		}
	}
	if n < 5 {
		t.Errorf("found %d COUNCIL_ variables in the docs; they were not found", n)
	}
}
