//go:build unix

package providers

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup makes c the leader of a new process group and, when its
// context ends, kills the whole group, grandchildren included.
func ownProcessGroup(c *exec.Cmd) {
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	c.Cancel = func() error {
		return syscall.Kill(-c.Process.Pid, syscall.SIGKILL)
	}
}
