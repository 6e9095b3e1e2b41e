package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/council-dev/council/providers"
)

// attempt is one call to one model within a session: the unit of identity
// of events, panes and summary rows. Its fields after startedAt are written
// by its goroutine and read by the session only after the attempt has
// reported (see mailbox).
//
// Its small fields sit together: a session holds eight attempts inside
// itself, and every byte of an attempt counts eight times towards the
// session's size class.
type attempt struct {
	s   *session
	idx int32
	// running is set while the watchdog watches the attempt.
	running atomic.Bool
	// reported is set by the session when the attempt has reported.
	reported          bool
	gotFirst, started bool
	kind              providers.Kind
	stage             Stage
	admitted          bool             // the breaker let it through (ticket is valid)
	ended             providers.Finish // why the vendor ended the answer
	gotReasoning      bool             // reasoning text came
	retries           uint8            // calls made again ([retry])
	wroteCache        bool             // the vendor reported prompt-cache writes (see noteCacheWrites)
	queued            bool             // launched with no free slot: waits in line (slots)
	endPhase          uint8            // 1: final event queued, 2: breaker told (see recovered)
	ticket            ticket           // the breaker's admission of this call
	m                 *model
	role              Role
	ctx               attemptCtx
	req               *providers.Request // what it asks, without the model
	// deadline is when per_model_timeout ends the attempt (since the
	// session start); 0 for none.
	deadline time.Duration
	// lastChunk is when the latest chunk came (since the session start; 0
	// before the first token), for the watchdog's stall check.
	lastChunk atomic.Int64

	startedAt, firstTok, endedAt time.Duration
	// firstReason is when the first reasoning text came (gotReasoning).
	firstReason time.Duration
	text        answerText
	usage       tokens
	status      AttemptStatus
	reason      Reason
	err         string
	cost        float64
	vote        string
}

// tokens is an attempt's [providers.Usage] in half the room: an attempt
// holds four counts, and its size is counted eight times in a session's.
type tokens struct {
	in, out, cached, reasoning int32
}

func tokensOf(u *providers.Usage) tokens {
	return tokens{in: clamp32(u.InputTokens), out: clamp32(u.OutputTokens),
		cached: clamp32(u.CachedInputTokens), reasoning: clamp32(u.ReasoningTokens)}
}

func clamp32(n int) int32 { return int32(min(max(n, 0), math.MaxInt32)) }

// truncated reports an answer the vendor cut at its token limit.
func (a *attempt) truncated() bool { return a.ended == providers.FinishLength }

// attemptIDs are the ids of the first attempts, made once: an id costs no
// allocation in the common case.
var attemptIDs = func() (ids [64]string) {
	for i := range ids {
		ids[i] = "a" + strconv.Itoa(i+1)
	}
	return ids
}()

// id is the attempt's id in its session: "a1", "a2", ...
func (a *attempt) id() string {
	if int(a.idx) < len(attemptIDs) {
		return attemptIDs[a.idx]
	}
	return "a" + strconv.Itoa(int(a.idx)+1)
}

// errAnswerTooLarge ends an attempt whose answer passed limits.max_answer_bytes.
var errAnswerTooLarge = errors.New("answer too large")

func (a *attempt) run() {
	s := a.s
	defer func() {
		if v := recover(); v != nil {
			a.recovered(v)
		}
		s.box.put(a.idx)
		s.unreported.Done()
	}()
	if a.queued {
		s.emitAttempt(AttemptQueued, a, s.since(), "")
		late := a.newLateCheck()
		err := s.e.slots.waitOr(&a.ctx, a, late)
		late.stop()
		if err == errTooLate {
			a.skipLate() // it holds no slot
			return
		}
		if err != nil {
			a.finish(a.ctx.Cause())
			return
		}
		// A call that waited its turn may have waited past the point
		// where it could still finish inside the session's timeout.
		if a.tooLate() {
			s.e.slots.release()
			a.skipLate()
			return
		}
	}
	defer s.e.slots.release()
	a.started = true
	a.startedAt = s.since()
	s.emitAttempt(AttemptStarted, a, a.startedAt, "")

	if d := s.tier.perModel; d > 0 {
		a.deadline = a.startedAt + d
	}
	s.e.watch.watch(a)
	defer s.e.watch.unwatch(a)

	err := a.call()
	if err != nil && s.e.cfg.Retry.Attempts > 0 {
		err = a.retry(err)
	}
	a.finish(err)
}

