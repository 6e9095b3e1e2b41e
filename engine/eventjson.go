package engine

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/council-dev/council/providers"
)

// UnmarshalJSON reads an event as [Event.MarshalJSON] wrote it (a
// recorded session's line): times come back on the 0.1 ms grid they were
// written on, so writing it again gives the same line.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	t, ok := parseEventType(j.Type)
	if !ok {
		return fmt.Errorf("unknown event type %q", j.Type)
	}
	*e = Event{Type: t, Stage: j.Stage, Session: j.Session, Seq: j.Seq, T: fromMillis(j.TMS),
		Model: j.Model, Role: j.Role, Attempt: j.Attempt, Text: j.Text, Vote: j.Vote, Reason: j.Reason,
		Err: j.Error, InputTokens: j.InputTokens, OutputTokens: j.OutputTokens, Cost: j.CostUSD,
		Delay: fromMillis(j.DelayMS), TieBreak: j.TieBreak, Summary: j.Summary}
	if j.Finish != "" {
		if err := e.Finish.UnmarshalText([]byte(j.Finish)); err != nil {
			return err
		}
	}
	if j.Kind != "" {
		k, ok := parseKind(j.Kind)
		if !ok {
			return fmt.Errorf("unknown failure kind %q", j.Kind)
		}
		e.Kind = k
	}
	if t == BreakerChanged {
		var err1, err2 error
		e.From, err1 = parseBreakerState(j.From)
		e.To, err2 = parseBreakerState(j.To)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("breaker_changed from %q to %q: unknown state", j.From, j.To)
		}
	}
	if j.Status != "" || j.ElapsedMS != 0 || j.Reviewer != "" || j.Ranking != nil || j.Invalid || j.Raw != "" ||
		j.Route != nil || j.Section != nil || j.Sections != nil || j.Retry != 0 {
		e.Detail = &Detail{Status: j.Status, Elapsed: fromMillis(j.ElapsedMS), Reviewer: j.Reviewer,
			Ranking: j.Ranking, Invalid: j.Invalid, Raw: j.Raw, Why: j.Why, Route: j.Route, Section: j.Section, Sections: j.Sections,
			Retry: j.Retry, Retries: j.Retries, RetryIn: fromMillis(j.RetryInMS)}
	}
	if j.Strategy != "" || j.Tier != "" || j.Models != nil || j.System != "" || j.MaxTokens != 0 || j.Temperature != nil ||
		j.Stop != nil || j.Format != nil || j.CostCapUSD != 0 || j.Turn != 0 || j.Input != "" {
		if e.Detail == nil {
			e.Detail = new(Detail)
		}
		e.Detail.Info = &SessionInfo{Strategy: j.Strategy, Tier: j.Tier, Models: j.Models, CostCapUSD: j.CostCapUSD, Turn: j.Turn, Input: j.Input,
			Settings: Settings{System: j.System, MaxTokens: j.MaxTokens, Temperature: j.Temperature, Stop: j.Stop, Format: j.Format.format()}}
	}
	if s := e.Summary; s != nil {
		s.restore()
	}
	return nil
}

// restore sets the summary's Go-only fields (its durations) from the
// milliseconds its JSON carries.
func (s *Summary) restore() {
	s.Elapsed = fromMillis(s.ElapsedMS)
	for id, b := range s.Breakers {
		b.HalfOpenIn, b.HeldFor = fromMillis(b.HalfOpenInMS), fromMillis(b.HeldForMS)
		s.Breakers[id] = b
	}
}

// fromMillis is the inverse of [Millis].
func fromMillis(ms float64) time.Duration {
	return time.Duration(ms * float64(time.Millisecond)).Round(100 * time.Microsecond)
}

func parseEventType(s string) (EventType, bool) {
	for i, n := range eventNames {
		if n == s && n != "" {
			return EventType(i), true
		}
	}
	return 0, false
}

func parseKind(s string) (providers.Kind, bool) {
	for k := providers.Kind(0); k < 64; k++ {
		if k.String() == s {
			return k, true
		}
	}
	return 0, false
}

func parseBreakerState(s string) (BreakerState, error) {
	for _, st := range []BreakerState{BreakerClosed, BreakerOpen, BreakerHalfOpen} {
		if st.String() == s {
			return st, nil
		}
	}
	return 0, fmt.Errorf("unknown breaker state %q", s)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *BreakerState) UnmarshalText(b []byte) error {
	st, err := parseBreakerState(string(b))
	*s = st
	return err
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *EventType) UnmarshalText(b []byte) error {
	et, ok := parseEventType(string(b))
	if !ok {
		return fmt.Errorf("unknown event type %q", b)
	}
	*t = et
	return nil
}
