package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"go.uber.org/goleak"
)

// The Gemini SDK pulls in opencensus, whose package init starts a worker
// goroutine that nothing can stop; every other goroutine must be gone.
// testscript.Main makes the test binary the council command too (for the
// scripts of testdata/script, see docs_test.go).
func TestMain(m *testing.M) {
	testscript.Main(leakChecked{m}, map[string]func(){"council": main})
}

// leakChecked runs the tests, then fails the run when a goroutine is left
// (goleak.VerifyTestMain's check; it cannot be used here, as it exits).
type leakChecked struct{ m *testing.M }

func (l leakChecked) Run() int {
	code := l.m.Run()
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start")); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: Errors on successful test run: %v\n", err)
			return 1
		}
	}
	return code
}

// council runs the CLI in-process with a clean environment plus env.
func council(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "HOME" {
			return t.TempDir()
		}
		return ""
	}
	var out, errb bytes.Buffer
	code = realMain(context.Background(), args, strings.NewReader(""), &out, &errb, getenv)
	return out.String(), errb.String(), code
}

func TestRunJSONSummary(t *testing.T) {
	out, errOut, code := council(t, nil, "run", "--config", "testdata/fast.toml", "--json", "--seed", "1", "How do indexes work?")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("output is not one JSON object: %v\n%s", err, out)
	}
	for _, k := range []string{"session", "strategy", "tier", "status", "winner", "answer", "elapsed_ms", "cost_usd", "models", "breakers", "tie_break"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("summary has no %q", k)
		}
	}
	if sum["strategy"] != "race" || sum["tier"] != "quick" || sum["status"] != "decided" || sum["winner"] != "sim/a" {
		t.Errorf("got strategy %v tier %v status %v winner %v, want race quick decided sim/a", sum["strategy"], sum["tier"], sum["status"], sum["winner"])
	}
	models := sum["models"].([]any)
	if len(models) != 3 {
		t.Fatalf("%d models, want 3", len(models))
	}
	statuses := map[string]string{}
	for _, m := range models {
		m := m.(map[string]any)
		statuses[m["id"].(string)] = m["status"].(string)
		for _, k := range []string{"id", "provider", "role", "status", "started_ms", "elapsed_ms", "input_tokens", "output_tokens", "cost_usd"} {
			if _, ok := m[k]; !ok {
				t.Errorf("model %v has no %q", m["id"], k)
			}
		}
	}
	if statuses["sim/a"] != "won" || statuses["sim/b"] != "cancelled" || statuses["sim/c"] != "cancelled" {
		t.Errorf("statuses %v, want a won, b and c cancelled", statuses)
	}
	if b := sum["breakers"].(map[string]any)["sim/a"].(map[string]any); b["state"] != "closed" {
		t.Errorf("breaker %v, want closed", b)
	}
}

func TestRunEventsCoversTheSession(t *testing.T) {
	out, errOut, code := council(t, nil, "run", "--config", "testdata/fast.toml", "--events", "--strategy", "consensus", "I was charged twice")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	seq := 0
	for sc.Scan() {
		var ev map[string]any
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		seq++
		if int(ev["seq"].(float64)) != seq {
			t.Fatalf("seq %v, want %d", ev["seq"], seq)
		}
		if _, ok := ev["t_ms"]; !ok || ev["session"] == "" {
			t.Fatalf("event without t_ms or session: %v", ev)
		}
		seen[ev["type"].(string)] = true
	}
	for _, want := range []string{"session_started", "attempt_started", "first_token", "delta", "attempt_done", "vote_cast", "decided", "session_done"} {
		if !seen[want] {
			t.Errorf("no %s event in %v", want, seen)
		}
	}
}

