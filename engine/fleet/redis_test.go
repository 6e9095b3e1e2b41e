package fleet

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server this test started, on a unix socket in
// its temp dir.
type redisServer struct {
	t    testing.TB
	sock string
	cmd  *exec.Cmd
}

// startRedis starts a redis-server without persistence; the test is
// skipped when there is none (CI installs Debian's).
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server; .ci/run installs it): skipping the tests against a real Redis")
	}
	r := &redisServer{t: t, sock: filepath.Join(t.TempDir(), "redis.sock")}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// start runs the server and returns once it accepts connections (it says
// so on its output).
func (r *redisServer) start() {
	r.t.Helper()
	cmd := exec.Command("redis-server", "--port", "0", "--unixsocket", r.sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--loglevel", "notice")
	// Its own pipe, not StdoutPipe: it is read until the server exits,
	// after Wait.
	out, w, err := os.Pipe()
	if err != nil {
		r.t.Fatal(err)
	}
	cmd.Stdout = w
	dieWithTest(cmd)
	err = cmd.Start()
	w.Close()
	if err != nil {
		out.Close()
		r.t.Fatal(err)
	}
	r.cmd = cmd
	sc := bufio.NewScanner(out)
	var seen []string
	for sc.Scan() {
		seen = append(seen, sc.Text())
		if strings.Contains(strings.ToLower(sc.Text()), "ready to accept connections") {
			go func() { // keep its pipe drained until it exits
				for sc.Scan() {
				}
				out.Close()
			}()
			return
		}
	}
	out.Close()
	r.t.Fatalf("redis-server did not start:\n%s", strings.Join(seen, "\n"))
}

// stop kills the server and waits for it.
func (r *redisServer) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	_ = r.cmd.Wait()
	r.cmd = nil
}

// store is a store on r with timeout; fleet names the test's keys.
func (r *redisServer) store(t testing.TB, timeout time.Duration) *Store {
	s := New(&redis.Options{Network: "unix", Addr: r.sock}, "test-"+t.Name(), timeout)
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
	return s
}
