package config

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestSyntaxErrorLine: a TOML syntax error points at the line the mistake
// is on, also when the parser trips on that line's newline.
func TestSyntaxErrorLine(t *testing.T) {
	tests := []struct {
		src  string
		line int
	}{
		{"[tiers.quick\nmodels = []\n", 1},
		{"default_tier = \"quick\"\nx = \n", 2},
		{"a = \"open\nb = 1\n", 1},
	}
	for _, tt := range tests {
		p := filepath.Join(t.TempDir(), "c.toml")
		os.WriteFile(p, []byte(tt.src), 0o600)
		_, err := Load(p)
		var ce *Error
		if !errors.As(err, &ce) || ce.Line != tt.line {
			t.Errorf("%q: error %v, want it on line %d", tt.src, err, tt.line)
		}
	}
}
