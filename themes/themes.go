// Package themes holds the dashboard's colour themes as data: TOML files
// embedded in the binary, each a palette of named colours and then the
// semantic roles the dashboard paints with (Accent, Muted, Error, Ok...).
//
// [Parse] is pure; [Load] and [Names] read only the embedded files. Nothing
// here mutates package-level state.
package themes

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"image/color"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/BurntSushi/toml"
)

//go:embed data/*.toml
var files embed.FS

// Default is the theme used when none is named.
const Default = "dark"

// ErrUnknown is returned by [Load] for a name that is not embedded.
var ErrUnknown = errors.New("unknown theme")

// Theme is a parsed theme: its palette and the colour of every role.
// A role's colour is nil in the [NoColor] theme; the dashboard then keeps
// statuses readable through text, glyphs, bold and reverse video.
type Theme struct {
	Name    string
	Palette map[string]color.Color

	Text      color.Color // ordinary text
	Subtle    color.Color // secondary text: labels, units
	Muted     color.Color // de-emphasised: idle panes, empty bar cells
	Border    color.Color // pane borders
	Focus     color.Color // the focused pane's border
	Accent    color.Color // titles, the prompt, highlights
	Ok        color.Color // success, closed breakers
	Warn      color.Color // half-open breakers, degraded sessions
	Error     color.Color // failures, open breakers
	Running   color.Color // attempts in flight
	Queued    color.Color // attempts waiting for a slot
	Cancelled color.Color // attempts cancelled (lost the race, decided...)
	Won       color.Color // the winner
	Skipped   color.Color // attempts skipped by an open breaker

	// NoColor is set for the colourless theme.
	NoColor bool
}

// roles maps each role key of the [roles] table to its field.
func (t *Theme) roles() []struct {
	key string
	dst *color.Color
} {
	return []struct {
		key string
		dst *color.Color
	}{
		{"text", &t.Text}, {"subtle", &t.Subtle}, {"muted", &t.Muted},
		{"border", &t.Border}, {"focus", &t.Focus}, {"accent", &t.Accent},
		{"ok", &t.Ok}, {"warn", &t.Warn}, {"error", &t.Error},
		{"running", &t.Running}, {"queued", &t.Queued},
		{"cancelled", &t.Cancelled}, {"won", &t.Won}, {"skipped", &t.Skipped},
	}
}

type file struct {
	Name    string            `toml:"name"`
	Palette map[string]string `toml:"palette"`
	Roles   map[string]string `toml:"roles"`
}

// Parse reads a theme from TOML: a name, a [palette] of named colours
// ("#rrggbb", "#rgb" or an ANSI index 0-255), and a [roles] table giving
// every role a palette name or a colour. Unknown keys, missing roles and
// bad colours are errors naming the key.
func Parse(b []byte) (Theme, error) {
	var f file
	md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&f)
	if err != nil {
		return Theme{}, fmt.Errorf("theme: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Theme{}, fmt.Errorf("theme: unknown key %q", und[0].String())
	}
	if strings.TrimSpace(f.Name) == "" {
		return Theme{}, errors.New("theme: missing name")
	}
	t := Theme{Name: f.Name, Palette: make(map[string]color.Color, len(f.Palette))}
	for k, v := range f.Palette {
		c, err := parseColor(v)
		if err != nil {
			return Theme{}, fmt.Errorf("theme %s: palette.%s: %w", f.Name, k, err)
		}
		t.Palette[k] = c
	}
	known := map[string]bool{}
	for _, r := range t.roles() {
		known[r.key] = true
		v, ok := f.Roles[r.key]
		if !ok {
			return Theme{}, fmt.Errorf("theme %s: roles.%s is missing", f.Name, r.key)
		}
		if c, ok := t.Palette[v]; ok {
			*r.dst = c
			continue
		}
		c, err := parseColor(v)
		if err != nil {
			return Theme{}, fmt.Errorf("theme %s: roles.%s: %q is neither a palette name nor a colour", f.Name, r.key, v)
		}
		*r.dst = c
	}
	for k := range f.Roles {
		if !known[k] {
			return Theme{}, fmt.Errorf("theme %s: unknown role %q", f.Name, "roles."+k)
		}
	}
	return t, nil
}

// parseColor accepts "#rgb", "#rrggbb" or an ANSI index "0".."255".
func parseColor(s string) (color.Color, error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "#"); ok {
		if len(rest) != 3 && len(rest) != 6 {
			return nil, fmt.Errorf("bad colour %q (want #rgb or #rrggbb)", s)
		}
		if _, err := strconv.ParseUint(rest, 16, 32); err != nil {
			return nil, fmt.Errorf("bad colour %q (want #rgb or #rrggbb)", s)
		}
		return lipgloss.Color(s), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 255 {
		return nil, fmt.Errorf("bad colour %q (want #rrggbb or an ANSI index 0-255)", s)
	}
	return lipgloss.Color(s), nil
}

// Names lists the embedded themes, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, "data")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".toml"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// Load parses the embedded theme called name ("" is [Default]). The name
// "none" (or "no-color") gives [NoColor].
func Load(name string) (Theme, error) {
	switch name {
	case "":
		name = Default
	case "none", "no-color", "nocolor":
		return NoColor(), nil
	}
	b, err := files.ReadFile(path.Join("data", name+".toml"))
	if err != nil {
		return Theme{}, fmt.Errorf("%w %q (have %s)", ErrUnknown, name, strings.Join(Names(), ", "))
	}
	return Parse(b)
}

// NoColor returns the colourless theme: every role is nil and NoColor is
// set, for NO_COLOR terminals and plain-text captures.
func NoColor() Theme {
	return Theme{Name: "none", Palette: map[string]color.Color{}, NoColor: true}
}

// NoColorEnv reports whether the NO_COLOR convention asks for no colour
// (the variable is set and not empty; https://no-color.org).
func NoColorEnv() bool { return os.Getenv("NO_COLOR") != "" }