// call makes the provider call and streams its answer. It is apart from
// run so that its frame (the request, the chunk) is gone before finish
// reports, which keeps the attempt goroutine within its first stack.
//
//go:noinline
func (a *attempt) call() error {
	s := a.s
	maxAnswer := s.e.cfg.Limits.MaxAnswerBytes
	stream, err := a.open()
	if err == nil {
		for stream.Next() {
			c := stream.Chunk()
			if c.Usage != nil {
				a.usage = tokensOf(c.Usage)
				if c.Usage.CacheWriteTokens > 0 || a.wroteCache {
					a.noteCacheWrites(c.Usage.CacheWriteTokens)
				}
			}
			if c.Finish != providers.FinishNone {
				a.ended = c.Finish
			}
			if c.Reasoning != "" {
				a.reasoning(c.Reasoning)
			}
			if c.Text == "" {
				continue
			}
			now := s.since()
			if maxAnswer > 0 && a.text.Len()+len(c.Text) > maxAnswer {
				err = errAnswerTooLarge
				break
			}
			a.text.WriteString(c.Text)
			if !a.gotFirst {
				a.gotFirst = true
				a.firstTok = now
				s.emitFirst(a, now, c.Text)
				s.e.watch.streaming(a, now)
				continue
			}
			a.lastChunk.Store(int64(now))
			s.emitAttempt(Delta, a, now, c.Text)
		}
		if err == nil {
			err = stream.Err()
		}
		stream.Close()
	}
	if err == nil && a.text.Len() == 0 {
		err = a.emptyAnswer()
	}
	return err
}

// open starts the provider's stream. Apart from call so that the request
// it builds is not on call's frame while the answer streams: the chunk
// (answer, reasoning, usage, finish) took that room.
//
//go:noinline
func (a *attempt) open() (providers.Stream, error) {
	req := *a.req
	req.Model = a.m.cfg.Model
	if req.MaxTokens == 0 {
		req.MaxTokens = a.m.cfg.MaxTokens
	}
	return a.m.client.Stream(&a.ctx, req)
}

// reasoning streams reasoning text: first_reasoning and reasoning_delta
// events apart from the answer's, never kept as the answer. It counts as
// life for the stall timer.
//
//go:noinline
func (a *attempt) reasoning(text string) {
	s := a.s
	now := s.since()
	if !a.gotReasoning {
		a.gotReasoning = true
		a.firstReason = now
		s.emitFirstReasoning(a, now, text)
		s.e.watch.streaming(a, now)
		return
	}
	a.lastChunk.Store(int64(now))
	s.emitAttempt(ReasoningDelta, a, now, text)
}

// emptyAnswer is the error of a stream that ended well without answer
// text: it says when the tokens all went to reasoning.
//
//go:noinline
func (a *attempt) emptyAnswer() error {
	switch {
	case (a.gotReasoning || a.usage.reasoning > 0) && a.truncated():
		return providers.Errorf(providers.KindInvalid, "empty answer: the token limit was spent on reasoning")
	case a.gotReasoning || a.usage.reasoning > 0:
		return providers.Errorf(providers.KindInvalid, "empty answer: the model only reasoned")
	case a.ended == providers.FinishContentFilter:
		return providers.Errorf(providers.KindInvalid, "empty answer: refused or filtered")
	case a.ended == providers.FinishToolCalls:
		return providers.Errorf(providers.KindInvalid, "empty answer: the model asked for a tool")
	}
	return providers.Errorf(providers.KindInvalid, "empty answer")
}

