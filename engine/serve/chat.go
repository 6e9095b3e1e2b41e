package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
)

// chat is POST /v1/chat/completions.
func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	client := clientOf(r)
	if ok, wait := s.allow(client); !ok {
		refuseEarly(w, r)
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "rate_limit_exceeded",
			fmt.Sprintf("rate limit: %d requests per minute per client (serve.rate_limit_rpm); retry in %s", s.o.RateLimitRPM, wait.Round(time.Second)))
		return
	}
	// The body is decoded once, into cr; the bytes read are kept for the
	// parameters refused (contract.go), which cr has no fields for.
	var cr chatRequest
	raw, aerr := s.readChat(w, r, &cr)
	if aerr != nil {
		writeAPIError(w, aerr)
		return
	}
	cr.params = unhonouredParams(raw)
	noteRequest(w, cr.Model, "")
	req, aerr := s.sessionRequest(&cr)
	if aerr != nil {
		writeAPIError(w, aerr)
		return
	}

	if !s.hold(r) {
		aerr = shuttingDown()
		writeError(w, aerr.status, aerr.typ, aerr.code, aerr.msg)
		return
	}
	defer s.release(r)
	free, aerr := s.admit(r.Context())
	if aerr != nil {
		if aerr.code == "overloaded" {
			s.metrics.overloaded.Inc()
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(s.o.QueueTimeout.Seconds())))))
		}
		writeError(w, aerr.status, aerr.typ, aerr.code, aerr.msg)
		return
	}
	defer free()

	// The session ends when the client goes (reason user) or when a drain
	// runs out of time (reason shutdown).
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	stop := context.AfterFunc(s.sessions, func() { cancel(context.Cause(s.sessions)) })
	defer stop()

	began := time.Now()
	ch, err := s.eng.Start(ctx, req)
	if err != nil {
		s.startError(w, err)
		return
	}
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()
	c := &completion{s: s, w: w, model: cr.Model, stream: cr.Stream, created: began.Unix(), cancel: cancel,
		includeUsage: cr.StreamOptions != nil && cr.StreamOptions.IncludeUsage}
	var log *sessionLog
	for ev := range ch {
		if log == nil {
			c.id = ev.Session
			noteRequest(w, cr.Model, ev.Session)
			log = s.hub.begin(s.sessionInfo(ev.Session, req, client, cr.Model))
		}
		if ev.Type == engine.SessionDone && ev.Summary != nil {
			// The summary is encoded once, for the event stream and the
			// answer both.
			s.hub.publishDone(log, ev, c.summaryJSON(ev.Summary))
		} else {
			s.hub.publish(log, ev)
		}
		s.metrics.event(ev)
		c.event(ev)
	}
	if log != nil && c.sum == nil {
		s.hub.abandon(log)
	}
	c.finish(ctx)
	if c.sum != nil {
		s.metrics.session(c.sum, time.Since(began))
	}
}

// startError answers a session the engine refused to start.
func (s *Server) startError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, engine.ErrPromptTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "prompt_too_large", err.Error())
	case errors.Is(err, engine.ErrUnknownModel):
		writeError(w, http.StatusNotFound, "invalid_request_error", "model_not_found", err.Error())
	case errors.Is(err, engine.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, "server_error", "shutting_down", "the server is shutting down")
	case errors.Is(err, engine.ErrNoQuorum):
		writeError(w, http.StatusBadRequest, "invalid_request_error", "quorum_unreachable", err.Error())
	case errors.Is(err, engine.ErrOverBudget):
		writeError(w, http.StatusPaymentRequired, "insufficient_quota", "over_budget", err.Error())
	default:
		writeError(w, http.StatusBadRequest, "invalid_request_error", "invalid_request", err.Error())
	}
}

