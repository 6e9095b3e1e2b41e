package config

import (
	"cmp"
	"fmt"
	"strings"
)

// Error is a bad config: it names the file, the line and the key, so
// that a typo never falls back silently to a default.
type Error struct {
	File string // the config's path or name ("council.toml")
	Line int    // 1-based; 0 when unknown
	Key  string // dotted TOML key ("tiers.quick.timeout"); empty when unknown
	Msg  string
	// Err is the underlying error, if any (a file that cannot be read).
	Err error
}

// Error returns "council.toml:12: key tiers.quick.timout: unknown key".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(cmp.Or(e.File, "config"))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %s: ", e.Key)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Errorf reports a problem with a top-level key found outside the engine
// (the dashboard's theme, say) as a *[Error] naming the config's
// file and the key's line.
func (c *Config) Errorf(key, format string, args ...any) error {
	return &Error{File: c.Source, Line: findLine(c.keys, []string{key}, -1), Key: key, Msg: fmt.Sprintf(format, args...)}
}
