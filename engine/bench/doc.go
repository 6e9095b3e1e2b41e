// Package bench is council's policy lab: it runs many sessions of one or
// more strategies on one engine and measures them (latency percentiles,
// extra requests, cost and the cost of cancelled attempts, breaker trips,
// a consensus's accuracy and the votes it needed), on a [Virtual] clock
// when every model is simulated, so that ten thousand sessions of
// seconds-long latencies take seconds. It also sweeps the engine's
// concurrency limit to find where throughput stops rising.
//
// It imports no UI package: its charts are plain text.
package bench