// finish classifies how the attempt ended, emits its final event, and
// reports to the breaker and the statistics.
func (a *attempt) finish(err error) {
	s := a.s
	a.endedAt = s.since()
	var out outcome
	if err == nil {
		out = outcomeSuccess
		a.status = AttemptDoneStatus
	} else {
		var cc *cancelCause
		switch cause := a.ctx.Cause(); {
		case err == errAnswerTooLarge:
			a.status, a.kind = AttemptFailedStatus, providers.KindInvalid
			a.err = fmt.Sprintf("answer larger than limits.max_answer_bytes (%d bytes)", s.e.cfg.Limits.MaxAnswerBytes)
			out = outcomeFailure
		case cause == nil && errors.Is(err, context.Canceled):
			// A cancellation that reached the call another way (an
			// api_key_cmd stopped by a signal) is a cancel, no evidence.
			a.status, a.reason = AttemptCancelledStatus, ReasonUser
			out = outcomeExcluded
		case cause == nil:
			a.status, a.kind, a.err = AttemptFailedStatus, providers.KindOf(err), err.Error()
			out = outcomeFailure
		case errors.As(cause, &cc):
			a.status, a.reason = AttemptCancelledStatus, cc.reason
			out = outcomeExcluded
			// A call that was streaming (answer or reasoning) when another
			// answer made it moot is evidence of health: a model that usually loses races
			// must not be judged on its failures alone.
			if (a.gotFirst || a.gotReasoning) && cc != causeBudget {
				out = outcomeHealthy
			}
		case cause == errModelTimeout:
			a.status, a.kind = AttemptTimeout, providers.KindTimeout
			a.err = fmt.Sprintf("no answer within per_model_timeout %s", s.tier.perModel)
			out = outcomeFailure
		case errors.Is(cause, providers.ErrStalled):
			a.status, a.kind = AttemptFailedStatus, providers.KindStalled
			a.err = fmt.Sprintf("stream silent for stall_timeout %s", s.tier.stall)
			out = outcomeFailure
		default: // the caller's context: the user cancelled
			a.status, a.reason = AttemptCancelledStatus, ReasonUser
			out = outcomeExcluded
		}
	}
	a.fillUsage()
	a.emitEnd()
	switch out {
	case outcomeSuccess:
		a.m.stats.addOK(a.firstTok-a.startedAt, a.endedAt-a.startedAt)
		if a.m.fleetLat != nil {
			a.m.fleetLat.add(a.endedAt-a.startedAt, false)
		}
	case outcomeFailure:
		a.m.stats.addOutcome(OutcomeFailed)
	default:
		a.m.stats.addOutcome(OutcomeCancelled)
		if a.gotFirst {
			a.m.firstToks.add(a.firstTok - a.startedAt)
		}
		switch a.reason {
		case ReasonHedgeWon:
			// A primary its hedge beat took longer than it ran: left out,
			// the p95 the next hedge delay is read from would sink to the
			// calls that finished, and ever more sessions would hedge.
			s.e.addLowerBound(a.m, a.endedAt-a.startedAt)
		case ReasonReplaced:
			// Likewise, and counted in the slow mode it was cut for, so
			// the slow share (and the knee's detection) stays.
			s.e.addCut(a.m, a.endedAt-a.startedAt)
		}
	}
	if a.admitted {
		var h time.Duration
		if out == outcomeFailure {
			h = hold(err)
		}
		a.endPhase = 2
		s.breakerEvents(a, a.m.breaker.report(a.ticket, out, h, s.start.Add(a.endedAt)))
	}
}

// answerText accumulates a stream's text. An answer that comes in one
// chunk (an instant provider, a cached reply, a one-word vote) is kept as
// the chunk's own string, without a copy; a second chunk starts a builder.
type answerText struct {
	one string
	b   strings.Builder
}

func (t *answerText) WriteString(s string) {
	switch {
	case t.b.Len() > 0:
		t.b.WriteString(s)
	case t.one == "":
		t.one = s
	default:
		t.b.Grow(len(t.one) + len(s))
		t.b.WriteString(t.one)
		t.b.WriteString(s)
		t.one = ""
	}
}

func (t *answerText) String() string {
	if t.b.Len() > 0 {
		return t.b.String()
	}
	return t.one
}

func (t *answerText) Len() int { return len(t.one) + t.b.Len() }