func TestExitCodes(t *testing.T) {
	bad := t.TempDir() + "/bad.toml"
	os.WriteFile(bad, []byte("[tiers.quick]\nmodels = []\ntimout = \"3s\"\n"), 0o600)
	nan := t.TempDir() + "/nan.toml"
	os.WriteFile(nan, []byte("[providers.sim]\nkind = \"sim\"\n[[models]]\ninput_per_mtok = nan\nid = \"sim/a\"\nprovider = \"sim\"\n"), 0o600)
	badTheme := t.TempDir() + "/theme.toml"
	os.WriteFile(badTheme, []byte("# the dashboard's colours\ntheme = \"neon\"\n[providers.sim]\nkind = \"sim\"\n[[models]]\nid = \"sim/a\"\nprovider = \"sim\"\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want int
		msg  string
	}{
		{"decided", []string{"run", "--config", "testdata/fast.toml", "x"}, 0, ""},
		{"quorum missed", []string{"run", "--config", "testdata/fast.toml", "--tier", "broken", "--strategy", "consensus", "x"}, 1, "quorum not reached"},
		{"all failed", []string{"run", "--config", "testdata/fast.toml", "--models", "sim/bad1,sim/bad2", "x"}, 1, "every model failed"},
		{"bad config", []string{"run", "--config", bad, "x"}, 2, "bad.toml:3: key tiers.quick.timout"},
		{"bad strategy", []string{"run", "--config", "testdata/fast.toml", "--strategy", "vote", "x"}, 2, "unknown strategy"},
		{"unknown tier", []string{"run", "--config", "testdata/fast.toml", "--tier", "nope", "x"}, 2, "unknown tier"},
		{"unknown model", []string{"run", "--config", "testdata/fast.toml", "--models", "sim/zz", "x"}, 2, "sim/zz"},
		{"no prompt", []string{"run", "--config", "testdata/fast.toml"}, 2, "no prompt"},
		{"missing file", []string{"run", "--config", "nope.toml", "x"}, 2, "nope.toml"},
		{"bad theme", []string{"config", "check", "--config", badTheme}, 2, "theme.toml:2: key theme: unknown theme \"neon\""},
		{"duplicate model", []string{"run", "--config", "testdata/fast.toml", "--models", "sim/a,sim/b,sim/a", "x"}, 2, `--models lists "sim/a" more than once`},
		{"nan price", []string{"run", "--config", nan, "--json", "x"}, 2, "nan.toml:4: key models.input_per_mtok: must be a finite number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := council(t, nil, tt.args...)
			if code != tt.want || !strings.Contains(errOut, tt.msg) {
				t.Errorf("exit %d stderr %q, want %d containing %q", code, errOut, tt.want, tt.msg)
			}
		})
	}
}

func TestRepeatSharesBreakers(t *testing.T) {
	// Eight sessions, though three failures open the breakers: a failure
	// at 2 ms that a loaded machine (CI, -race) reports after sim/c's
	// answer at 40 ms is cancelled as a lost race and counts for nothing,
	// so the breaker may open a session or two later.
	out, _, code := council(t, nil, "run", "--config", "testdata/fast.toml", "--tier", "broken", "--json", "--repeat", "8", "x")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (sim/c answers every time)", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 8 {
		t.Fatalf("%d summaries, want 8", len(lines))
	}
	var last struct {
		Models   []struct{ ID, Status, Reason string }
		Breakers map[string]struct{ State string }
	}
	if err := json.Unmarshal([]byte(lines[7]), &last); err != nil {
		t.Fatal(err)
	}
	// min_requests 3: three failures open the breakers; the last session skips them.
	if last.Breakers["sim/bad1"].State != "open" {
		t.Errorf("sim/bad1 breaker %q after 8 sessions, want open", last.Breakers["sim/bad1"].State)
	}
	for _, m := range last.Models {
		if m.ID == "sim/bad1" && (m.Status != "skipped" || m.Reason != "breaker_open") {
			t.Errorf("sim/bad1 in session 8: %s/%s, want skipped/breaker_open", m.Status, m.Reason)
		}
	}
}

func TestSeedMakesSimulatedModelsReproducible(t *testing.T) {
	run := func(seed string) string {
		out, _, _ := council(t, nil, "run", "--config", "testdata/fast.toml", "--models", "sim/b", "--seed", seed, "Tell me about the Roman empire")
		return out
	}
	a, b, c := run("7"), run("7"), run("8")
	if a != b || a == "" {
		t.Errorf("same seed, different answers:\n%q\n%q", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same answer %q", a)
	}
}

func TestConfigCheckRedactsKeys(t *testing.T) {
	const secret = "sk-test-DO-NOT-PRINT-1234567890"
	env := map[string]string{"OPENAI_API_KEY": secret}
	out, errOut, code := council(t, env, "config", "check")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out+errOut, secret) {
		t.Fatal("config check printed the key")
	}
	if !strings.Contains(out, "OPENAI_API_KEY") || !strings.Contains(out, "config ok") {
		t.Errorf("config check output does not name the key's source:\n%s", out)
	}
	out, _, _ = council(t, nil, "config", "check")
	if !strings.Contains(out, "demo") {
		t.Errorf("with no key and no config, config check should say the demo council is in use:\n%s", out)
	}
}

