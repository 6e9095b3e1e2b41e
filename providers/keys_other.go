//go:build !unix

package providers

import "os/exec"

// ownProcessGroup does nothing where there are no process groups; the
// command alone is killed when its context ends.
func ownProcessGroup(*exec.Cmd) {}
