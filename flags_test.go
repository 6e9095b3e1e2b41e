package main

import (
	"strings"
	"testing"
)

// The dashboard, council run and council bench check the settings flags
// with one helper: each bad value gets the same message and exit 2 from
// all three, before any config is loaded or model called.
func TestSessionFlagsAreCheckedAlike(t *testing.T) {
	bad := []struct {
		flags []string
		want  string
	}{
		{[]string{"--temperature", "3"}, `--temperature "3": want a number from 0 to 2`},
		{[]string{"--max-tokens", "-1"}, "--max-tokens cannot be negative"},
		{[]string{"--max-cost", "-1"}, "--max-cost must be a positive number of dollars"},
		{[]string{"--max-cost", "NaN"}, "--max-cost must be a positive number of dollars"},
		{[]string{"--system", "a", "--system-file", "b"}, "give --system or --system-file, not both"},
		{[]string{"--system-file", "testdata/no-such-file"}, "--system-file: open testdata/no-such-file"},
		{[]string{"--models", "sim/a,sim/a"}, `--models lists "sim/a" more than once`},
	}
	commands := map[string][]string{"dashboard": nil, "run": {"run", "a prompt"}, "bench": {"bench"}}
	for _, b := range bad {
		for name, cmd := range commands {
			args := append(append([]string{}, cmd...), b.flags...)
			args = append(args, "--config", "testdata/no-such-config.toml")
			_, errOut, code := council(t, nil, args...)
			if code != exitUsage || !strings.Contains(errOut, b.want) {
				t.Errorf("%s %v: exit %d, stderr %q; want 2 and %q", name, b.flags, code, errOut, b.want)
			}
		}
	}
	// A strategy the engine does not know is refused alike by the two
	// commands that take the engine's names (bench adds its own, single).
	for _, cmd := range [][]string{{"--strategy", "relay"}, {"run", "--strategy", "relay", "x"}} {
		_, errOut, code := council(t, nil, cmd...)
		if code != exitUsage || !strings.Contains(errOut, `"relay"`) {
			t.Errorf("%v: exit %d, stderr %q", cmd, code, errOut)
		}
	}
}
