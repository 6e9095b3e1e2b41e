package main

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/council-dev/council/engine/config"
	"github.com/rogpeppe/go-internal/txtar"
)

// docPages is README.md and every page of docs/.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"README.md"}, pages...)
}

// tomlBlock is a ```toml block of the docs.
type tomlBlock struct {
	where string // file:line of its first line
	text  string
}

func docTOMLBlocks(t *testing.T) []tomlBlock {
	t.Helper()
	var blocks []tomlBlock
	for _, page := range docPages(t) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		var cur *tomlBlock
		for i, l := range strings.Split(string(raw), "\n") {
			switch {
			case cur == nil && l == "```toml":
				cur = &tomlBlock{where: fmt.Sprintf("%s:%d", page, i+2)}
			case cur != nil && l == "```":
				blocks = append(blocks, *cur)
				cur = nil
			case cur != nil:
				cur.text += l + "\n"
			}
		}
	}
	return blocks
}

// configKey says whether the dotted key path names a setting of
// config.Config, following the toml tags (a map's key, such as a tier's
// or a provider's name, is any word).
func configKey(path []string) bool {
	t := reflect.TypeFor[config.Config]()
	for _, name := range path {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
		default:
			return false
		}
		found := false
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if tag, _, _ := strings.Cut(f.Tag.Get("toml"), ","); tag == name {
				t, found = f.Type, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

var (
	tomlTable      = regexp.MustCompile(`^\[\[?([\w.-]+)\]\]?`)
	tomlKey        = regexp.MustCompile(`^(#\s*)?([a-z_]+)\s*=`)
	tomlSimID      = regexp.MustCompile(`"(sim/\w+)"`)
	tomlModelIDDef = regexp.MustCompile(`(?m)^id = "([^"]+)"`)
	tomlRouteName  = regexp.MustCompile(`(?m)^\[\[router\.routes\]\]\n(?:#.*\n)*name = "(\w+)"`)
	tomlTierRef    = regexp.MustCompile(`(?m)^tier = "(\w+)"`)
)

// parseFragment parses a config the docs show, as it is, or, when it
// shows a few tables only, with the simulated models it names added (a
// [providers.sim], a [[models]] for each sim/NAME it names but does
// not define, the tiers it names, and its route as the default when it
// shows one alone), so that it validates as a whole config would.
func parseFragment(text string) error {
	if _, err := config.Parse([]byte(text), "doc.toml"); err == nil {
		return nil
	}
	whole := text
	if !strings.Contains(text, "[providers.sim]") {
		whole += "\n[providers.sim]\nkind = \"sim\"\n"
	}
	defined := map[string]bool{}
	for _, m := range tomlModelIDDef.FindAllStringSubmatch(text, -1) {
		defined[m[1]] = true
	}
	for _, m := range tomlSimID.FindAllStringSubmatch(text, -1) {
		if !defined[m[1]] {
			defined[m[1]] = true
			whole += fmt.Sprintf("\n[[models]]\nid = %q\nprovider = \"sim\"\n", m[1])
		}
	}
	if len(defined) == 0 {
		whole += "\n[[models]]\nid = \"sim/swift\"\nprovider = \"sim\"\n"
	}
	// A route shown alone stands among the routes one keeps (routes
	// given replace the built-in ones): it is the default here.
	if r := tomlRouteName.FindStringSubmatch(text); r != nil && !strings.Contains(text, "default_route") {
		whole += fmt.Sprintf("\n[router]\ndefault_route = %q\n", r[1])
	}
	// The tiers it names (and quick, the default), each of every model.
	tiers := []string{"quick"}
	for _, m := range tomlTierRef.FindAllStringSubmatch(text, -1) {
		tiers = append(tiers, m[1])
	}
	for _, tier := range tiers {
		if h := "[tiers." + tier + "]"; !strings.Contains(whole, h) {
			whole += "\n" + h + "\n"
		}
	}
	_, err := config.Parse([]byte(whole), "doc.toml")
	return err
}

// TestDocConfigSnippets: every ```toml block of README.md and docs/ is a
// config council takes (config.Parse: the syntax, every key known, the
// values valid), as it is or as a fragment with the simulated models it
// names, and every key it shows commented out (# key = value, an
// optional setting) is a key of its table too.
func TestDocConfigSnippets(t *testing.T) {
	blocks := docTOMLBlocks(t)
	if len(blocks) < 6 {
		t.Fatalf("found %d ```toml blocks in the docs; they were not found", len(blocks))
	}
	for _, b := range blocks {
		if err := parseFragment(b.text); err != nil {
			t.Errorf("%s: the config shown does not parse: %v\n%s", b.where, err, b.text)
		}
		var table []string
		for _, l := range strings.Split(b.text, "\n") {
			l = strings.TrimSpace(l)
			if m := tomlTable.FindStringSubmatch(l); m != nil {
				table = strings.Split(m[1], ".")
				continue
			}
			m := tomlKey.FindStringSubmatch(l)
			if m == nil || m[1] == "" {
				continue
			}
			if key := append(append([]string{}, table...), m[2]); !configKey(key) {
				t.Errorf("%s: %q is shown as a setting of [%s], which has no such key", b.where, l, strings.Join(table, "."))
			}
		}
	}
}

// docConfigKey is a dotted config key named in the docs' prose
// (`serve.max_body_bytes`, `tiers.NAME.models`).
var docConfigKey = regexp.MustCompile("`((?:breaker|race|hedge|consensus|council|router|section|limits|retry|dashboard|serve|shared|tiers|providers)\\.[A-Za-z_.]+)`")

// TestDocConfigKeys: every dotted key the docs' prose names in backticks
// is a setting of the config, so a key renamed in the code cannot stay
// named in a page.
func TestDocConfigKeys(t *testing.T) {
	n := 0
	for _, page := range docPages(t) {
		raw, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for i, l := range strings.Split(string(raw), "\n") {
			for _, m := range docConfigKey.FindAllStringSubmatch(l, -1) {
				n++
				if !configKey(strings.Split(m[1], ".")) {
					t.Errorf("%s:%d: `%s` names no setting of the config", page, i+1, m[1])
				}
			}
		}
	}
	if n < 30 {
		t.Errorf("found %d dotted config keys in the docs; they were not found", n)
	}
	for _, k := range []string{"serve.max_body_bytes", "tiers.NAME.models", "section.vote_when"} {
		if !configKey(strings.Split(k, ".")) {
			t.Errorf("configKey(%s) = false, want true", k)
		}
	}
	for _, k := range []string{"serve.max_bodies", "tiers.NAME.model", "nothing"} {
		if configKey(strings.Split(k, ".")) {
			t.Errorf("configKey(%s) = true, want false", k)
		}
	}
}

// TestDocGatewayConfig: the gateway.toml config_gateway.txtar runs
// council config check on, for docs/config.md's example of its output,
// begins with the page's block of gateway providers.
func TestDocGatewayConfig(t *testing.T) {
	var block string
	for _, b := range docTOMLBlocks(t) {
		if strings.HasPrefix(b.where, "docs/config.md:") && strings.Contains(b.text, "[providers.portkey]") {
			block = b.text
		}
	}
	if block == "" {
		t.Fatal("docs/config.md shows no gateway providers ([providers.portkey])")
	}
	a, err := txtar.ParseFile("testdata/script/config_gateway.txtar")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range a.Files {
		if f.Name == "gateway.toml" {
			if !strings.HasPrefix(string(f.Data), block) {
				t.Errorf("config_gateway.txtar's gateway.toml does not begin with docs/config.md's block:\n%s", block)
			}
			return
		}
	}
	t.Fatal("config_gateway.txtar has no gateway.toml")
}

// configTags is every key of the config, in any table.
func configTags() map[string]bool {
	tags := map[string]bool{}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || seen[t] {
			return
		}
		seen[t] = true
		for i := 0; i < t.NumField(); i++ {
			if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ","); tag != "" && tag != "-" {
				tags[tag] = true
				walk(t.Field(i).Type)
			}
		}
	}
	walk(reflect.TypeFor[config.Config]())
	return tags
}

