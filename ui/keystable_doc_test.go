package ui

import (
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
)

// bindingKeys is every key a struct of key.Bindings binds.
func bindingKeys(v reflect.Value) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i < v.NumField(); i++ {
		if kb, ok := v.Field(i).Interface().(key.Binding); ok {
			for _, k := range kb.Keys() {
				keys[k] = true
			}
		}
	}
	return keys
}

// docKeyNames are the names docs/keys.md gives keys, as the key
// bindings spell them; "arrows" is the four.
var docKeyNames = map[string][]string{
	"↑": {"up"}, "↓": {"down"}, "←": {"left"}, "→": {"right"},
	"alt+←": {"alt+left"}, "alt+→": {"alt+right"}, "pgdn": {"pgdown"},
	"arrows": {"up", "down", "left", "right"},
}

// TestKeysTableNamesBoundKeys: every key docs/keys.md's table of keys
// names is one the dashboard binds (a mouse's click and wheel aside; the
// prompt's editing keys are its text input's), and every key of the
// dashboard's KeyMap is named there, so a key rebound or added cannot
// leave the table behind.
func TestKeysTableNamesBoundKeys(t *testing.T) {
	raw, err := os.ReadFile("../docs/keys.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "| Where | Key | Does |")
	if i < 0 {
		t.Fatal("docs/keys.md has no table of keys (| Where | Key | Does |)")
	}
	// The dashboard's keys, and the prompt's editing keys (its text
	// input's).
	dashboard := bindingKeys(reflect.ValueOf(DefaultKeyMap()))
	bound := bindingKeys(reflect.ValueOf(textinput.DefaultKeyMap()))
	maps.Copy(bound, dashboard)
	named := map[string]bool{}
	code := regexp.MustCompile("`([^`]+)`")
	rows := 0
	for _, l := range strings.Split(doc[i:], "\n")[2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		rows++
		cells := strings.Split(l, "|")
		if strings.TrimSpace(cells[1]) == "mouse" {
			continue
		}
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			for _, k := range strings.Fields(m[1]) {
				ks, ok := docKeyNames[k]
				if !ok {
					ks = []string{k}
				}
				for _, k := range ks {
					named[k] = true
					if !bound[k] {
						t.Errorf("docs/keys.md names the key %s (%s), which the dashboard does not bind", k, strings.TrimSpace(cells[1]))
					}
				}
			}
		}
	}
	if rows < 20 {
		t.Fatalf("read %d rows of docs/keys.md's table of keys; it was not found", rows)
	}
	var missing []string
	for k := range dashboard {
		if !named[k] {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("the dashboard binds %v, which docs/keys.md's table of keys does not name", missing)
	}
}
