package main

import (
	"context"
	"errors"

	"github.com/council-dev/council/engine"
)

var errNoDashboard = errors.New("the dashboard is not built into this version yet: use council run")

func runDashboard(ctx context.Context, eng *engine.Engine, cfg *engine.Config, theme string, getenv func(string) string) error {
	return errNoDashboard
}