// TestDocConfigSettings: a setting the docs write out in prose
// (`[retry] attempts = 2, backoff = "250ms"`, `follow_up = "winner"`) or
// in a usage (record = true  # in the config) is a key of the table it
// names, or, named alone, of some table.
func TestDocConfigSettings(t *testing.T) {
	tags := configTags()
	setting := regexp.MustCompile(`^(?:\[([\w.]+)\] )?([a-z_]+ = .*)$`)
	n := 0
	check := func(where, s string, several bool) {
		m := setting.FindStringSubmatch(s)
		if m == nil {
			return
		}
		kvs := []string{m[2]}
		if several { // `[retry] attempts = 2, backoff = "250ms"`
			kvs = strings.Split(m[2], ", ")
		}
		for _, kv := range kvs {
			k, _, ok := strings.Cut(kv, " = ")
			if !ok {
				continue
			}
			n++
			switch {
			case m[1] != "" && !configKey(append(strings.Split(m[1], "."), k)):
				t.Errorf("%s: [%s] has no key %s: %s", where, m[1], k, s)
			case m[1] == "" && !tags[k]:
				t.Errorf("%s: %s is a key of no table of the config: %s", where, k, s)
			}
		}
	}
	for _, c := range docCodes(t) {
		if c.block != 0 {
			body, _, _ := strings.Cut(strings.TrimSpace(c.text), "  #")
			if !strings.Contains(c.where, ".md:") || strings.HasPrefix(body, "$") {
				continue
			}
			check(c.where, strings.TrimSpace(body), false)
			continue
		}
		check(c.where, c.text, true)
	}
	if n < 10 {
		t.Errorf("found %d settings written out in the docs; they were not found", n)
	}
}
