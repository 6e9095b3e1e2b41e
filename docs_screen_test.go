package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// screenPages are the pages that quote what the dashboard and watch show.
var screenPages = []string{"README.md", "docs/dashboard.md", "docs/keys.md", "docs/recording.md", "docs/serve-and-watch.md"}

// sourceLiterals is every string literal of the non-test Go source under
// dirs, and every + chain of them as a format string; with asserted, the
// strings its tests assert a screen or an output contains instead
// (!strings.Contains(got, "...") failing the test).
func sourceLiterals(t *testing.T, asserted bool, dirs ...string) []string {
	t.Helper()
	var lits []string
	fset := token.NewFileSet()
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != dir && (dir == "." || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") != asserted {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				if asserted {
					if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.NOT {
						if c, ok := u.X.(*ast.CallExpr); ok && len(c.Args) == 2 {
							if sel, ok := c.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Contains" {
								if x, ok := sel.X.(*ast.Ident); ok && x.Name == "strings" {
									if tmpl, ok := concatTemplate(c.Args[1]); ok {
										lits = append(lits, tmpl)
									}
								}
							}
						}
					}
					return true
				}
				switch n := n.(type) {
				case *ast.BasicLit:
					if n.Kind == token.STRING {
						if s, err := strconv.Unquote(n.Value); err == nil {
							lits = append(lits, s)
						}
					}
				case *ast.BinaryExpr:
					// "⏸ held " + fmtDur(d): the template "⏸ held %s".
					if tmpl, ok := concatTemplate(n); ok && n.Op == token.ADD {
						lits = append(lits, tmpl)
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return lits
}

// concatTemplate folds a + chain holding a string literal into a format
// string: the literals as they are, every other operand a %s.
func concatTemplate(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "%s", false
		}
		l, lok := concatTemplate(e.X)
		r, rok := concatTemplate(e.Y)
		return l + r, lok || rok
	case *ast.BasicLit:
		if e.Kind == token.STRING {
			if s, err := strconv.Unquote(e.Value); err == nil {
				return s, true
			}
		}
	case *ast.ParenExpr:
		return concatTemplate(e.X)
	}
	return "%s", false
}

var (
	backticked = regexp.MustCompile("`([^`]+)`")
	numUnit    = regexp.MustCompile(`\d+(\.\d+)?(ms|s|m|h|×|%)?`)
	fmtVerb    = regexp.MustCompile(`%[-+#0-9.*]*[a-zA-Z]`)
	spaces     = regexp.MustCompile(`\s+`)
	// placeholders a page writes for what varies.
	placeholder = regexp.MustCompile(`…|host:port`)
	keyList     = regexp.MustCompile(`^(\S{1,2} )+\S{1,2}$`)
	// oneWordScreen: a word quoted that only a screen says: a badge in
	// capitals (OPEN), or a glyph joining names (auto→consensus, sim/swift·review).
	oneWordScreen = regexp.MustCompile(`^[A-Z]{3,8}$|^\S+[→·]\S+$`)
)

// notScreenText: a backticked span that is a command, a flag, a config
// line, JSON, a list of keys or one word, not something a screen says.
func notScreenText(s string) bool {
	return regexp.MustCompile(`^(\$ |council\b|make\b|go\b|curl\b|git\b|[A-Z_]+=|--)|=|[{}"<>]|^\S+$`).MatchString(s) || keyList.MatchString(s)
}

// quoteRegexp is q as a regexp: its numbers (with a unit: 5s, 10×, 50%)
// stand for any number or a format verb, and its placeholders for
// anything.
func quoteRegexp(q string) *regexp.Regexp {
	var b strings.Builder
	last := 0
	for _, m := range numUnit.FindAllStringIndex(q, -1) {
		b.WriteString(quotePart(q[last:m[0]]))
		b.WriteString(`(?:\d+(?:\.\d+)?(?:ms|s|m|h|×|%)?|%[-+#0-9.*]*[a-zA-Z])`)
		last = m[1]
	}
	b.WriteString(quotePart(q[last:]))
	return regexp.MustCompile(b.String())
}

func quotePart(s string) string {
	parts := placeholder.Split(s, -1)
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	return strings.Join(parts, `.*?`)
}

