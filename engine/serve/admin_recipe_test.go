package serve

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine/wire"
)

// TestAdminActionsRouted: the admin-action recipe, on the server's side.
// Every action of wire.AdminActions has a handler and a route (a request
// reaches the handler, which answers in OpenAI's error shape, never the
// mux's plain 404), and no handler serves an action the list lacks.
func TestAdminActionsRouted(t *testing.T) {
	got := slices.Sorted(maps.Keys((&Server{}).adminHandlers()))
	if want := slices.Sorted(slices.Values(wire.AdminActions)); !slices.Equal(got, want) {
		t.Fatalf("admin handlers for %q, wire.AdminActions %q: each action needs both", got, want)
	}
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.AdminToken = "adm" })
		for _, a := range wire.AdminActions {
			resp, out := h.do("POST", wire.AdminPath(a), "adm", `{"model":"no/such-model"}`)
			if resp.StatusCode == 200 || !strings.Contains(out, `"error"`) || strings.Contains(out, "page not found") {
				t.Errorf("%s: %d %q, want the action's own refusal of an unknown model", a, resp.StatusCode, out)
			}
		}
		if resp, out := h.do("POST", wire.AdminPath("nosuch"), "adm", `{}`); resp.StatusCode != 404 {
			t.Errorf("an action not in the list: %d %s, want 404", resp.StatusCode, out)
		}
	})
}
