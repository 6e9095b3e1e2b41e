package engine

// Retries: a call that failed before its first token is made again, with
// a backoff that doubles (see [retry] in the config), as long as the
// breaker lets it through and the attempt's deadline leaves room (for the
// model's median call too: see [attempt.tooLateAt]).

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"github.com/council-dev/council/providers"
)

// jitter is a retry's random share of its backoff, 0..1, drawn from the
// engine's seed, the session, the attempt and the retry, so that a seeded
// run (council bench on its virtual clock) waits the same every time.
func (a *attempt) jitter() float64 {
	h := fnv.New64a()
	h.Write([]byte(a.s.id))
	var b [5]byte
	binary.LittleEndian.PutUint32(b[:], uint32(a.idx))
	b[4] = a.retries
	h.Write(b[:])
	return rand.New(rand.NewPCG(uint64(a.s.e.seed), h.Sum64())).Float64()
}

// retry makes a call that failed before any token again, as [retry]
// allows: for a 5xx, a 429 or a failed connection, after a backoff that
// doubles each time, with jitter, never sooner than the server's
// Retry-After and never past the attempt's deadline. Each retry is an
// attempt_retry event. It returns the last call's error.
//
//go:noinline
func (a *attempt) retry(err error) error {
	s := a.s
	rc := s.e.cfg.Retry
	for err != nil && int(a.retries) < rc.Attempts && a.retryable(err) {
		wait := time.Duration(float64(rc.Backoff.Duration<<a.retries) * (0.5 + a.jitter()))
		var pe *providers.Error
		if errors.As(err, &pe) && pe.RetryAfter > wait {
			wait = pe.RetryAfter
		}
		now := s.since()
		if (a.deadline > 0 && now+wait >= a.deadline) || (s.tier.timeout > 0 && now+wait >= s.tier.timeout) {
			break // no time left for another call
		}
		if a.tooLateAt(now + wait) {
			break // time left, but less than the model's median call
		}
		// The failed call counts for the breaker like any other, and the
		// next one must be let through by it: a model failing every call
		// trips its breaker even when it loses every race while it waits.
		s.breakerEvents(a, a.m.breaker.report(a.ticket, outcomeFailure, hold(err), s.start.Add(now)))
		a.m.stats.addOutcome(OutcomeFailed)
		a.admitted = false // this ticket is spent; the retry asks for another
		a.retries++
		msg := err.Error()
		s.emitWith(int(a.idx), AttemptRetry, func(e *Event) {
			e.Model, e.Role, e.Attempt, e.Stage, e.Err = a.m.cfg.ID, a.role, a.id(), a.stage, msg
			e.Detail = &Detail{Retry: int(a.retries), Retries: rc.Attempts, RetryIn: wait}
		})
		t := s.e.clock.NewTimer(wait)
		select {
		case <-t.C():
		case <-a.ctx.Done():
			t.Stop()
			return a.ctx.Cause()
		}
		tk, changes, why := a.m.breaker.allow() // after the wait: a hold it asked for is over
		s.breakerEvents(a, changes)
		if why != ReasonNone {
			// The breaker opened on these failures: no more calls. The
			// retry announced was not made; the summary says why.
			a.retries--
			a.reason = why
			return fmt.Errorf("%w (%s)", err, a.stoppedBy())
		}
		a.ticket, a.admitted = tk, true
		a.ended = providers.FinishNone
		err = a.call()
	}
	return err
}

// stoppedBy says how many times a failed attempt was called and what
// stopped its last retry (its reason: breaker_open or retry_after).
func (a *attempt) stoppedBy() string {
	what := "its breaker opened and stopped the last retry"
	if a.reason == ReasonRetryAfter {
		what = "a rate limit's Retry-After held back the last retry"
	}
	return fmt.Sprintf("failed %d times; %s", a.retries+1, what)
}

// retryable reports whether a failed call may be made again: nothing
// streamed yet, not cancelled, and a failure a second try can cure (a
// 5xx, a 429, a failed connection; never auth, invalid or a 4xx).
func (a *attempt) retryable(err error) bool {
	if a.gotFirst || a.gotReasoning || a.ctx.Cause() != nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *providers.Error
	if !errors.As(err, &pe) {
		return providers.KindOf(err) == providers.KindError
	}
	switch pe.Kind {
	case providers.KindRateLimited, providers.KindError:
		return true
	case providers.KindHTTP:
		return pe.Status >= 500 || pe.Status == 0
	}
	return false
}
