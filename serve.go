package main

import (
	"flag"
	"fmt"
	"net"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/fleet"
	"github.com/council-dev/council/engine/serve"
)

const serveUsage = `usage: council serve [--addr 127.0.0.1:8484] [--config FILE] [--seed N] [--redis URL]

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

func (c *cli) serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var (
		path = fs.String("config", "", "config file")
		addr = fs.String("addr", "", "host:port to listen on (default: serve.addr, 127.0.0.1:8484)")
		seed = fs.Int64("seed", 0, "seed for simulated models (default: random)")
		rurl = fs.String("redis", "", "share breakers, holds, rate limits and spending with a fleet through this Redis")
	)
	pos, code, ok := c.parseFlags(fs, args, serveUsage)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.usage(fmt.Sprintf("council serve takes no arguments, got %q (see council serve --help)", pos[0]))
	}
	var store *fleet.Store
	cfg, eng, ok := c.setup(*path, *seed, func(cfg *config.Config) ([]engine.Option, error) {
		if *rurl != "" {
			cfg.Shared.RedisURL = *rurl
		}
		if cfg.Shared.RedisURL == "" {
			return nil, nil
		}
		s, err := fleet.Open(cfg.Shared, c.getenv)
		if err != nil {
			return nil, err
		}
		store = s
		return []engine.Option{engine.WithShared(s)}, nil
	})
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
	if err := serve.CheckExposure(listen, tokens); err != nil {
		return c.usage(err.Error())
	}
	ln, err := serveListen(listen)
	if err != nil {
		c.errorf("%v", err)
		return exitFailed
	}
	srv := serve.New(serve.Options{Engine: eng, Instance: ln.Addr().String(), Version: version, Tokens: tokens,
		AdminToken: admin, RateLimitRPM: sc.RateLimitRPM, MaxBodyBytes: int64(sc.MaxBodyBytes), DrainTimeout: sc.DrainTimeout.Duration})
	auth := "loopback, no token needed"
	if len(tokens) > 0 {
		auth = fmt.Sprintf("%d client token(s) from %s", len(tokens), sc.TokensEnv)
	}
	if store != nil {
		status := "shared"
		if err := store.Ping(c.ctx); err != nil {
			status = "degraded (Redis unreachable: each replica uses its own state until it is back)"
		}
		fmt.Fprintf(c.stderr, "council: fleet %q through %s: %s\n", cfg.Shared.Fleet, config.RedactURL(cfg.Shared.RedisURL), status)
	}
	fmt.Fprintf(c.stderr, "council: serving on http://%s (%s; admin %s)\n", ln.Addr(), auth, map[bool]string{true: "on", false: "off"}[admin != ""])
	if err := srv.Serve(c.ctx, ln); err != nil {
		c.errorf("%v", err)
		return exitFailed
	}
	fmt.Fprintln(c.stderr, "council: drained, bye")
	return exitOK
}
