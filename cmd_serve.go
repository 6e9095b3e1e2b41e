package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/council-dev/council/engine/serve"
)

const serveUsage = `usage: council serve [--addr 127.0.0.1:8484] [--config FILE] [--seed N] [--debug-addr HOST:PORT]

The strategies behind an OpenAI-compatible API: POST /v1/chat/completions
with model council/race, council/hedge, council/consensus, council/council or
council/auto (optionally @TIER), or a configured model id; GET /v1/models;
every session's events on GET /v1/council/events (what council watch reads);
GET /healthz; GET /metrics (Prometheus). SIGINT or SIGTERM drains: new
connections are refused, sessions in flight get serve.drain_timeout to finish,
then are cancelled (reason shutdown); exit 0.

flags:
  --addr HOST:PORT  where to listen (default: the config's serve.addr, 127.0.0.1:8484);
                    beyond loopback, client tokens are required (serve.tokens_env)
  --config FILE     the config (default: $COUNCIL_CONFIG, then
                    $XDG_CONFIG_HOME/council/council.toml, else the built-in council)
  --seed N          seed for simulated models (default: random)
  --debug-addr HOST:PORT
                    also serve Go's pprof profiles (/debug/pprof/) on this address, a
                    listener of their own, to the admin token only (serve.admin_token_env)

examples:
  council serve
  curl -s localhost:8484/v1/chat/completions -d '{"model":"council/race","messages":[{"role":"user","content":"hi"}]}'
  OPENAI_BASE_URL=http://127.0.0.1:8484/v1 OPENAI_API_KEY=unused some-openai-client
`

// serveListen opens the server's listener; tests swap in an in-memory one.
var serveListen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

func (c *cli) serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var (
		path  = fs.String("config", "", "config file")
		addr  = fs.String("addr", "", "host:port to listen on (default: serve.addr, 127.0.0.1:8484)")
		seed  = fs.Int64("seed", 0, "seed for simulated models (default: random)")
		debug = fs.String("debug-addr", "", "serve pprof on this address, to the admin token only")
	)
	pos, code, ok := c.parseFlags(fs, args, serveUsage)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usage(fmt.Sprintf("council serve takes no arguments, got %q (see council serve --help)", pos[0]))
	}
	cfg, eng, ok := c.setup(*path, *seed)
	if !ok {
		return exitUsage
	}
	defer eng.Close()
	sc := cfg.Serve
	listen := sc.Addr
	if *addr != "" {
		listen = *addr
	}
	var tokens []string
	if sc.TokensEnv != "" {
		if tokens = serve.ParseTokens(c.getenv(sc.TokensEnv)); len(tokens) == 0 {
			return c.usage(fmt.Sprintf("serve.tokens_env names %s, which holds no token: set it to a comma-separated list of client tokens", sc.TokensEnv))
		}
	}
	admin := ""
	if sc.AdminTokenEnv != "" {
		if admin = c.getenv(sc.AdminTokenEnv); admin == "" {
			return c.usage(fmt.Sprintf("serve.admin_token_env names %s, which is not set: set it, or remove the key to keep admin actions off", sc.AdminTokenEnv))
		}
	}
	var watchers []string
	if sc.WatchTokensEnv != "" {
		if watchers = serve.ParseTokens(c.getenv(sc.WatchTokensEnv)); len(watchers) == 0 {
			return c.usage(fmt.Sprintf("serve.watch_tokens_env names %s, which holds no token: set it to a comma-separated list of watch tokens, or remove the key", sc.WatchTokensEnv))
		}
	}
	if err := serve.CheckExposure(listen, tokens); err != nil {
		return c.usage(err.Error())
	}
	if *debug != "" && admin == "" {
		return c.usage("--debug-addr serves profiles to the admin token only: set serve.admin_token_env to a variable holding one")
	}
	access := c.stderr
	if sc.AccessLog != "" {
		f, err := os.OpenFile(sc.AccessLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			c.errorf("serve.access_log: %v", err)
			return exitFailed
		}
		defer f.Close()
		access = f
	}
	ln, err := serveListen(listen)
	if err != nil {
		c.errorf("%v", err)
		return exitFailed
	}
	if *debug != "" {
		dln, err := serveListen(*debug)
		if err != nil {
			ln.Close()
			c.errorf("--debug-addr: %v", err)
			return exitFailed
		}
		ds := &http.Server{Handler: serve.DebugHandler(admin), ReadHeaderTimeout: 10 * time.Second}
		go ds.Serve(dln)
		defer ds.Close()
		fmt.Fprintf(c.stderr, "council: profiles on http://%s/debug/pprof/ (admin token only)\n", dln.Addr())
	}
	srv := serve.New(serve.Options{Engine: eng, Instance: ln.Addr().String(), Version: version, Tokens: tokens,
		AccessLog: access, AdminToken: admin, WatchTokens: watchers, RateLimitRPM: sc.RateLimitRPM, MaxBodyBytes: int64(sc.MaxBodyBytes), DrainTimeout: sc.DrainTimeout.Duration,
		BacklogBytes: sc.BacklogBytes, MaxSessions: sc.MaxSessions, QueueTimeout: sc.QueueTimeout.Duration, ReadTimeout: sc.ReadTimeout.Duration, WriteTimeout: sc.WriteTimeout.Duration})
	auth := "loopback, no token needed"
	if len(tokens) > 0 {
		auth = fmt.Sprintf("%d client token(s) from %s", len(tokens), sc.TokensEnv)
	}
	fmt.Fprintf(c.stderr, "council: serving on http://%s (%s; admin %s)\n", ln.Addr(), auth, map[bool]string{true: "on", false: "off"}[admin != ""])
	if err := srv.Serve(c.ctx, ln); err != nil {
		c.errorf("%v", err)
		return exitFailed
	}
	fmt.Fprintln(c.stderr, "council: drained, bye")
	return exitOK
}
