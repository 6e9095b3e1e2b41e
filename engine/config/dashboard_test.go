package config

import (
	"testing"
	"time"
)

// TestDashboardAutoFireHold: [dashboard] auto_fire_hold is read, and
// defaults to 3s.
func TestDashboardAutoFireHold(t *testing.T) {
	base := "[providers.sim]\nkind = \"sim\"\n[[models]]\nid = \"sim/a\"\nprovider = \"sim\"\n"
	c, err := Parse([]byte(base), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Dashboard.Hold(); got != 3*time.Second {
		t.Errorf("default hold %s, want 3s", got)
	}
	c, err = Parse([]byte("[dashboard]\nauto_fire_hold = \"5s\"\n"+base), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Dashboard.Hold(); got != 5*time.Second {
		t.Errorf("hold %s, want 5s", got)
	}
	if _, err := Parse([]byte("[dashboard]\nauto_fire_hol = \"5s\"\n"+base), "c.toml"); err == nil {
		t.Error("a misspelt dashboard key was accepted")
	}
}
