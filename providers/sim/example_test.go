package sim_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/sim"
)

func ExampleModel_Stream() {
	m := sim.New("sim/voter", sim.Params{
		TTFT:         time.Millisecond,
		TokensPerSec: 10000,
		Answers:      map[string]float64{"billing": 1},
	}, 1)
	req := providers.Request{
		Kind:     providers.KindClassify,
		Messages: []providers.Message{{Role: "user", Content: "I was charged twice. Categories: billing, technical"}},
	}
	s, _ := m.Stream(context.Background(), req)
	defer s.Close()
	var text strings.Builder
	var usage providers.Usage
	for s.Next() {
		c := s.Chunk()
		text.WriteString(c.Text)
		usage = *c.Usage // every chunk carries the usage so far
	}
	fmt.Println("err:", s.Err())
	fmt.Println("billing:", strings.Contains(text.String(), `"category": "billing"`))
	fmt.Println("input tokens:", usage.InputTokens)
	// Output:
	// err: <nil>
	// billing: true
	// input tokens: 12
}

func ExampleModel_Tune() {
	m := sim.New("sim/swift", sim.Params{}, 1)
	v, _ := m.Tune("error_rate", 0.3)
	fmt.Println(v)
	v, _ = m.Tune("error_rate", 0.9) // clamped to 1
	fmt.Println(v)
	fmt.Println(m.Knobs()["slow_factor"]) // the default
	_, err := m.Tune("ttft", 1)
	fmt.Println(err)
	// Output:
	// 0.3
	// 1
	// 10
	// sim model sim/swift: unknown knob "ttft"
}

// A council's reviewer: the prompt quotes the question after "Question:"
// and each answer after a line "Response X:"; the review ends with
// "FINAL RANKING:" and one line per response, best first.
func ExampleModel_Stream_rank() {
	m := sim.New("sim/reviewer", sim.Params{TTFT: time.Millisecond, TokensPerSec: 10000}, 1)
	prompt := "Question: How do database indexes work?\n\n" +
		"Response A:\nGood bread needs flour, water, salt and time.\n\n" +
		"Response B:\nAn index keeps a copy of some columns in sorted order, so a query on a database " +
		"table can walk a B-tree instead of scanning every row; each index costs time on every write.\n\n" +
		"Rank the responses, best first."
	s, _ := m.Stream(context.Background(), providers.Request{
		Kind:     providers.KindRank,
		Messages: []providers.Message{{Role: "user", Content: prompt}},
	})
	defer s.Close()
	var text strings.Builder
	for s.Next() {
		text.WriteString(s.Chunk().Text)
	}
	_, ranking, _ := strings.Cut(text.String(), "FINAL RANKING:")
	fmt.Println(strings.TrimSpace(ranking))
	// Output:
	// 1. Response B
	// 2. Response A
}
