package watch_test

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// TestHubSendsEveryAdminAction: the admin-action recipe, on the watcher's
// side. The dashboard's admin calls (ui.Backend's ForceBreaker,
// ResetBreaker and Tune, which the hub implements) together send every
// action of wire.AdminActions and nothing else: a new action needs its
// hub method, called here.
func TestHubSendsEveryAdminAction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, srv, tr, connect := adminRig(t)
		hub, stop := connect("adm")
		if err := hub.ForceBreaker("sim/swift", engine.ForceOpen); err != nil {
			t.Fatal(err)
		}
		if _, err := hub.ResetBreaker("sim/swift"); err != nil {
			t.Fatal(err)
		}
		if _, err := hub.Tune("sim/swift", "error_rate", 0.25); err != nil {
			t.Fatal(err)
		}
		stop()
		var sent []string
		for _, call := range srv.AdminCalls() {
			a, _, _ := strings.Cut(call, " ")
			if !slices.Contains(sent, a) {
				sent = append(sent, a)
			}
		}
		slices.Sort(sent)
		if want := slices.Sorted(slices.Values(wire.AdminActions)); !slices.Equal(sent, want) {
			t.Errorf("the hub sent %q, wire.AdminActions is %q", sent, want)
		}
		tr.Wait()
	})
}
