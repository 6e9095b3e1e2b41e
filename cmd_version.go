package main

import (
	"fmt"
	"runtime"
)

// version is the program's version, set with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// printVersion is council version: the version, the Go it was built
// with, and the platform.
func (c *cli) printVersion() int {
	_, err := fmt.Fprintf(c.stdout, "council %s (%s %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return c.written(err)
}