// completion is one chat completion's answer as the session unfolds.
type completion struct {
	s       *Server
	w       http.ResponseWriter
	id      string
	model   string
	created int64
	stream  bool
	route   string
	// routed is the strategy the router chose (auto).
	routed config.Strategy

	// pieces are each attempt's deltas, in stream mode: the decided
	// answer is sent in the pieces it arrived in.
	pieces map[string][]string
	// decided is the decided event, once it came; sent says the stream's
	// headers are written.
	decided *engine.Event
	sent    bool
	sum     *engine.Summary
	// live is the council chairman's attempt streamed as it writes the
	// synthesis; broken says it failed after its first words, and the
	// stream ended with an error.
	live   string
	broken bool
	// includeUsage says the stream ends with a usage chunk
	// (stream_options.include_usage); cancel ends the session.
	includeUsage bool
	cancel       context.CancelCauseFunc
	// sumJSON is sumOf's JSON, once encoded (summaryJSON).
	sumJSON json.RawMessage
	sumOf   *engine.Summary
}

// summaryJSON is sum's JSON, encoded the first time it is asked for:
// the session's summary goes out in the answer and on the event stream.
func (c *completion) summaryJSON(sum *engine.Summary) json.RawMessage {
	if sum != c.sumOf {
		b, err := json.Marshal(sum)
		if err != nil {
			b = []byte("null") // a summary is built by the engine and marshals
		}
		c.sumJSON, c.sumOf = b, sum
	}
	return c.sumJSON
}

// errStreamEnded cancels a session whose stream ended with an error.
var errStreamEnded = errors.New("the answer's stream ended with an error")

func (c *completion) event(ev engine.Event) {
	switch ev.Type {
	case engine.Delta:
		if !c.stream {
			break
		}
		if ev.Stage == engine.StageSynthesis && ev.Role == engine.RoleChairman && !c.sent {
			// The chairman's synthesis is the answer: it streams as it is
			// written, not once it is decided.
			c.startStream(ev.Model)
			c.live = ev.Attempt
		}
		if c.live != "" && ev.Attempt == c.live && !c.broken {
			c.chunk(chunkChoice{Delta: &chunkDelta{Content: ev.Text}}, nil, nil)
			http.NewResponseController(c.w).Flush()
			break
		}
		if c.pieces == nil {
			c.pieces = map[string][]string{}
		}
		c.pieces[ev.Attempt] = append(c.pieces[ev.Attempt], ev.Text)
	case engine.AttemptFailed, engine.AttemptCancelled:
		if c.live != "" && ev.Attempt == c.live && !c.broken {
			// Half an answer is out: say so in the stream rather than
			// append another chairman's answer to it.
			c.broken = true
			msg := fmt.Sprintf("the chairman %s failed in the middle of its synthesis (%s): the answer streamed so far is incomplete",
				ev.Model, cmpOr(ev.Err, string(ev.Reason)))
			b, _ := json.Marshal(wire.ErrorBody{Error: wire.ErrorDetail{Message: msg, Type: "server_error", Code: ptr("chairman_failed")}})
			c.w.Write([]byte("data: "))
			c.w.Write(b)
			// The stream ends here, as OpenAI's does after an error, and
			// what still runs for it is cancelled.
			c.w.Write([]byte("\n\ndata: [DONE]\n\n"))
			http.NewResponseController(c.w).Flush()
			c.cancel(errStreamEnded)
		}
	case engine.RouteChosen:
		if ev.Detail != nil && ev.Detail.Route != nil {
			c.route, c.routed = ev.Detail.Route.Name, ev.Detail.Route.Strategy
		}
	case engine.Decided:
		e := ev
		c.decided = &e
		if c.stream && !c.sent {
			c.streamAnswer()
		}
	case engine.SessionDone:
		c.sum = ev.Summary
	}
}

// headers sets the council headers; winner is "" when not known.
func (c *completion) headers(winner string, sum *engine.Summary) {
	h := c.w.Header()
	strategy := ""
	if sum != nil {
		strategy = string(sum.Strategy)
	} else if c.routed != "" {
		strategy = string(c.routed)
	} else if m, ok := strings.CutPrefix(c.model, modelPrefix); ok {
		strategy, _, _ = strings.Cut(m, "@")
	} else {
		strategy = string(config.Race)
	}
	h.Set("x-council-strategy", strategy)
	h.Set("x-council-session", c.id)
	if winner != "" {
		h.Set("x-council-winner", winner)
	}
	if c.route != "" {
		h.Set("x-council-route", c.route)
	}
}

