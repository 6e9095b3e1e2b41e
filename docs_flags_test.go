package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// commandFiles is each command's file: the one that makes its flag set.
var commandFiles = map[string]string{
	"":             "cmd_dashboard.go",
	"run":          "cmd_run.go",
	"serve":        "cmd_serve.go",
	"replay":       "cmd_replay.go",
	"watch":        "cmd_watch.go",
	"bench":        "cmd_bench.go",
	"config check": "cmd_config.go",
}

// flagMethods are the flag.FlagSet methods that define a flag.
var flagMethods = []string{"String", "StringVar", "Bool", "BoolVar", "Int", "IntVar", "Int64", "Int64Var",
	"Uint", "UintVar", "Uint64", "Uint64Var", "Float64", "Float64Var", "Duration", "DurationVar", "Var", "Func", "BoolFunc", "TextVar"}

// definedFlags reads the flags a Go file defines on a *flag.FlagSet
// named fs: fs.String("name", ...), fs.BoolVar(&v, "name", ...), and
// addSessionFlags(fs, seed, withStrategy)'s, from flags.go.
func definedFlags(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		if id, ok := call.Fun.(*ast.Ident); ok && id.Name == "addSessionFlags" && file != "flags.go" {
			session := definedFlags(t, "flags.go")
			if withStrategy, _ := call.Args[2].(*ast.Ident); withStrategy == nil || withStrategy.Name != "true" {
				delete(session, "strategy")
			}
			maps.Copy(flags, session)
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || !slices.Contains(flagMethods, sel.Sel.Name) {
			return true
		}
		if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "fs" {
			return true
		}
		for _, a := range call.Args[:min(2, len(call.Args))] {
			if lit, ok := a.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				name, _ := strconv.Unquote(lit.Value)
				flags[name] = true
				break
			}
		}
		return true
	})
	if len(flags) == 0 {
		t.Fatalf("%s defines no flags on fs: was the flag set renamed?", file)
	}
	return flags
}

// commandFlags is every command's flags, by command ("" the dashboard).
func commandFlags(t *testing.T) map[string]map[string]bool {
	t.Helper()
	all := map[string]map[string]bool{}
	for cmd, file := range commandFiles {
		all[cmd] = definedFlags(t, file)
	}
	return all
}

var longFlag = regexp.MustCompile(`(?:^|[\s\[|(,` + "`" + `])--([a-z][a-z-]*)`)

func longFlags(s string) []string {
	var out []string
	for _, m := range longFlag.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestHelpNamesEveryFlag: each command's --help names every flag the
// command defines, and no flag it does not; council --help (the
// dashboard's) names the dashboard's flags, and only flags some command
// has. So a flag added, renamed or dropped changes its usage too.
func TestHelpNamesEveryFlag(t *testing.T) {
	all := commandFlags(t)
	union := map[string]bool{"help": true}
	for _, fl := range all {
		maps.Copy(union, fl)
	}
	for cmd, flags := range all {
		args := append(strings.Fields(cmd), "--help")
		out, _, code := council(t, nil, args...)
		if code != 0 {
			t.Fatalf("council %s: exit %d", strings.Join(args, " "), code)
		}
		named := longFlags(out)
		for f := range flags {
			if !slices.Contains(named, f) {
				t.Errorf("council %s --help does not name --%s, a flag of the command", cmd, f)
			}
		}
		// A flag after "council X" in the text (council run --record
		// FILE, in replay's) is X's.
		for _, line := range strings.Split(out, "\n") {
			attributed := map[int]bool{}
			for _, m := range councilCmd.FindAllStringSubmatchIndex(line, -1) {
				other, args := strings.TrimSpace(line[m[2]:m[3]]), line[m[4]:m[5]]
				for _, fm := range longFlag.FindAllStringSubmatchIndex(args, -1) {
					attributed[m[4]+fm[2]] = true
					if f := args[fm[2]:fm[3]]; !all[other][f] && f != "help" {
						t.Errorf("council %s --help names council %s --%s, which that command does not have", cmd, other, f)
					}
				}
			}
			for _, fm := range longFlag.FindAllStringSubmatchIndex(line, -1) {
				f := line[fm[2]:fm[3]]
				switch {
				case attributed[fm[2]]:
				case cmd == "" && !union[f]:
					t.Errorf("council --help names --%s, which no command has", f)
				case cmd != "" && !flags[f]:
					t.Errorf("council %s --help names --%s, which the command does not have", cmd, f)
				}
			}
		}
	}
}

// docCode is a piece of code the docs show: an indented or fenced line,
// or an inline `code` span.
type docCode struct {
	where string
	text  string
	block int // the block it is in (lines of one block share it); 0 for a span
}

var inlineCode = regexp.MustCompile("`([^`]+)`")

func docCodes(t *testing.T) []docCode {
	t.Helper()
	var codes []docCode
	block := 0
	for _, page := range docPages(t) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		inFence, inBlock := false, false
		for i, l := range strings.Split(string(raw), "\n") {
			where := page + ":" + strconv.Itoa(i+1)
			switch {
			case strings.HasPrefix(l, "```"):
				inFence = !inFence
				block++
				continue
			case inFence || strings.HasPrefix(l, "    ") && !strings.HasPrefix(strings.TrimSpace(l), "- "):
				if !inBlock && !inFence {
					block++
				}
				inBlock = true
				codes = append(codes, docCode{where, l, block})
				continue
			case strings.TrimSpace(l) != "":
				inBlock = false
			}
			for _, m := range inlineCode.FindAllStringSubmatch(l, -1) {
				codes = append(codes, docCode{where, m[1], 0})
			}
		}
	}
	return codes
}