// fitsTemplate reports whether q's words run along a format string's: each
// of its verbs standing for one to four words (%w an error's text, %s a
// model's id), from anywhere in the template, and q may stop before the
// template's end; at least two of q's words (or all, when fewer) are the
// template's own.
func fitsTemplate(q, tmpl string) bool {
	qw, tw := strings.Fields(q), strings.Fields(tmpl)
	word := func(qt, tt string) bool {
		if fmtVerb.MatchString(tt) {
			parts := fmtVerb.Split(tt, -1)
			for i := range parts {
				parts[i] = regexp.QuoteMeta(parts[i])
			}
			return regexp.MustCompile("^" + strings.Join(parts, ".+") + "$").MatchString(qt)
		}
		return quoteRegexp(qt).FindString(tt) == tt && (qt == tt || numUnit.MatchString(qt) || placeholder.MatchString(qt))
	}
	// lit counts the words of q matched by words of the template that are
	// not a verb alone: at least two must be, so that "%s connecting"
	// does not stand for any two words.
	var match func(i, j, lit int) bool
	match = func(i, j, lit int) bool {
		if i == len(qw) { // q fits the template whole, or two of its words at least
			return lit >= min(2, len(qw)) || j == len(tw) && lit > 0
		}
		if j == len(tw) {
			return false
		}
		if v := fmtVerb.FindString(tw[j]); v == tw[j] { // a verb alone: one to four words, a number's one number
			n := 4
			if strings.ContainsAny(v[len(v)-1:], "dfgexX") {
				if numUnit.FindString(qw[i]) != qw[i] {
					return false
				}
				n = 1
			}
			for k := 1; k <= n && i+k <= len(qw); k++ {
				if match(i+k, j+1, lit) {
					return true
				}
			}
			return false
		}
		own := 1 // a word with a verb in it is the template's only for its letters
		if fmtVerb.MatchString(tw[j]) && len(strings.Trim(fmtVerb.ReplaceAllString(tw[j], ""), "()[]:,.·")) < 2 {
			own = 0
		}
		return word(qw[i], tw[j]) && match(i+1, j+1, lit+own)
	}
	for j := range tw {
		// the first word may be a verb's tail or a word's
		if match(0, j, 0) {
			return true
		}
	}
	return false
}

// produced reports whether q (a span of a page) is drawn in a golden
// frame, or is a literal of the source, or fits a format string of it.
func produced(q, goldens string, lits []string) bool {
	q = spaces.ReplaceAllString(strings.TrimSpace(q), " ")
	qre := quoteRegexp(q)
	if qre.MatchString(goldens) {
		return true
	}
	for _, l := range lits {
		if qre.MatchString(l) {
			return true
		}
		if fmtVerb.MatchString(l) {
			lit := len(strings.Join(strings.Fields(fmtVerb.ReplaceAllString(l, "")), ""))
			if lit >= 4 && fitsTemplate(q, l) {
				return true
			}
		}
	}
	return false
}

// TestDocScreenText: what the pages quote of a screen is what a screen
// says. Every backticked span of README.md, dashboard.md, keys.md,
// recording.md and serve-and-watch.md's watch section that has a space
// and is not a command, a flag, a config line, JSON or a list of keys, or
// is one word in capitals or joined by → or ·, is quoted screen text; it must be drawn in a golden frame (ui/testdata) or
// come from the code: a string literal of ui, engine or the commands, or
// a format string (fmt's, or a + chain) it fits, or a string their tests
// assert is shown (!strings.Contains(screen, "...")), its numbers standing
// for any number and … or host:port for anything.
func TestDocScreenText(t *testing.T) {
	lits := append(sourceLiterals(t, false, "ui", "engine", "."), sourceLiterals(t, true, "ui", "engine", ".")...)
	goldenFiles, err := filepath.Glob("ui/testdata/*.golden")
	if err != nil || len(goldenFiles) == 0 {
		t.Fatalf("no goldens: %v", err)
	}
	var g strings.Builder
	for _, f := range goldenFiles {
		g.WriteString(spaces.ReplaceAllString(readDoc(t, f), " "))
	}
	checked := 0
	for _, page := range screenPages {
		text := readDoc(t, page)
		if page == "docs/serve-and-watch.md" {
			// The rest is the API's, which TestDocServeErrors and the scripts check.
			i := strings.Index(text, "## Watching servers")
			if i < 0 {
				t.Fatal("serve-and-watch.md has no section Watching servers")
			}
			text = strings.Repeat("\n", strings.Count(text[:i], "\n")) + text[i:]
		}
		// Code blocks and captures are checked by TestDocCaptures and the scripts.
		text = regexp.MustCompile("(?s)```.*?```").ReplaceAllStringFunc(text, func(s string) string { return strings.Repeat("\n", strings.Count(s, "\n")) })
		text = regexp.MustCompile("(?m)^    .*$").ReplaceAllString(text, "")
		for _, m := range backticked.FindAllStringSubmatchIndex(text, -1) {
			q := spaces.ReplaceAllString(text[m[2]:m[3]], " ")
			if strings.Contains(q, "\n\n") || !strings.Contains(q, " ") && !oneWordScreen.MatchString(q) || strings.Contains(q, " ") && notScreenText(q) {
				continue
			}
			checked++
			if !produced(q, g.String(), lits) {
				t.Errorf("%s:%d: %q is quoted as screen text, but no golden frame draws it and no string of the code makes it", page, strings.Count(text[:m[0]], "\n")+1, q)
			}
		}
	}
	if checked < 30 {
		t.Errorf("only %d quotes of screen text found: the rule no longer finds them", checked)
	}
}
