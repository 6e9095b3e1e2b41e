package ui

import "github.com/council-dev/council/engine"

// The engine is the dashboard's real backend.
var _ Backend = (*engine.Engine)(nil)