// startStream writes the stream's headers and its first chunk.
func (c *completion) startStream(winner string) {
	c.headers(winner, nil)
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.w.WriteHeader(http.StatusOK)
	c.sent = true
	c.chunk(chunkChoice{Delta: &chunkDelta{Role: "assistant", Content: ""}}, nil, nil)
}

// streamAnswer starts the stream with the decided answer.
func (c *completion) streamAnswer() {
	d := c.decided
	c.startStream(d.Model)
	for _, p := range c.answerPieces(d) {
		c.chunk(chunkChoice{Delta: &chunkDelta{Content: p}}, nil, nil)
	}
	http.NewResponseController(c.w).Flush()
}

// answerPieces is the decided answer in the pieces an attempt streamed
// it in, or whole when no attempt's deltas make it up (a vote's category).
func (c *completion) answerPieces(d *engine.Event) []string {
	if p, ok := c.pieces[d.Attempt]; ok && strings.Join(p, "") == d.Text {
		return p
	}
	for _, p := range c.pieces {
		if strings.Join(p, "") == d.Text {
			return p
		}
	}
	return []string{d.Text}
}

type chunkDelta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content"`
}

type chunkChoice struct {
	Index        int         `json:"index"`
	Delta        *chunkDelta `json:"delta"`
	FinishReason *string     `json:"finish_reason"`
}

type usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// chunk writes one chat.completion.chunk; a nil choice writes none (the
// usage chunk).
func (c *completion) chunk(ch chunkChoice, u *usage, sum *engine.Summary) {
	choices := []chunkChoice{}
	if ch.Delta != nil {
		choices = append(choices, ch)
	}
	// One write for the event rather than three: each write arms the
	// write deadline again.
	b := c.appendEnvelope([]byte("data: "), "chat.completion.chunk", choices, u, sum)
	c.w.Write(append(b, "\n\n"...))
}

// answerChoice is a whole completion's choice; its keys are in the
// order encoding/json gives a map's, as they were sent before.
type answerChoice struct {
	FinishReason string        `json:"finish_reason"`
	Index        int           `json:"index"`
	Logprobs     *struct{}     `json:"logprobs"`
	Message      answerMessage `json:"message"`
}

type answerMessage struct {
	Content string    `json:"content"`
	Refusal *struct{} `json:"refusal"`
	Role    string    `json:"role"`
}

