package engine_test

import (
	"fmt"

	"github.com/council-dev/council/engine"
)

// A summary's line names what went wrong beside the outcome, with a
// model's escape sequences removed.
func ExampleSummary_Line() {
	sum := &engine.Summary{Session: "s1", Strategy: "race", Tier: "quick", Status: engine.StatusDecided,
		Winner: "sim/a", ElapsedMS: 12, CostUSD: 0.00001,
		Models: []engine.ModelResult{
			{ID: "sim/a", Status: engine.AttemptWon},
			{ID: "sim/b", Status: engine.AttemptFailedStatus, Reason: "http", Error: "bad\x1b]0;pwned\x07 gateway"},
		}}
	fmt.Println(sum.Line())
	// Output:
	// s1 race/quick: decided winner sim/a in 12ms, $0.000010; sim/b failed (http: bad gateway)
}

// Totals of --repeat: statuses, wins, nearest-rank percentiles and cost.
func ExampleTotals() {
	var t engine.Totals
	for i, ms := range []float64{10, 20, 30, 40} {
		winner := "sim/a"
		if i == 3 {
			winner = "sim/b"
		}
		t.Add(&engine.Summary{Status: engine.StatusDecided, Winner: winner, ElapsedMS: ms, CostUSD: 0.001})
	}
	fmt.Println(t.String())
	fmt.Println(engine.Quantile([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.95))
	// Output:
	// 4 sessions: 4 decided, 0 degraded, 0 failed, 0 cancelled; wins sim/a 75%, sim/b 25%; p50 20ms p95 40ms p99 40ms; cost $0.004000
	// 10
}