func TestVersion(t *testing.T) {
	out, _, code := council(t, nil, "version")
	if code != 0 || !strings.HasPrefix(out, "council ") {
		t.Errorf("version: %d %q", code, out)
	}
}

// TestDependenciesPointOneWay enforces the layering: the engine and
// the providers import no UI package.
func TestDependenciesPointOneWay(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "./engine/...", "./providers/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "bubbletea") || strings.Contains(dep, "lipgloss") || strings.Contains(dep, "charm.land/bubbles") ||
			strings.HasSuffix(dep, "council/ui") || strings.HasSuffix(dep, "council/themes") {
			t.Errorf("engine or providers depend on %s", dep)
		}
	}
	out, err = exec.Command("go", "list", "-deps", "./providers/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "council/engine") {
		t.Error("providers import the engine")
	}
	// Provider kinds reach the config through the registry only.
	out, err = exec.Command("go", "list", "-deps", "./engine/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "council/providers/") {
			t.Errorf("the engine or its config imports the vendor package %s", dep)
		}
	}
}

// A reply's escape sequences (a window title, a screen clear) never reach
// the terminal; the JSON output keeps the text exact, escaped by JSON.
func TestRunStripsTerminalEscapes(t *testing.T) {
	out, errOut, code := council(t, nil, "run", "--config", "testdata/escapes.toml", "--seed", "1", "x")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if strings.ContainsAny(out+errOut, "\x1b\x07") {
		t.Errorf("escape sequences reached the terminal:\nstdout %q\nstderr %q", out, errOut)
	}
	if strings.TrimSpace(out) != "billing" || !strings.Contains(errOut, "answer billing") {
		t.Errorf("stdout %q stderr %q; want the answer billing, escapes removed", out, errOut)
	}
	// An error quoting what the user (or a config file) wrote.
	_, errOut, code = council(t, nil, "run", "--config", "testdata/escapes.toml", "--models", "sim/\x1b]0;pwned\x07zz", "x")
	if code != 2 || strings.ContainsAny(errOut, "\x1b\x07") || !strings.Contains(errOut, "sim/") {
		t.Errorf("exit %d, stderr %q: want 2 and the error without escapes", code, errOut)
	}
	out, _, _ = council(t, nil, "run", "--config", "testdata/escapes.toml", "--seed", "1", "--json", "x")
	var sum struct{ Answer string }
	if err := json.Unmarshal([]byte(out), &sum); err != nil || !strings.HasPrefix(sum.Answer, "\x1b]0;pwned\x07") {
		t.Errorf("--json answer %q (%v); want the exact text", sum.Answer, err)
	}
}

// failingWriter fails every write, as a full disk or a closed pipe does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

func TestRunReportsOutputErrors(t *testing.T) {
	for _, mode := range [][]string{{"--json"}, {"--events"}, {}, {"--repeat", "2"}} {
		t.Run(strings.Join(mode, " "), func(t *testing.T) {
			var errb bytes.Buffer
			args := append([]string{"run", "--config", "testdata/fast.toml"}, mode...)
			code := realMain(context.Background(), append(args, "x"), strings.NewReader(""), failingWriter{}, &errb, func(string) string { return "" })
			if code != exitFailed || !strings.Contains(errb.String(), "writing the output: no space left on device") {
				t.Errorf("exit %d stderr %q; want 1 and the write error", code, errb.String())
			}
		})
	}
	var errb bytes.Buffer
	code := realMain(context.Background(), []string{"config", "check", "--config", "testdata/fast.toml"}, strings.NewReader(""), failingWriter{}, &errb, func(string) string { return "" })
	if code != exitFailed || !strings.Contains(errb.String(), "writing the output") {
		t.Errorf("config check: exit %d stderr %q; want 1 and the write error", code, errb.String())
	}
}

