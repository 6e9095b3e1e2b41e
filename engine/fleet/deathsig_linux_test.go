package fleet

import (
	"os/exec"
	"syscall"
)

// dieWithTest makes the server die with the test binary, even one killed
// by a timeout's panic, when cleanups do not run.
func dieWithTest(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
