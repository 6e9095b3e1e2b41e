package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/council-dev/council/engine/watch"
	"github.com/council-dev/council/themes"
	"github.com/council-dev/council/ui"
)

const watchUsage = `usage: council watch [flags] URL [URL...]

The dashboard on one or more running servers (council serve): each URL is a
server's base, such as http://127.0.0.1:8484. Their sessions are listed as
they run, the latest followed ([ and ] step through them, L lists them, F
follows the latest again); the breaker board shows each model combined over
the servers (volumes summed, the worst state) and per server. A dropped
stream is reconnected with backoff, said on screen. Read-only: breaker keys
act on the servers only with the admin token.

flags:
  --token TOKEN        sent on the event stream as Authorization: Bearer: a watch
                       token (serve.watch_tokens_env) or the admin token shows every
                       client's sessions, a client token only that client's own
                       (default: $COUNCIL_TOKEN; prefer the variable, which ps cannot show)
  --admin-token TOKEN  the servers' admin token: o, c, f, B, e, s act on their
                       breakers (default: $COUNCIL_ADMIN_TOKEN)
  --theme NAME         dark, light, high-contrast, none
  --no-mouse           leave the mouse to the terminal (text selection)

examples:
  council watch http://127.0.0.1:8484
  COUNCIL_TOKEN=... council watch https://a.example:8484 https://b.example:8484
`

// watch opens the dashboard on servers' event streams.
func (c *cli) watch(args []string) int {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	token := fs.String("token", "", "watch, admin or client token (default: $COUNCIL_TOKEN)")
	admin := fs.String("admin-token", "", "admin token (default: $COUNCIL_ADMIN_TOKEN)")
	theme := fs.String("theme", "", "colour theme: dark, light, high-contrast, none")
	noMouse := fs.Bool("no-mouse", false, "leave the mouse to the terminal (text selection)")
	pos, code, ok := c.parseFlags(fs, args, watchUsage)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return c.usage("council watch needs a server URL, such as http://127.0.0.1:8484 (see council watch --help)")
	}
	if *token == "" {
		*token = c.getenv("COUNCIL_TOKEN")
	}
	if *admin == "" {
		*admin = c.getenv("COUNCIL_ADMIN_TOKEN")
	}
	hub, err := watch.New(pos, watch.Options{Token: *token, AdminToken: *admin})
	if err != nil {
		return c.usage(err.Error())
	}
	th, err := themes.Load(*theme)
	if err != nil {
		return c.usage(themeError(*theme))
	}
	if err := needTerminal(); err != nil {
		return c.usage(err.Error())
	}
	ctx, cancel := context.WithCancel(c.ctx)
	hub.Connect(ctx)
	mode := "read-only"
	if *admin != "" {
		mode = "admin: breaker keys act on the servers"
	}
	why := fmt.Sprintf("watching %d server(s), %s; [ ] older/newer session, L lists them, F follows the latest", len(pos), mode)
	err = ui.Run(ctx, hub, ui.Options{Theme: th, NoMouse: *noMouse, Version: version, Why: why})
	cancel()
	for range hub.Updates() { // every connection closed
	}
	return c.dashboardExit(err)
}
