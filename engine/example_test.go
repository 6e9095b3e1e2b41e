package engine_test

import (
	"context"
	"fmt"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

// A consensus session on the built-in demo council: three voters classify a
// support message; the session is decided as soon as the leader cannot be
// caught.
func ExampleEngine_Run() {
	cfg := config.Demo()
	clients := map[string]providers.Provider{}
	for _, m := range cfg.Models {
		// Quick, unanimous voters, so that the output is always the same.
		p := sim.Params{TTFT: time.Millisecond, TokensPerSec: 10_000, Answers: map[string]float64{"billing": 1}}
		clients[m.ID] = sim.New(m.ID, p, 1)
	}
	e, err := engine.New(cfg, clients)
	if err != nil {
		panic(err)
	}
	defer e.Close()
	sum, err := e.Run(context.Background(), engine.SessionRequest{
		Prompt:   "I was charged twice for my subscription this month",
		Strategy: config.Consensus,
		Models:   []string{"sim/swift", "sim/steady", "sim/sage"},
	}, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(sum.Status, sum.Answer, sum.Votes["billing"], sum.Agreement)
	// Output: decided billing 3 1
}

// ParseVote reads answers the way models actually give them.
func ExampleParseVote() {
	categories := []string{"billing", "technical", "account"}
	for _, answer := range []string{
		`{"category": "billing", "confidence": 0.9}`,
		"```json\n{\"category\": \"Technical\"}\n```",
		"Account.\nThe user cannot log in.",
		"refunds",
	} {
		v, err := engine.ParseVote(answer, categories)
		fmt.Printf("%q %v\n", v, err)
	}
	// Output:
	// "billing" <nil>
	// "technical" <nil>
	// "account" <nil>
	// "" answer "refunds" is not one of the categories
}
