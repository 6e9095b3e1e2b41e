package themes

import (
	"errors"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestEmbeddedThemesParse(t *testing.T) {
	names := Names()
	for _, want := range []string{"dark", "light", "high-contrast"} {
		if !contains(names, want) {
			t.Errorf("Names() = %v, want it to contain %q", names, want)
		}
	}
	for _, n := range names {
		th, err := Load(n)
		if err != nil {
			t.Errorf("Load(%q): %v", n, err)
			continue
		}
		if th.Name != n {
			t.Errorf("Load(%q).Name = %q, want the file name", n, th.Name)
		}
		for _, r := range th.roles() {
			if *r.dst == nil {
				t.Errorf("theme %s: role %s has no colour", n, r.key)
			}
		}
		if th.NoColor {
			t.Errorf("theme %s: NoColor set", n)
		}
	}
}

func TestLoadDefaultsAndNone(t *testing.T) {
	th, err := Load("")
	if err != nil || th.Name != Default {
		t.Fatalf("Load(\"\") = %q, %v; want %q", th.Name, err, Default)
	}
	nc, err := Load("none")
	if err != nil || !nc.NoColor || nc.Accent != nil {
		t.Fatalf("Load(none) = %+v, %v; want the colourless theme", nc, err)
	}
	_, err = Load("solarized-neon")
	if !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "dark") {
		t.Fatalf("Load(unknown) error = %v; want ErrUnknown listing the themes", err)
	}
}

const good = `
name = "t"
[palette]
a = "#112233"
[roles]
text = "a"
subtle = "a"
muted = "a"
border = "a"
focus = "a"
accent = "#fff"
ok = "2"
warn = "a"
error = "a"
running = "a"
queued = "a"
cancelled = "a"
won = "a"
skipped = "a"
`

func TestParseErrors(t *testing.T) {
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("Parse(good): %v", err)
	}
	tests := []struct {
		name, src, want string
	}{
		{"syntax", "name = ", "theme:"},
		{"no name", strings.Replace(good, `name = "t"`, "", 1), "missing name"},
		{"unknown key", "extra = 1\n" + good, `unknown key "extra"`},
		{"unknown role", good + "sparkle = \"a\"\n", `roles.sparkle`},
		{"missing role", strings.Replace(good, "won = \"a\"\n", "", 1), "roles.won is missing"},
		{"bad palette colour", strings.Replace(good, `"#112233"`, `"#11223"`, 1), "palette.a"},
		{"bad role ref", strings.Replace(good, `ok = "2"`, `ok = "grene"`, 1), `roles.ok: "grene"`},
		{"ansi out of range", strings.Replace(good, `ok = "2"`, `ok = "300"`, 1), "roles.ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
