// Package faulttest holds the fault-injection suite of the real vendors'
// providers (openai, anthropic, gemini): each runs against a stand-in
// server on loopback (see providertest's Dialect and fault handlers) that
// rate-limits, fails, resets, cuts, stalls, trickles, floods or sends
// endless events and error bodies, and every failure must come back
// classified, bounded in memory and time, and free of the key.
//
// The package has no code of its own; its tests run with go test ./...
package faulttest
