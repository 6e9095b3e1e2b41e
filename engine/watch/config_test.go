package watch

import (
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/record"
	"github.com/council-dev/council/engine/wire"
	_ "github.com/council-dev/council/providers/sim" // the sim kind, as the program registers it
)

// TestConfigReplays: the council a hub describes, written in a log's
// header as an export writes it, loads again, as council replay loads it.
func TestConfigReplays(t *testing.T) {
	h, err := New([]string{"http://a:1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	h.setHealth("a:1", []wire.ModelHealth{{Model: "sim/swift", Provider: "sim", Kind: "sim"}, {Model: "sim/steady", Provider: "sim", Kind: "sim"}})
	hdr := record.NewHeader(h.Config(), engine.SessionRequest{Prompt: "p"}, nil, "test", time.Now())
	cfg, err := hdr.ConfigOf()
	if err != nil {
		t.Fatalf("the exported config does not load: %v\n%s", err, hdr.Config)
	}
	if got := cfg.Tiers["watched"].Models; len(got) != 2 || got[0] != "sim/swift" {
		t.Errorf("tier watched: %v", got)
	}
}
