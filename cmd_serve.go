package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/fleet"
	"github.com/council-dev/council/engine/serve"
)

const serveUsage = `usage: council serve [--addr 127.0.0.1:8484] [--config FILE] [--seed N] [--debug-addr HOST:PORT]
                     [--redis URL]

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
  --redis URL       share breakers, rate-limit holds, client rate limits and spending
                    with the other replicas of a fleet through this Redis
                    (default: the config's shared.redis_url; none: each keeps its own)

examples:
  council serve
  curl -s localhost:8484/v1/chat/completions -d '{"model":"council/race","messages":[{"role":"user","content":"hi"}]}'
  OPENAI_BASE_URL=http://127.0.0.1:8484/v1 OPENAI_API_KEY=unused some-openai-client
`

// serveListen opens the server's listener; tests swap in an in-memory one.
var serveListen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }

// serve is council serve: the strategies behind an OpenAI-compatible API
// until SIGINT or SIGTERM drains it.
func (c *cli) serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var (
		path  = fs.String("config", "", "config file")
		addr  = fs.String("addr", "", "host:port to listen on (default: serve.addr, 127.0.0.1:8484)")
		seed  = fs.Int64("seed", 0, "seed for simulated models (default: random)")
		debug = fs.String("debug-addr", "", "serve pprof on this address, to the admin token only")
		rurl  = fs.String("redis", "", "share breakers, holds, rate limits and spending with a fleet through this Redis")
	)
	pos, code, ok := c.parseFlags(fs, args, serveUsage)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usage(fmt.Sprintf("council serve takes no arguments, got %q (see council serve --help)", pos[0]))
	}
	var store *fleet.Store
	cfg, eng, ok := c.setup(*path, *seed, c.serveFleet(*rurl, &store))
	if store != nil {
		defer store.Close() // after the engine: deferred first
	}
	if !ok {
		return exitUsage
	}
	defer eng.Close()
	sc := cfg.Serve
	listen := sc.Addr
	if *addr != "" {
		listen = *addr
	}
	keys, code, ok := c.serveKeys(sc)
	if !ok {
		return code
	}
	if err := serve.CheckExposure(listen, keys.tokens); err != nil {
		return c.usage(err.Error())
	}
	if *debug != "" && keys.admin == "" {
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
		stop, ok := c.serveDebug(*debug, keys.admin, ln)
		if !ok {
			return exitFailed
		}
		defer stop()
	}
	srv := serve.New(serve.Options{Engine: eng, Instance: ln.Addr().String(), Version: version, Tokens: keys.tokens,
		AccessLog: access, AdminToken: keys.admin, WatchTokens: keys.watchers, RateLimitRPM: sc.RateLimitRPM, MaxBodyBytes: int64(sc.MaxBodyBytes), DrainTimeout: sc.DrainTimeout.Duration,
		BacklogBytes: sc.BacklogBytes, MaxSessions: sc.MaxSessions, QueueTimeout: sc.QueueTimeout.Duration, ReadTimeout: sc.ReadTimeout.Duration, WriteTimeout: sc.WriteTimeout.Duration})
	auth := "loopback, no token needed"
	if len(keys.tokens) > 0 {
		auth = fmt.Sprintf("%d client token(s) from %s", len(keys.tokens), sc.TokensEnv)
	}
	c.fleetStatus(cfg, store)
	fmt.Fprintf(c.stderr, "council: serving on http://%s (%s; admin %s)\n", ln.Addr(), auth, map[bool]string{true: "on", false: "off"}[keys.admin != ""])
	if err := srv.Serve(c.ctx, ln); err != nil {
		c.errorf("%v", err)
		return exitFailed
	}
	fmt.Fprintln(c.stderr, "council: drained, bye")
	return exitOK
}

// serveFleet is the engine option that shares the fleet's state through
// Redis (--redis, else shared.redis_url), none without one; the store it
// opens is left in *store for the caller to close.
func (c *cli) serveFleet(url string, store **fleet.Store) func(*config.Config) ([]engine.Option, error) {
	return func(cfg *config.Config) ([]engine.Option, error) {
		if url != "" {
			cfg.Shared.RedisURL = url
		}
		if cfg.Shared.RedisURL == "" {
			return nil, nil
		}
		s, err := fleet.Open(cfg.Shared, c.getenv)
		if err != nil {
			return nil, err
		}
		*store = s
		return []engine.Option{engine.WithShared(s)}, nil
	}
}

// fleetStatus says which fleet the server shares its state with, and
// whether Redis answers now; the URL's password is never printed.
func (c *cli) fleetStatus(cfg *config.Config, store *fleet.Store) {
	if store == nil {
		return
	}
	status := "shared"
	if err := store.Ping(c.ctx); err != nil {
		status = "degraded (Redis unreachable: each replica uses its own state until it is back)"
	}
	fmt.Fprintf(c.stderr, "council: fleet %q through %s: %s\n", cfg.Shared.Fleet, config.RedactURL(cfg.Shared.RedisURL), status)
}

// serveKeyring is the tokens the server's variables hold: its clients',
// the admin's, the watchers'.
type serveKeyring struct {
	tokens, watchers []string
	admin            string
}

// serveKeys reads the tokens from the variables the config names; a named
// variable that holds none is a usage error (ok false, with its exit code).
func (c *cli) serveKeys(sc config.ServeConfig) (k serveKeyring, code int, ok bool) {
	if sc.TokensEnv != "" {
		if k.tokens = serve.ParseTokens(c.getenv(sc.TokensEnv)); len(k.tokens) == 0 {
			return k, c.usage(fmt.Sprintf("serve.tokens_env names %s, which holds no token: set it to a comma-separated list of client tokens", sc.TokensEnv)), false
		}
	}
	if sc.AdminTokenEnv != "" {
		if k.admin = c.getenv(sc.AdminTokenEnv); k.admin == "" {
			return k, c.usage(fmt.Sprintf("serve.admin_token_env names %s, which is not set: set it, or remove the key to keep admin actions off", sc.AdminTokenEnv)), false
		}
	}
	if sc.WatchTokensEnv != "" {
		if k.watchers = serve.ParseTokens(c.getenv(sc.WatchTokensEnv)); len(k.watchers) == 0 {
			return k, c.usage(fmt.Sprintf("serve.watch_tokens_env names %s, which holds no token: set it to a comma-separated list of watch tokens, or remove the key", sc.WatchTokensEnv)), false
		}
	}
	return k, 0, true
}

// serveDebug serves pprof on addr, to the admin token only, on a listener
// of its own; on failure it closes the main listener ln and says why.
// stop closes the debug server.
func (c *cli) serveDebug(addr, admin string, ln net.Listener) (stop func(), ok bool) {
	dln, err := serveListen(addr)
	if err != nil {
		ln.Close()
		c.errorf("--debug-addr: %v", err)
		return nil, false
	}
	ds := &http.Server{Handler: serve.DebugHandler(admin), ReadHeaderTimeout: 10 * time.Second}
	go ds.Serve(dln)
	fmt.Fprintf(c.stderr, "council: profiles on http://%s/debug/pprof/ (admin token only)\n", dln.Addr())
	return func() { ds.Close() }, true
}