// councilCmd finds a council command in code: council, then the
// command's words, then its arguments up to the end, a pipe, a ; or &,
// a # comment or another council.
var councilCmd = regexp.MustCompile(`(?:^|[\s;&|(])council((?: (?:run|serve|replay|watch|bench|config check|version))?)((?:[^;&|#]|#[^ ]|\|[^ ]|\| -)*)`)

// otherFlags are long flags of the other programs the docs run.
var otherFlags = []string{
	"port", "save", "appendonly", "daemonize", "bind", // redis-server
	"help",
}

// TestDocFlags: every --flag the docs show is a flag of the command it
// is given to (council run --json: run's), or, named alone, of some
// command; and a usage that lists flags ("council serve [--addr ...]",
// or "council run [flags]" with a line per flag under it) lists every
// flag the command has. So a flag renamed, added or dropped cannot leave
// a usage or an example in the docs behind.
func TestDocFlags(t *testing.T) {
	all := commandFlags(t)
	union := map[string]bool{}
	for _, fl := range all {
		maps.Copy(union, fl)
	}
	checked, usages := 0, 0
	// The usage being listed, in a block: its command and the flags
	// listed so far.
	type listing struct {
		where, cmd string
		block      int
		flags      map[string]bool
	}
	var open *listing
	closeListing := func() {
		if open == nil {
			return
		}
		usages++
		for f := range all[open.cmd] {
			if !open.flags[f] {
				t.Errorf("%s: the usage of council %s does not list --%s", open.where, open.cmd, f)
			}
		}
		open = nil
	}
	for _, c := range docCodes(t) {
		if open != nil && c.block != open.block {
			closeListing()
		}
		rest := c.text
		if open != nil && strings.HasPrefix(strings.TrimSpace(rest), "--") {
			// A line of the usage's flag list.
			body, _, _ := strings.Cut(rest, " # ")
			for _, f := range longFlags(body) {
				checked++
				open.flags[f] = true
				if !all[open.cmd][f] {
					t.Errorf("%s: council %s has no --%s", c.where, open.cmd, f)
				}
			}
			continue
		}
		attributed := map[int]bool{}
		for _, m := range councilCmd.FindAllStringSubmatchIndex(rest, -1) {
			cmd := strings.TrimSpace(rest[m[2]:m[3]])
			args := rest[m[4]:m[5]]
			if cmd == "version" {
				continue
			}
			if strings.HasPrefix(strings.TrimSpace(args), "[") || strings.HasPrefix(strings.TrimSpace(args), "[flags]") {
				closeListing()
				if c.block != 0 {
					open = &listing{where: c.where, cmd: cmd, block: c.block, flags: map[string]bool{}}
				}
			}
			for _, fm := range longFlag.FindAllStringSubmatchIndex(args, -1) {
				f := args[fm[2]:fm[3]]
				attributed[m[4]+fm[2]] = true
				checked++
				if open != nil && open.cmd == cmd {
					open.flags[f] = true
				}
				if !all[cmd][f] && f != "help" {
					t.Errorf("%s: council %s has no --%s: %s", c.where, cmd, f, strings.TrimSpace(c.text))
				}
			}
			if open != nil && open.cmd == cmd && !strings.HasPrefix(strings.TrimSpace(args), "[flags]") && c.block != 0 {
				// A one-line usage: council serve [--addr A] [--config FILE].
				closeListing()
			}
		}
		for _, fm := range longFlag.FindAllStringSubmatchIndex(rest, -1) {
			f := rest[fm[2]:fm[3]]
			if attributed[fm[2]] {
				continue
			}
			checked++
			if !union[f] && !slices.Contains(otherFlags, f) {
				t.Errorf("%s: --%s is a flag of no council command: %s", c.where, f, strings.TrimSpace(c.text))
			}
		}
	}
	closeListing()
	if checked < 100 || usages < 4 {
		t.Errorf("checked %d flags and %d usages in the docs; they were not found", checked, usages)
	}
}
