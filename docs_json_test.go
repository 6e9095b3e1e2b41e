package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// jsonMember is a line of an object's members shown alone.
var jsonMember = regexp.MustCompile(`^\s*"[a-z][a-z0-9_]*":`)

// dataKeys are the keys a doc's JSON example shows that are data (a label,
// a category, a knob), not a field's name.
var dataKeys = []string{"billing", "technical", "error_rate", "stall_rate"}

// TestDocJSONKeys: the JSON the docs illustrate (an indented block that
// starts with { or [, an event stream's "data: {" or an object's
// "key": members, not a command's output checked by a script) names
// only keys council writes: every "key": in it is a json tag of a type in
// the repository, a key a map literal of its code writes ("logprobs":
// nil), a key in JSON its code appends from raw string literals
// (`,"choices":`), or one of dataKeys, so a renamed or dropped field
// cannot live on in an example.
func TestDocJSONKeys(t *testing.T) {
	tags := map[string]bool{}
	tagRe := regexp.MustCompile(`json:"([a-z0-9_]+)|"([a-z][a-z0-9_]*)": `)
	rawRe := regexp.MustCompile("`[\\[{,]*\"[^`\\s]*`") // `,"usage":{"prompt_tokens":`
	rawKeyRe := regexp.MustCompile(`"([a-z][a-z0-9_]*)":`)
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != "." && strings.HasPrefix(d.Name(), "."):
			return filepath.SkipDir // .git, .cache
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range tagRe.FindAllStringSubmatch(string(b), -1) {
			tags[m[1]+m[2]] = true
		}
		for _, lit := range rawRe.FindAllString(string(b), -1) {
			for _, m := range rawKeyRe.FindAllStringSubmatch(lit, -1) {
				tags[m[1]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	keyRe := regexp.MustCompile(`"([a-z][a-z0-9_]*)":`)
	pages, _ := filepath.Glob("docs/*.md")
	checked := 0
	for _, page := range append([]string{"README.md"}, pages...) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		inExample := false
		for i, l := range strings.Split(string(raw), "\n") {
			body, indented := strings.CutPrefix(l, "    ")
			switch {
			case !indented || strings.TrimSpace(body) == "":
				inExample = false
				continue
			case strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") || strings.HasPrefix(body, "data: {") || jsonMember.MatchString(body):
				// An object, an array, an event stream's data line, or
				// members of an object ("sections":[...], ...).
				inExample = true
			case strings.HasPrefix(body, "$ "):
				inExample = false
				continue
			}
			if !inExample {
				continue
			}
			for _, m := range keyRe.FindAllStringSubmatch(body, -1) {
				checked++
				if !tags[m[1]] && !slices.Contains(dataKeys, m[1]) {
					t.Errorf("%s:%d: the example shows key %q, which no type of council writes", page, i+1, m[1])
				}
			}
		}
	}
	if checked < 50 {
		t.Errorf("checked %d keys in the docs' JSON examples; the examples were not found", checked)
	}
}
