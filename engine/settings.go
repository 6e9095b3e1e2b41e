package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Settings are how a session's models are asked: a system prompt, an
// answer's token limit, a temperature. A request's settings win over the
// model's, which win over the tier's (see [config.TierConfig]).
type Settings struct {
	System      string
	MaxTokens   int
	Temperature *float64
}

// empty reports whether no setting is given.
func (s Settings) empty() bool { return s.System == "" && s.MaxTokens == 0 && s.Temperature == nil }

// reasoningModel matches vendor model names that refuse a temperature
// (OpenAI's o-series and GPT-5 family): it is dropped for them, with a
// note, unless the config says otherwise.
var reasoningModel = regexp.MustCompile(`(^|/)(o[1-9](-|$)|o[1-9]-mini|gpt-5)`)

// refuses reports whether model m, of provider kind kind, refuses
// setting: the config says so, its kind never sends it, or it is a
// reasoning model and the setting a temperature.
func refuses(m config.ModelConfig, kind, setting string) bool {
	if slices.Contains(m.Unsupported, setting) {
		return true
	}
	if f, ok := providers.Lookup(kind); ok && slices.Contains(f.Refuses, setting) {
		return true
	}
	return setting == "temperature" && reasoningModel.MatchString(strings.ToLower(m.Model))
}

// hasSettings reports whether any tier or model of cfg sets how models
// are asked, so that sessions without any skip the work.
func hasSettings(cfg *config.Config) bool {
	for _, t := range cfg.Tiers {
		if t.System != "" || t.MaxTokens != 0 || t.Temperature != nil {
			return true
		}
	}
	for _, m := range cfg.Models {
		if m.System != "" || m.Temperature != nil {
			return true
		}
	}
	return false
}

// withSettings returns req as model m is to be asked it in this session:
// the request's, the model's and the tier's settings applied, a user's
// system prompt before the engine's own instructions (a voter's, a
// reviewer's), any setting m refuses dropped, with a note saying so, and
// m's history of the conversation before req's last message when the
// session continues one. It returns req itself when nothing applies.
func (s *session) withSettings(m *model, req *providers.Request) (*providers.Request, string) {
	var want Settings
	var turns []Turn
	if ms := s.multi; ms != nil {
		want, turns = ms.settings, ms.turns
	}
	t, mc := s.e.cfg.Tiers[s.tierName], m.cfg
	system := firstOf(want.System, mc.System, t.System)
	maxTok := firstOf(want.MaxTokens, mc.MaxTokens, t.MaxTokens)
	temp := want.Temperature
	if temp == nil {
		temp = mc.Temperature
	}
	if temp == nil {
		temp = t.Temperature
	}
	if system == "" && maxTok == 0 && temp == nil && len(turns) == 0 {
		return req, ""
	}
	r := *req
	if len(turns) > 0 && len(req.Messages) > 0 {
		r.Messages = s.history(m, turns, req.Messages[len(req.Messages)-1])
	}
	var dropped []string
	if system != "" {
		if refuses(mc, m.kind, "system") {
			dropped = append(dropped, "system")
		} else if r.System == "" {
			r.System = system
		} else {
			r.System = system + "\n\n" + r.System
		}
	}
	if maxTok != 0 {
		if refuses(mc, m.kind, "max_tokens") {
			dropped = append(dropped, "max_tokens")
		} else {
			r.MaxTokens = maxTok
		}
	}
	if temp != nil {
		if refuses(mc, m.kind, "temperature") {
			dropped = append(dropped, "temperature")
		} else {
			r.Temperature = temp
		}
	}
	note := ""
	if len(dropped) > 0 {
		note = fmt.Sprintf("%s dropped: %s does not take it", strings.Join(dropped, " and "), mc.Model)
	}
	return &r, note
}

// history is what model m is shown of a conversation, oldest first, and
// then last (the prompt, or a voter's, reviewer's or chairman's own
// instruction): each turn's prompt and, as m's reply, its own answer, or
// the turn's final answer when follow_up = "winner" or m gave none. A
// turn with no answer at all is left out, so that the messages alternate.
// Only the last message is kept of what was asked before: a fallback,
// asked what the model it stands in for was, gets its own history.
func (s *session) history(m *model, turns []Turn, last providers.Message) []providers.Message {
	msgs := make([]providers.Message, 0, 2*len(turns)+1)
	for _, t := range turns {
		answer := t.ReplyOf(m.cfg.ID, s.e.cfg.FollowUp)
		if answer == "" || t.Prompt == "" {
			continue
		}
		msgs = append(msgs, providers.Message{Role: "user", Content: t.Prompt}, providers.Message{Role: "assistant", Content: answer})
	}
	return append(msgs, last)
}

func firstOf[T comparable](vs ...T) T {
	var zero T
	for _, v := range vs {
		if v != zero {
			return v
		}
	}
	return zero
}
