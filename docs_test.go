package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"
)

// TestScripts runs testdata/script/*.txtar: the commands the README and
// docs/ show, run as a user would on the demo council (no config, no API
// key) with fixed seeds. TestDocExamples checks that the docs show what
// these scripts assert.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			// No config and no key: the demo council, as on a first run.
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			// Free ports for council serve (PORT, and PORT2 and PORT3 for
			// a fleet's other replicas) and for a redis-server
			// (REDIS_PORT), so scripts never meet a server already on
			// 8484. All are held until each is chosen, so they differ.
			for _, name := range []string{"PORT", "PORT2", "PORT3", "REDIS_PORT"} {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				defer ln.Close()
				env.Setenv(name, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
			}
			// The repository, for the files the docs' commands name
			// (testdata/bench/*.toml).
			repo, err := os.Getwd()
			if err != nil {
				return err
			}
			env.Setenv("REPO", repo)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// waitport ADDR: until a server listens on ADDR (a
			// background council serve getting ready), at most 30 s.
			"waitport": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) != 1 {
					ts.Fatalf("usage: waitport ADDR")
				}
				for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
					c, err := net.Dial("tcp", args[0])
					if err == nil {
						c.Close()
						return
					}
					if time.Now().After(deadline) {
						ts.Fatalf("nothing listens on %s after 30s: %v", args[0], err)
					}
				}
			},
		},
	})
}

// docCommand is one `$ command` a doc shows, with the output lines shown
// under it.
type docCommand struct {
	where  string // file:line
	line   string // the command as shown, without "$ "
	output []string
}

// docCommands finds every command README.md and docs/*.md show: the `$`
// lines of ```console blocks and of indented blocks.
func docCommands(t *testing.T) []docCommand {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []docCommand
	for _, page := range append([]string{"README.md"}, pages...) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(raw), "\n")
		inConsole, inFence := false, false
		var cur *docCommand
		flush := func() {
			if cur != nil {
				cmds = append(cmds, *cur)
				cur = nil
			}
		}
		for i, l := range lines {
			switch {
			case strings.HasPrefix(l, "```"):
				flush()
				if inFence {
					inFence, inConsole = false, false
				} else {
					inFence, inConsole = true, strings.TrimPrefix(l, "```") == "console"
				}
				continue
			case inFence && !inConsole:
				continue
			}
			body, ok := l, inConsole
			if !inConsole {
				body, ok = strings.CutPrefix(l, "    ")
				if !ok || strings.TrimSpace(body) == "" {
					flush()
					continue
				}
			}
			if c, isCmd := strings.CutPrefix(body, "$ "); isCmd {
				flush()
				cur = &docCommand{where: fmt.Sprintf("%s:%d", page, i+1), line: strings.TrimSpace(c)}
			} else if cur != nil && len(cur.output) == 0 && strings.HasSuffix(cur.line, "\\") {
				// A command continued on the next line.
				cur.line = strings.TrimSpace(strings.TrimSuffix(cur.line, "\\")) + " " + strings.TrimSpace(body)
			} else if cur != nil && strings.TrimSpace(body) != "" {
				cur.output = append(cur.output, body)
			}
		}
		flush()
	}
	return cmds
}

// scriptCommand is one command of a script: what it stands for in the
// docs (its words, or the line a "# doc: $ ..." comment before it gives)
// and the patterns its stdout and stderr are asserted to match.
type scriptCommand struct {
	where    string
	words    []string
	doc      string
	patterns []string
	// cmp holds the files its output is compared with (cmp stdout FILE):
	// the output in full.
	cmp []string
}

var (
	scriptExec   = regexp.MustCompile(`^!?\s*exec\s+(.*?)(\s+&(\w+&)?)?$`)
	scriptAssert = regexp.MustCompile(`^(stdout|stderr)\s+(.*)$`)
	scriptWait   = regexp.MustCompile(`^wait\s+(\w+)$`)
	scriptBg     = regexp.MustCompile(`&(\w+)&$`)
	scriptCmp    = regexp.MustCompile(`^cmp\s+(stdout|stderr)\s+(\S+)$`)
)

// scriptCommands reads every exec of testdata/script/*.txtar and the
// positive stdout/stderr assertions that follow it (or follow the wait
// for it, when it ran in the background).
func scriptCommands(t *testing.T) []scriptCommand {
	t.Helper()
	files, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []scriptCommand
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		archive := txtar.Parse(raw)
		doc := ""
		last := -1
		bg := map[string]int{}
		for i, l := range strings.Split(string(raw), "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "-- ") {
				break // the archive's files
			}
			l = regexp.MustCompile(`^\[[^]]*\]\s*`).ReplaceAllString(l, "")
			if d, ok := strings.CutPrefix(l, "# doc: $ "); ok {
				doc = d
				continue
			}
			if m := scriptExec.FindStringSubmatch(l); m != nil {
				cmds = append(cmds, scriptCommand{where: fmt.Sprintf("%s:%d", f, i+1), words: scriptWords(m[1]), doc: doc})
				doc = ""
				last = len(cmds) - 1
				if b := scriptBg.FindStringSubmatch(l); b != nil {
					bg[b[1]] = last
				}
				continue
			}
			if m := scriptWait.FindStringSubmatch(l); m != nil {
				if j, ok := bg[m[1]]; ok {
					last = j
				}
				continue
			}
			if m := scriptCmp.FindStringSubmatch(l); m != nil && last >= 0 {
				i := slices.IndexFunc(archive.Files, func(f txtar.File) bool { return f.Name == m[2] })
				if i < 0 {
					t.Fatalf("%s:%d: cmp with %s, which the archive lacks", f, i+1, m[2])
				}
				cmds[last].cmp = append(cmds[last].cmp, string(archive.Files[i].Data))
				continue
			}
			if m := scriptAssert.FindStringSubmatch(l); m != nil && last >= 0 {
				w := scriptWords(m[2])
				if len(w) > 0 && !strings.HasPrefix(w[0], "-") {
					cmds[last].patterns = append(cmds[last].patterns, w[0])
				}
			}
		}
	}
	return cmds
}