// usageOf is what the session used over all its attempts: every call a
// strategy makes is paid for.
func usageOf(sum *engine.Summary) *usage {
	u := &usage{}
	for _, m := range sum.Models {
		u.PromptTokens += m.InputTokens
		u.CompletionTokens += m.OutputTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// finishReason is OpenAI's finish_reason for the decided answer.
func finishReason(sum *engine.Summary) string {
	for _, m := range sum.Models {
		if m.Status == engine.AttemptWon && m.Finish == providers.FinishLength {
			return "length"
		}
	}
	if slices.Contains(sum.Degraded, engine.DegradedTruncated) {
		return "length"
	}
	return "stop"
}

// finish answers once the session's channel is closed.
func (c *completion) finish(ctx context.Context) {
	sum := c.sum
	if c.sent {
		if sum == nil || c.broken {
			return // the engine closed under it, or the error is sent
		}
		if sum.ErrorKind == engine.ErrorKindInternal {
			// Decided, then a bug failed the session: say so, not stop.
			b, _ := json.Marshal(wire.ErrorBody{Error: wire.ErrorDetail{Message: sum.Error, Type: "internal_error", Code: ptr("internal")}})
			c.w.Write([]byte("data: "))
			c.w.Write(b)
			c.w.Write([]byte("\n\n"))
			http.NewResponseController(c.w).Flush()
			return
		}
		fr := finishReason(sum)
		// The summary rides on the last chunk: the usage chunk when the
		// client asked for one, else the finishing one.
		if c.includeUsage {
			c.chunk(chunkChoice{Delta: &chunkDelta{}, FinishReason: &fr}, nil, nil)
			c.chunk(chunkChoice{}, usageOf(sum), sum)
		} else {
			c.chunk(chunkChoice{Delta: &chunkDelta{}, FinishReason: &fr}, nil, sum)
		}
		c.w.Write([]byte("data: [DONE]\n\n"))
		http.NewResponseController(c.w).Flush()
		return
	}
	if sum == nil {
		writeError(c.w, http.StatusServiceUnavailable, "server_error", "shutting_down", "the server shut down before the session ended")
		return
	}
	winner := cmpOr(sum.Winner, sum.Chairman)
	if sum.Status == engine.StatusDecided || sum.Status == engine.StatusDegraded {
		c.headers(winner, sum)
		fr := finishReason(sum)
		writeJSONBytes(c.w, http.StatusOK, append(c.envelope("chat.completion", []answerChoice{{
			Message: answerMessage{Role: "assistant", Content: sum.Answer}, FinishReason: fr}}, usageOf(sum), sum), '\n'))
		return
	}
	c.headers("", sum)
	status, typ, code, msg := failure(sum, context.Cause(ctx))
	if code == "breaker_open" {
		if wait := retryAfter(sum); wait > 0 {
			c.w.Header().Set("Retry-After", strconv.Itoa(wait))
		}
	}
	if sum.Stack != "" {
		// The stack is for the operator (stderr, the event stream), not
		// for whoever sent the request.
		cp := *sum
		cp.Stack = ""
		sum = &cp
	}
	writeErrorWith(c.w, status, typ, code, msg, sum)
}

// failure maps a session without an answer to a status and a message.
func failure(sum *engine.Summary, cause error) (int, string, string, string) {
	if sum.ErrorKind == engine.ErrorKindInternal {
		// A bug in council fails this request only; the server serves on.
		return http.StatusInternalServerError, "internal_error", "internal", sum.Error
	}
	if sum.Status == engine.StatusCancelled {
		if errors.Is(cause, engine.ErrShutdown) {
			return http.StatusServiceUnavailable, "server_error", "shutting_down", "the server is shutting down: the session was cancelled before it decided (reason shutdown); try again"
		}
		// The client went away; nobody reads this.
		return 499, "invalid_request_error", "cancelled", "the request was cancelled: " + sum.Error
	}
	var open []string
	all := len(sum.Models) > 0
	for _, m := range sum.Models {
		if m.Status == engine.AttemptSkippedStatus && (m.Reason == string(engine.ReasonBreakerOpen) || m.Reason == string(engine.ReasonRetryAfter)) {
			open = append(open, m.ID)
		} else {
			all = false
		}
	}
	if all {
		return http.StatusServiceUnavailable, "server_error", "breaker_open",
			fmt.Sprintf("every model of this session is held back by its circuit breaker (%s): not called; try again after the cooldown, or ask another tier or model", strings.Join(open, ", "))
	}
	// No model called, some for lack of time (they waited for a place
	// past what their median call needs): the server is overloaded, not
	// the upstream failing.
	late, called := 0, false
	for _, m := range sum.Models {
		switch {
		case m.Status != engine.AttemptSkippedStatus:
			called = true
		case m.Reason == string(engine.ReasonDeadline):
			late++
		}
	}
	if !called && late > 0 {
		return http.StatusServiceUnavailable, "server_error", "overloaded", "overloaded: " + sum.Error + "; try again"
	}
	var why []string
	for _, m := range sum.Models {
		if m.Error != "" {
			why = append(why, m.ID+": "+m.Error)
		} else if m.Status == engine.AttemptSkippedStatus {
			why = append(why, m.ID+": skipped ("+m.Reason+")")
		}
	}
	msg := "the session failed: " + sum.Error
	if len(why) > 0 {
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return http.StatusBadGateway, "server_error", "upstream_failed", msg
}

// retryAfter is the whole seconds until the first held-back breaker may
// admit a call, or 0.
func retryAfter(sum *engine.Summary) int {
	best := 0.0
	for _, b := range sum.Breakers {
		ms := max(b.HalfOpenInMS, b.HeldForMS)
		if ms > 0 && (best == 0 || ms < best) {
			best = ms
		}
	}
	return int(math.Ceil(best / 1000))
}
