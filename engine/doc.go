// Package engine runs council sessions: one prompt sent to several models
// under a strategy, with per-model circuit breakers, latency statistics,
// tiers, timeouts, retries, fallbacks, spending caps and a concurrency
// cap. A session runs in its own goroutine and publishes typed [Event]
// values on a channel that is closed when the session ends; its result is
// a [Summary].
//
// Each strategy is one file that registers its descriptor (its run
// function, worst-case estimate, request validation, stages and summary)
// from an init function; [Strategies] lists them for the engine's
// clients:
//
//   - race (race.go): every model at once, the first whole answer wins.
//   - hedge (hedge.go): the primary, a backup when it is slow or fails.
//   - consensus (consensus.go, vote.go): voters classify the prompt,
//     decided once the leader cannot be caught; refused up front when the
//     models can never give it its quorum.
//   - council (council.go, review.go, ranking.go): answers, anonymous
//     peer review, a chairman's synthesis.
//   - auto (router.go): a route picked by rules or a classifier model,
//     then that route's strategy in the same session.
//   - section (section.go, sectionmerge.go, split.go): a document cut
//     into sections, answered at once, then merged; needs a document.
//
// The registry is in strategy.go, the toolkit strategies are written
// against in toolkit.go (launch, next, win, fallbacks, stages), the
// session and its extras in session.go and the attempt in attempt.go.
// Around them, each concern has its file:
//
//   - retries (retry.go): a call that failed before its first token made
//     again after a backoff, as the breaker lets it.
//   - the goroutines attempts run on (workers.go): a finished attempt's,
//     its stack grown, kept for the next one until Close.
//   - fallbacks (toolkit.go: fallback, origin, standIn): a failed model's
//     next in line takes its attempt's place.
//   - caps: the spending cap and worst-case estimates in budget.go, the
//     concurrency cap in slots.go, the hedge budget (max_extra) in
//     engine.go, the deadlines (timeout, per_model_timeout, stall) in
//     watchdog.go.
//   - breakers (breaker.go) and latency statistics (stats.go), shared by
//     every session of an [Engine]; operators' actions on them in admin.go
//     and engine.go.
//   - panics (panic.go): a recovered panic is its session's failure,
//     never the process's.
//   - settings (settings.go), events (event.go, eventjson.go, queue.go),
//     the summary (summary.go, result.go, summarytext.go).
//
// The engine knows providers only through the [providers.Provider]
// interface and imports no UI package.
package engine
