package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Load reads, decodes and validates the config file at path. Its
// Source is path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		msg := "cannot read the config file"
		if errors.Is(err, fs.ErrNotExist) {
			msg = "no such config file"
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg += ": " + pe.Err.Error()
		}
		return nil, &Error{File: path, Msg: msg, Err: err}
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.Why = "read from " + path
	return c, nil
}

// Find resolves which config to use: flagPath (from --config), then
// $COUNCIL_CONFIG, then $XDG_CONFIG_HOME/council/council.toml (or
// ~/.config/council/council.toml) if it exists, else [DefaultCouncil]. It sets
// Source and Why. getenv is os.Getenv outside tests.
func Find(flagPath string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if flagPath != "" {
		c, err := Load(flagPath)
		if err != nil {
			return nil, err
		}
		c.Why = "given with --config"
		return c, nil
	}
	if p := getenv("COUNCIL_CONFIG"); p != "" {
		c, err := Load(p)
		if err != nil {
			return nil, err
		}
		c.Why = "named by $COUNCIL_CONFIG"
		return c, nil
	}
	if p := userConfigPath(getenv); p != "" {
		_, err := os.Stat(p)
		switch {
		case err == nil:
			c, err := Load(p)
			if err != nil {
				return nil, err
			}
			c.Why = "found at the standard location " + p
			return c, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, &Error{File: p, Msg: "cannot read the config file: " + err.Error(), Err: err}
		}
	}
	return DefaultCouncil(getenv), nil
}

// userConfigPath is $XDG_CONFIG_HOME/council/council.toml, else
// $HOME/.config/council/council.toml; empty when neither is known.
func userConfigPath(getenv func(string) string) string {
	// The XDG spec says a relative XDG_CONFIG_HOME is invalid and ignored.
	if dir := getenv("XDG_CONFIG_HOME"); dir != "" && filepath.IsAbs(dir) {
		return filepath.Join(dir, "council", "council.toml")
	}
	home := getenv("HOME")
	if home == "" {
		return ""
	}
	return filepath.Join(home, ".config", "council", "council.toml")
}