func TestUsageNamesStrategiesAndExit130(t *testing.T) {
	out, _, _ := council(t, nil, "help")
	for _, want := range []string{"race|hedge|consensus|council|auto", "130"} {
		if !strings.Contains(out, want) {
			t.Errorf("usage does not mention %q:\n%s", want, out)
		}
	}
	// Help is asked for: it goes to stdout (exit 0).
	runHelp, _, _ := council(t, nil, "run", "-h")
	if !strings.Contains(runHelp, "race, hedge, consensus, council or auto") {
		t.Errorf("run -h does not list the strategies:\n%s", runHelp)
	}
}

// TestSignalsCancelTheSession runs the real binary, as a script would, and
// stops it with a signal after the first event: the session is cancelled,
// the buffered events are written with the final session_done, and the
// exit status is 130. Real processes and signals: no synctest here, and
// generous bounds.
func TestSignalsCancelTheSession(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGTERM")
	}
	bin := filepath.Join(t.TempDir(), "council")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "run", "--events", "--config", "testdata/slow.toml", "a slow question")
			cmd.Env = append(os.Environ(), "COUNCIL_CONFIG=", "XDG_CONFIG_HOME="+t.TempDir())
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			watchdog := time.AfterFunc(50*time.Second, func() { cmd.Process.Kill() })
			defer watchdog.Stop()
			r := bufio.NewReader(stdout)
			first, err := r.ReadString('\n')
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("no first event: %v; stderr %q", err, stderr.String())
			}
			start := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(r)
			err = cmd.Wait()
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("the process took %s to end after %s", d, sig)
			}
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != exitCancelled {
				t.Errorf("%s: wait %v, want exit status 130; stderr %q", sig, err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(first+string(rest)), "\n")
			var last struct {
				Type    string
				Summary struct{ Status string }
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
				t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
			}
			if last.Type != "session_done" {
				t.Errorf("last event %q, want session_done (events lost?)", last.Type)
			}
			// The engine reports failed today and cancelled once it tells a
			// user's cancel apart; either way never decided.
			if s := last.Summary.Status; s != "cancelled" && s != "failed" {
				t.Errorf("status %q, want cancelled", s)
			}
		})
	}
}

func TestDashboardExitStatus(t *testing.T) {
	live := &cli{ctx: context.Background(), stderr: io.Discard}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	signalled := &cli{ctx: cancelled, stderr: io.Discard}
	tests := []struct {
		name string
		c    *cli
		err  error
		want int
	}{
		{"q", live, nil, exitOK},
		{"a signal cancelled the context", signalled, nil, exitCancelled},
		{"the terminal library caught SIGINT", live, errInterrupted, exitCancelled},
		{"no terminal", live, errNoTerminal, exitUsage},
		{"bad theme", live, fmt.Errorf("%w: neon", errBadTheme), exitUsage},
		{"a failure", live, errors.New("boom"), exitFailed},
	}
	for _, tt := range tests {
		if got := tt.c.dashboardExit(tt.err); got != tt.want {
			t.Errorf("%s: exit %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestVersionAndHelpReportOutputErrors(t *testing.T) {
	for _, cmd := range []string{"version", "help"} {
		var errb bytes.Buffer
		code := realMain(context.Background(), []string{cmd}, strings.NewReader(""), failingWriter{}, &errb, func(string) string { return "" })
		if code != exitFailed || !strings.Contains(errb.String(), "writing the output") {
			t.Errorf("%s: exit %d stderr %q; want 1 and the write error", cmd, code, errb.String())
		}
	}
}

// A signal while the prompt is read from stdin ends the program (130)
// rather than waiting for an end of input that may never come.
func TestSignalWhileReadingThePrompt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r, w := io.Pipe()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second) // the signal
		defer cancel()
		var errb bytes.Buffer
		code := realMain(ctx, []string{"run", "--config", "testdata/fast.toml"}, r, io.Discard, &errb, func(string) string { return "" })
		if code != exitCancelled {
			t.Errorf("exit %d stderr %q, want 130", code, errb.String())
		}
		w.Close() // ends the read left behind
	})
}