// emitEnd queues the attempt's final event, built in place.
func (a *attempt) emitEnd() {
	s := a.s
	e, _ := s.q.open(AttemptDone, int(a.idx))
	e.Session, e.T, e.Model, e.Role, e.Attempt, e.Stage = s.id, a.endedAt, a.m.cfg.ID, a.role, a.id(), a.stage
	e.InputTokens, e.OutputTokens, e.Cost = int(a.usage.in), int(a.usage.out), a.cost
	switch a.status {
	case AttemptDoneStatus:
		e.Type, e.Text, e.Finish = AttemptDone, a.text.String(), a.finishReason()
	case AttemptCancelledStatus:
		e.Type, e.Reason = AttemptCancelled, a.reason
	default:
		e.Type, e.Kind, e.Err, e.Finish = AttemptFailed, a.kind, a.err, a.ended
	}
	s.q.commit()
	a.endPhase = 1
}

// fillUsage estimates tokens the provider did not report (a cancelled
// stream rarely gets its usage chunk) and prices the attempt: a cancelled
// attempt's burn is a real cost.
func (a *attempt) fillUsage() {
	// A call that streamed nothing and reported no usage (refused,
	// rate limited, unreachable) cost nothing.
	if !a.started || (a.text.Len() == 0 && a.usage == (tokens{})) {
		return
	}
	if a.usage.in == 0 {
		a.usage.in = clamp32((requestLen(a.req) + 3) / 4)
	}
	if a.usage.out == 0 && a.text.Len() > 0 {
		a.usage.out = clamp32((a.text.Len() + 3) / 4)
	}
	cfg := &a.m.cfg
	cachedPrice, writePrice := cfg.InputPerMTok, cfg.InputPerMTok
	if cfg.CachedInputPerMTok != nil {
		cachedPrice = *cfg.CachedInputPerMTok
	}
	if cfg.CacheWritePerMTok != nil {
		writePrice = *cfg.CacheWritePerMTok
	}
	cached := min(a.usage.cached, a.usage.in)
	written := min(a.cacheWrites(), a.usage.in-cached)
	a.cost = roundUSD((float64(a.usage.in-cached-written)*cfg.InputPerMTok + float64(cached)*cachedPrice +
		float64(written)*writePrice + float64(a.usage.out)*cfg.OutputPerMTok) / 1e6)
}

// noteCacheWrites records the prompt-cache writes the call's vendor
// reported (Anthropic's cache_creation_input_tokens). Few calls report
// any, so the count lives in the session's side table rather than in
// the attempt, whose every byte counts eight times in a session.
//
//go:noinline
func (a *attempt) noteCacheWrites(n int) {
	s := a.s
	s.cmu.Lock()
	if s.cacheWrites == nil {
		s.cacheWrites = make(map[int32]int32)
	}
	s.cacheWrites[a.idx] = clamp32(n)
	s.cmu.Unlock()
	a.wroteCache = true
}

// cacheWrites returns the prompt-cache writes noteCacheWrites recorded,
// 0 when the vendor reported none.
func (a *attempt) cacheWrites() int32 {
	if !a.wroteCache {
		return 0
	}
	s := a.s
	s.cmu.Lock()
	defer s.cmu.Unlock()
	return s.cacheWrites[a.idx]
}

// finishReason is the attempt's finish as reported: the vendor's, or
// unknown for an answer whose vendor said nothing.
func (a *attempt) finishReason() providers.Finish {
	if a.ended == providers.FinishNone && (a.status == AttemptDoneStatus || a.status == AttemptWon) {
		return providers.FinishUnknown
	}
	return a.ended
}

// roundUSD rounds an amount to a billionth of a dollar, finer than any
// price per token, so that sums carry no float noise (3.11e-05, not
// 3.1100000000000004e-05).
func roundUSD(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// requestLen is the bytes a request sends: its system prompt and messages.
func requestLen(r *providers.Request) int {
	n := len(r.System)
	for _, m := range r.Messages {
		n += len(m.Content)
	}
	return n
}

// hold is how long a failure's server asked to be left alone (a 429's
// Retry-After), 0 when it did not say.
func hold(err error) time.Duration {
	var pe *providers.Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}
