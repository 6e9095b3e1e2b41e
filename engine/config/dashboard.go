package config

import "time"

// DefaultAutoFireHold is how long the dashboard's auto-fire holds a
// finished session's result on screen before the next one starts.
const DefaultAutoFireHold = 3 * time.Second

// DashboardConfig is the [dashboard] table: settings of the terminal
// dashboard only (the engine ignores it).
type DashboardConfig struct {
	// AutoFireHold is how long auto-fire holds a result on screen before
	// the next session (default 3s; zero or unset means the default).
	AutoFireHold Duration `toml:"auto_fire_hold"`
}

// Hold is AutoFireHold, or the default when it is not set.
func (d DashboardConfig) Hold() time.Duration {
	if d.AutoFireHold.Duration > 0 {
		return d.AutoFireHold.Duration
	}
	return DefaultAutoFireHold
}