// scriptWords splits a script line as testscript does: on spaces, with
// '...' quoting (” is a quote inside it).
func scriptWords(s string) []string {
	var words []string
	var b strings.Builder
	quoted, inWord := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quoted && c == '\'' && i+1 < len(s) && s[i+1] == '\'':
			b.WriteByte('\'')
			i++
		case c == '\'':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

// shellWords splits a command as a POSIX shell would for the cases the
// docs use: spaces, '...', "..." (with \" and \\ in it) and \x.
func shellWords(s string) []string {
	var words []string
	var b strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				j = len(s) - i - 1
			}
			b.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(`"\$`+"`", s[i+1]) >= 0 {
					i++
				}
				b.WriteByte(s[i])
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, b.String())
	}
	return words
}

// notYetRun are the commands the docs show that no script runs yet:
// none now, and it can only shrink. A command a doc shows is run by a
// script of testdata/script (one too long or needing a terminal is shown
// in a shorter form, or in prose).
var notYetRun []string

// TestDocExamples: every command README.md and docs/ show is run by a
// script of testdata/script (the same words, or a "# doc: $ ..." comment
// naming it before the exec when the script must differ, as a free port
// for council serve), and the output shown is what the script asserts:
// every line shown (but "...") matches one of the command's stdout/stderr
// patterns or is the next line, in order, of the file its output is
// compared with (cmp), and every pattern matches a line shown. Where the output
// varies (timings, which racer won), the pattern is a regexp and the doc
// says "e.g.".
func TestDocExamples(t *testing.T) {
	scripts := scriptCommands(t)
	var uncovered []string
	for _, d := range docCommands(t) {
		want := shellWords(d.line)
		var sc *scriptCommand
		for i := range scripts {
			if scripts[i].doc == d.line || (scripts[i].doc == "" && slices.Equal(scripts[i].words, want)) {
				sc = &scripts[i]
				break
			}
		}
		if sc == nil {
			uncovered = append(uncovered, d.line)
			if !slices.Contains(notYetRun, d.line) {
				t.Errorf("%s: no script in testdata/script runs $ %s", d.where, d.line)
			}
			continue
		}
		res := make([]*regexp.Regexp, len(sc.patterns))
		for i, p := range sc.patterns {
			re, err := regexp.Compile("(?m)" + p)
			if err != nil {
				t.Fatalf("%s: pattern %q: %v", sc.where, p, err)
			}
			res[i] = re
		}
		// Lines a cmp file holds are shown in its order (a "..." may
		// stand for the lines left out).
		var full []string
		for _, c := range sc.cmp {
			full = append(full, strings.Split(c, "\n")...)
		}
		for _, out := range d.output {
			if strings.TrimSpace(out) == "..." {
				continue
			}
			if j := slices.Index(full, out); j >= 0 {
				full = full[j+1:]
				continue
			}
			if !slices.ContainsFunc(res, func(re *regexp.Regexp) bool { return re.MatchString(out) }) {
				t.Errorf("%s: the line shown under $ %s is asserted by no pattern of %s, nor next in its cmp file:\n%s", d.where, d.line, sc.where, out)
			}
		}
		for i, re := range res {
			if !slices.ContainsFunc(d.output, re.MatchString) {
				t.Errorf("%s: %s asserts %q, which no line shown under $ %s matches", d.where, sc.where, sc.patterns[i], d.line)
			}
		}
	}
	for _, n := range notYetRun {
		if !slices.Contains(uncovered, n) {
			t.Errorf("notYetRun lists $ %s, which a script now runs or the docs no longer show: remove it", n)
		}
	}
}

// TestDocLinks: every relative link of README.md and docs/ names a file
// that exists, so moving a page cannot leave a link dangling.
func TestDocLinks(t *testing.T) {
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`)
	n := 0
	for _, page := range append([]string{"README.md"}, pages...) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(raw), -1) {
			n++
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), m[1])); err != nil {
				t.Errorf("%s links to %s: %v", page, m[1], err)
			}
		}
	}
	if n < 10 {
		t.Fatalf("found %d links; README.md links to every page of docs/", n)
	}
}
