package engine

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Prompt-cache writes are counted apart in the summary row and priced at
// cache_write_per_mtok, the input price when unset; a row without any
// has no cache_write_tokens.
func TestCacheWritePrice(t *testing.T) {
	usage := &providers.Usage{InputTokens: 1000, CachedInputTokens: 600, CacheWriteTokens: 300, OutputTokens: 10}
	read, write := 0.10, 1.25
	for _, tt := range []struct {
		name        string
		read, write *float64
		usage       *providers.Usage
		want        float64 // USD
		wantWrites  int
	}{
		{"priced", &read, &write, usage, (100*1.0 + 600*0.10 + 300*1.25 + 10*2.0) / 1e6, 300},
		{"write price unset is the input price", &read, nil, usage, (100*1.0 + 600*0.10 + 300*1.0 + 10*2.0) / 1e6, 300},
		{"no writes", &read, &write, &providers.Usage{InputTokens: 1000, CachedInputTokens: 600, OutputTokens: 10},
			(400*1.0 + 600*0.10 + 10*2.0) / 1e6, 0},
		{"writes over the input are bounded by it", nil, &write, &providers.Usage{InputTokens: 100, CacheWriteTokens: 500, OutputTokens: 10},
			(100*1.25 + 10*2.0) / 1e6, 500},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := fixed(script{ttft: 10 * time.Millisecond, text: "ok", finish: providers.FinishStop, usage: tt.usage})
				c := testConfig("m")
				c.Models[0].CachedInputPerMTok, c.Models[0].CacheWritePerMTok = tt.read, tt.write
				e := newTestEngine(c, map[string]*fake{"m": f})
				defer e.Close()
				_, sum := collect(e, t.Context(), SessionRequest{Prompt: "hi", Strategy: config.Race})
				r := result(sum, "m")
				writes := 0
				if r.Aside != nil {
					writes = r.CacheWriteTokens
				}
				if r.CostUSD != roundUSD(tt.want) || writes != tt.wantWrites || r.InputTokens != tt.usage.InputTokens {
					t.Errorf("cost %v writes %d input %d, want %v, %d, %d", r.CostUSD, writes, r.InputTokens, roundUSD(tt.want), tt.wantWrites, tt.usage.InputTokens)
				}
				if sum.CostUSD != r.CostUSD {
					t.Errorf("session cost %v, row cost %v", sum.CostUSD, r.CostUSD)
				}
				b, err := json.Marshal(sum)
				if err != nil {
					t.Fatal(err)
				}
				has := strings.Contains(string(b), `"cache_write_tokens":`)
				if tt.wantWrites > 0 != has || (has && !strings.Contains(string(b), `"cache_write_tokens":`+strconv.Itoa(tt.wantWrites))) {
					t.Errorf("summary JSON %s, want cache_write_tokens %d", b, tt.wantWrites)
				}
			})
		})
	}
}
