package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestDocRuleTables: the tables that state rules in prose (what a call
// counts as in its breaker, what council does on each fault) name, on
// every row, the tests that check it: a last column "checked by" whose
// tests exist (TestDocNamesExist checks the packages) and whose subtests,
// TestX/name, name a subtest of TestX (its name's words are in TestX's
// file).
func TestDocRuleTables(t *testing.T) {
	defined := testFuncFiles(t, repoFiles(t)) // test -> the files that declare it
	named := regexp.MustCompile("`(Test\\w+)(?:/([^`]+))?`")
	for _, table := range []struct{ page, header string }{
		{"docs/strategies.md", "| a call that... | counts as |"},
		{"docs/reliability.md", "| fault | what council does |"},
	} {
		lines := strings.Split(readDoc(t, table.page), "\n")
		start := -1
		for i, l := range lines {
			if strings.HasPrefix(l, table.header) {
				start = i
			}
		}
		if start < 0 {
			t.Errorf("%s: no table %q", table.page, table.header)
			continue
		}
		if !strings.Contains(lines[start], "| checked by") {
			t.Errorf("%s:%d: the table has no column naming its tests (checked by)", table.page, start+1)
		}
		rows := 0
		for i := start + 2; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
			rows++
			cells := strings.Split(strings.Trim(lines[i], "| "), " | ")
			tests := named.FindAllStringSubmatch(cells[len(cells)-1], -1)
			if len(tests) == 0 {
				t.Errorf("%s:%d: the row names no test in its last column: %s", table.page, i+1, lines[i])
			}
			for _, m := range tests {
				fs, ok := defined[m[1]]
				if !ok {
					t.Errorf("%s:%d: %s is no test of the repository", table.page, i+1, m[1])
					continue
				}
				if m[2] != "" && !strings.Contains(readDoc(t, fs[0]), `"`+strings.ReplaceAll(m[2], "_", " ")) {
					t.Errorf("%s:%d: %s has no subtest %s", table.page, i+1, m[1], m[2])
				}
			}
		}
		if rows < 5 {
			t.Errorf("%s: %d rows in the table %q; it was not read", table.page, rows, table.header)
		}
	}
}
