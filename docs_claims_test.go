package main

import (
	"encoding/json"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// jsonNumbers is every number of a JSON document.
func jsonNumbers(v any, out *[]float64) {
	switch v := v.(type) {
	case float64:
		*out = append(*out, v)
	case map[string]any:
		for _, x := range v {
			jsonNumbers(x, out)
		}
	case []any:
		for _, x := range v {
			jsonNumbers(x, out)
		}
	}
}

// clauseSep ends a clause of a claims table's result: a semicolon or a
// sentence's full stop (a decimal point has no space after it).
var clauseSep = regexp.MustCompile(`;|\.\s+`)

// TestDocBenchClaims runs each command of docs/bench.md's table of
// claims (council bench --json, on the virtual clock with its seed: the
// numbers are exact) and checks that every figure the row's result gives
// in bold is one of the report's numbers, as written (seconds, ms, a
// share in %, a rate /s, a count; a ratio × is the page's arithmetic,
// and a clause that changes the file is not the command's).
// Slow (some 30,000 sessions, about a minute; far more under -race), so it
// runs only with COUNCIL_DOC_CLAIMS=1, which make test's claims step sets
// (without -race).
func TestDocBenchClaims(t *testing.T) {
	if os.Getenv("COUNCIL_DOC_CLAIMS") == "" {
		t.Skip("set COUNCIL_DOC_CLAIMS=1 to run the commands of docs/bench.md's claims")
	}
	doc := readDoc(t, "docs/bench.md")
	i := strings.Index(doc, "| claim | command | result |")
	if i < 0 {
		t.Fatal("docs/bench.md has no table of claims (| claim | command | result |)")
	}
	bold := regexp.MustCompile(`\*\*(.+?)\*\*`)
	figure := regexp.MustCompile(`(\d[\d,]*(?:\.\d+)?) ?(s|ms|%|/s|×)?`)
	for k, row := range strings.Split(doc[i:], "\n")[2:] {
		if !strings.HasPrefix(row, "|") {
			break
		}
		cells := strings.Split(row, "|")
		cmd := strings.Trim(strings.TrimSpace(cells[2]), "`")
		cmd, _, _ = strings.Cut(cmd, "` (")
		args := shellWords(cmd)
		if len(args) < 2 || args[0] != "council" {
			t.Errorf("the claim %q names no council command: %s", strings.TrimSpace(cells[1]), cells[2])
			continue
		}
		t.Run("row"+strconv.Itoa(k+1), func(t *testing.T) {
			out, errOut, code := council(t, nil, append(args[1:], "--json")...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var report any
			if err := json.Unmarshal([]byte(out), &report); err != nil {
				t.Fatal(err)
			}
			var nums []float64
			jsonNumbers(report, &nums)
			// A clause of the result that changes the file ("with
			// max_extra = 0.32 in the file") or a setting ("With
			// `replace = false` p95 was ...") is not the command's.
			var result []string
			for _, clause := range clauseSep.Split(cells[3], -1) {
				if !strings.Contains(clause, "in the file") && !strings.Contains(strings.ToLower(clause), "with `") {
					result = append(result, clause)
				}
			}
			for _, b := range bold.FindAllStringSubmatch(strings.Join(result, ";"), -1) {
				for _, f := range figure.FindAllStringSubmatch(b[1], -1) {
					if f[2] == "×" {
						continue
					}
					v, _ := strconv.ParseFloat(strings.ReplaceAll(f[1], ",", ""), 64)
					decimals := 0
					if _, frac, ok := strings.Cut(f[1], "."); ok {
						decimals = len(frac)
					}
					scale := map[string]float64{"s": 1000, "%": 0.01}[f[2]]
					if scale == 0 {
						scale = 1
					}
					found := false
					for _, n := range nums {
						got := n / scale
						if math.Abs(got-v) <= 0.5*math.Pow(10, -float64(decimals))+1e-9 {
							found = true
							break
						}
					}
					if !found {
						t.Errorf("%s: the page gives %s%s, which no number of the report is", args[1:], f[1], f[2])
					}
				}
			}
		})
	}
}
