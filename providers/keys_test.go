package providers

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestKeyCmdFailureDoesNotShowItsOutput(t *testing.T) {
	const fake = "sk-live-FAKEKEY0123456789abcdef"
	const plain = "hunter2-correct-horse" // not shaped like a key
	// The secrets come from the environment, so that the command's own
	// text (which the error may name) holds neither.
	t.Setenv("COUNCIL_TEST_FAKE", fake)
	t.Setenv("COUNCIL_TEST_PLAIN", plain)
	_, err := ResolveKey(context.Background(), "", `echo "$COUNCIL_TEST_FAKE" >&2; echo "$COUNCIL_TEST_PLAIN" >&2; exit 1`)
	if err == nil {
		t.Fatal("a failing api_key_cmd gave no error")
	}
	msg := err.Error()
	if strings.Contains(msg, "FAKEKEY") || strings.Contains(msg, plain) {
		t.Errorf("the error copies the command's stderr: %q", msg)
	}
	if !strings.Contains(msg, "exit status 1") {
		t.Errorf("the error does not say how the command ended: %q", msg)
	}
}

func TestKeyCmdShowsTheCommandRedacted(t *testing.T) {
	_, err := ResolveKey(context.Background(), "", "echo sk-inline-0123456789 >/dev/null; exit 3")
	if err == nil || strings.Contains(err.Error(), "0123456789") {
		t.Errorf("error %v shows a key written in the command", err)
	}
}

func TestKeyCmdOutput(t *testing.T) {
	k, err := ResolveKey(context.Background(), "", "printf '  the-key\\n'")
	if err != nil || k != "the-key" {
		t.Errorf("got %q, %v; want the-key", k, err)
	}
}

// alive reports whether pid is a live process (a zombie is dead).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z'
	}
	return true
}

// keyCmdLeavesNoChild runs a command whose child outlives the shell, ends
// it by timeout or by cancel, and checks that it returned promptly and
// that the grandchild is gone.
func keyCmdLeavesNoChild(t *testing.T, ctx context.Context) error {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("no process groups")
	}
	pidFile := filepath.Join(t.TempDir(), "pid")
	start := time.Now()
	_, err := ResolveKey(ctx, "", "sleep 30 & echo $! > "+pidFile+"; sleep 30")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("ResolveKey took %s; the command should have been stopped", d)
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatalf("the command did not write its child's pid: %v", rerr)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid <= 0 {
		t.Fatalf("bad pid %q", b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the command's child %d is still alive", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

func TestKeyCmdTimeoutKillsTheGroup(t *testing.T) {
	old := keyCmdTimeout
	keyCmdTimeout = 300 * time.Millisecond
	defer func() { keyCmdTimeout = old }()
	err := keyCmdLeavesNoChild(t, context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("err %v, want a timeout", err)
	}
}

func TestKeyCmdCancelKillsTheGroup(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(300*time.Millisecond, cancel)
	defer timer.Stop()
	defer cancel()
	err := keyCmdLeavesNoChild(t, ctx)
	if err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("err %v, want cancelled", err)
	}
}

func TestRedactKeepsWhatFollowsTheToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Authorization: Bearer abc123; next", "Authorization: Bearer [REDACTED]; next"},
		{"Bearer abc123, Bearer def456", "Bearer [REDACTED], Bearer [REDACTED]"},
		{`{"auth":"Bearer abc.def-ghi_jkl"}`, `{"auth":"Bearer [REDACTED]"}`},
		{"Bearer  then Bearer xyz", "Bearer  then Bearer [REDACTED]"},
		{"no token here", "no token here"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
