package config

import (
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// configKey is a key of the config: its dotted path ("tiers.*.timeout", a
// map's names written *) and whether it is a table.
type configKey struct {
	path  string
	table bool
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// configKeys lists every key of rt's fields, each table before the keys
// inside it, and the problems of fields without a usable toml tag.
func configKeys(rt reflect.Type, prefix string) (keys []configKey, problems []string) {
	seen := map[string]string{}
	for f := range rt.Fields() {
		if !f.IsExported() {
			continue
		}
		tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
		where := rt.Name() + "." + f.Name
		switch {
		case tag == "-":
			continue
		case tag == "":
			problems = append(problems, where+" has no toml tag: the decoder would take its Go name as the key")
			continue
		case !snakeCase.MatchString(tag):
			problems = append(problems, where+": key "+tag+" is not lower snake_case")
		}
		if other, dup := seen[tag]; dup {
			problems = append(problems, other+" and "+where+" are both key "+tag)
		}
		seen[tag] = where
		path := prefix + tag
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		inner := path + "."
		if ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct {
			ft, inner = ft.Elem(), path+".*."
		}
		if ft.Kind() != reflect.Struct || ft == reflect.TypeFor[Duration]() || ft == reflect.TypeFor[HedgeDelay]() {
			keys = append(keys, configKey{path: path})
			continue
		}
		keys = append(keys, configKey{path: path, table: true})
		k, p := configKeys(ft, inner)
		keys, problems = append(keys, k...), append(problems, p...)
	}
	return keys, problems
}

// undocumented lists the keys demo does not show: a table needs its header
// ([breaker], [tiers.quick], [[models]], [models.sim]), commented out or
// not; a key needs "key =", "`key`", or to head a commented list of keys
// ("#   rate_limit_rate, error_rate, ...").
func undocumented(keys []configKey, demo string) []string {
	var missing []string
	for _, k := range keys {
		var re *regexp.Regexp
		if k.table {
			path := strings.ReplaceAll(regexp.QuoteMeta(k.path), `\*`, `[^\].]+`)
			re = regexp.MustCompile(`\[\[?` + path + `[\].]`)
		} else {
			leaf := regexp.QuoteMeta(k.path[strings.LastIndex(k.path, ".")+1:])
			re = regexp.MustCompile(`\b` + leaf + `\s*=|` + "`" + leaf + "`" + `|(?m)^#\s+([a-z_0-9]+,\s*)*` + leaf + `\b`)
		}
		if !re.MatchString(demo) {
			missing = append(missing, k.path)
		}
	}
	return missing
}

// TestEveryKeyIsTaggedAndInTheDemo is the config-key recipe's check (see
// ARCHITECTURE.md): every field of Config and its tables has a toml tag, and
// every key is in demo.toml, the commented example of every key that the
// README points to. A key added without its entry there fails here.
func TestEveryKeyIsTaggedAndInTheDemo(t *testing.T) {
	keys, problems := configKeys(reflect.TypeFor[Config](), "")
	for _, p := range problems {
		t.Error(p)
	}
	if len(keys) < 100 {
		t.Fatalf("found %d keys; the walk over Config is broken", len(keys))
	}
	for _, k := range undocumented(keys, string(DemoTOML())) {
		t.Errorf("key %s is not in demo.toml: add it there (commented out if the demo does not use it) with what it does and its default", k)
	}
}

// TestRecipeCheckFindsAMissingKey: the checks above catch an untagged
// field and a key or table the demo does not show.
func TestRecipeCheckFindsAMissingKey(t *testing.T) {
	type table struct {
		Named    int `toml:"named"`
		Untagged int
	}
	type root struct {
		T    table            `toml:"t"`
		Each map[string]table `toml:"each"`
	}
	keys, problems := configKeys(reflect.TypeFor[root](), "")
	if len(problems) != 2 || !strings.Contains(problems[0], "table.Untagged has no toml tag") {
		t.Errorf("problems %q; want the untagged field, once per table it is in", problems)
	}
	var paths []string
	for _, k := range keys {
		paths = append(paths, k.path)
	}
	if got, want := strings.Join(paths, " "), "t t.named each each.*.named"; got != want {
		t.Errorf("keys %q; want %q", got, want)
	}
	for _, tt := range []struct {
		demo, missing string
	}{
		{"[t]\nnamed = 1\n[each.x]\n# `named`\n", ""},
		{"# [t]\n# named = 1\n# [each.x]\n", ""},
		{"[t]\n# unnamed = 1\n[each.x]\n", "t.named each.*.named"},
		{"named = 1\n[each.x]\n", "t"},
		{"[t]\n#   other, named   what they do\n[eachx]\n", "each"},
	} {
		if got := strings.Join(undocumented(keys, tt.demo), " "); got != tt.missing {
			t.Errorf("demo %q: missing %q; want %q", tt.demo, got, tt.missing)
		}
	}
}
