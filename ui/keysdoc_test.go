package ui

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/synctest"

	"charm.land/bubbles/v2/key"
)

// docs/keys.md's keys by screen sit between these lines.
const (
	keysDocBegin = "<!-- keys by screen: generated from the keymap by TestREADMEKeysByScreen (go test ./ui -run TestREADMEKeysByScreen -update) -->"
	keysDocEnd   = "<!-- end of keys by screen -->"
)

// keysByScreen is the table of the keys each screen names, rendered from
// the screens' keymaps: what their help lists, then what only their
// footer offers.
func keysByScreen(t *testing.T) string {
	var b strings.Builder
	b.WriteString("| Screen | Keys it names (its footer and its help) |\n|---|---|\n")
	for _, sc := range walkScreens(t) {
		m := sc.build()
		m.syncKeys()
		seen := map[string]bool{}
		var items []string
		add := func(kb key.Binding) {
			h := kb.Help()
			if !kb.Enabled() || seen[h.Key+h.Desc] {
				return
			}
			seen[h.Key+h.Desc] = true
			items = append(items, fmt.Sprintf("`%s` %s", h.Key, h.Desc))
		}
		for _, g := range m.ctx.Keys.FullHelp() {
			for _, kb := range g {
				add(kb)
			}
		}
		for _, g := range m.helpKeys().FullHelp() {
			for _, kb := range g {
				add(kb)
			}
		}
		for _, kb := range m.ctx.Keys.ShortHelp() {
			add(kb)
		}
		fmt.Fprintf(&b, "| %s | %s |\n", sc.name, strings.Join(items, " · "))
		if m.cancel != nil {
			m.cancel()
		}
	}
	return b.String()
}

// TestREADMEKeysByScreen: docs/keys.md's table of the keys each screen names is
// the keymaps' own; it fails when they differ (-update rewrites it).
func TestREADMEKeysByScreen(t *testing.T) { synctest.Test(t, testREADMEKeysByScreen) }

func testREADMEKeysByScreen(t *testing.T) {
	const path = "../docs/keys.md"
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, keysDocBegin), strings.Index(doc, keysDocEnd)
	if i < 0 || j < i {
		t.Fatalf("docs/keys.md lacks the generated keys table's markers %q … %q", keysDocBegin, keysDocEnd)
	}
	got := doc[i+len(keysDocBegin) : j]
	want := "\n" + keysByScreen(t)
	if got == want {
		return
	}
	if f := flag.Lookup("update"); f != nil && f.Value.String() == "true" {
		if err := os.WriteFile(path, []byte(doc[:i+len(keysDocBegin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("docs/keys.md's keys by screen differ from the keymap (go test ./ui -run TestREADMEKeysByScreen -update):\n%s", want)
}
