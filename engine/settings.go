package engine

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// Settings are how a session's models are asked: a system prompt, an
// answer's token limit, a temperature. A request's settings win over the
// model's, which win over the tier's (see [config.TierConfig]). Stop and
// Format are the request's alone and shape only the answers a client
// reads (free text and a chairman's synthesis), never a vote or a ranking.
type Settings struct {
	System      string
	MaxTokens   int
	Temperature *float64
	Stop        []string
	Format      *providers.ResponseFormat
}

// empty reports whether no setting is given.
func (s Settings) empty() bool {
	return s.System == "" && s.MaxTokens == 0 && s.Temperature == nil && len(s.Stop) == 0 && s.Format == nil
}

// Refuses reports whether model m, of provider kind kind, cannot honour
// these settings' stop sequences or response format, and names the
// parameter ("stop", "response_format"), for a server to refuse the
// request rather than the engine dropping it.
func (s Settings) Refuses(m config.ModelConfig, kind string) (string, bool) {
	if len(s.Stop) > 0 && refuses(m, kind, "stop") {
		return "stop", true
	}
	if f := s.Format; f != nil && (refuses(m, kind, "response_format") || f.Type == providers.FormatJSONSchema && refuses(m, kind, "json_schema")) {
		return "response_format", true
	}
	return "", false
}

// Unhonoured names the parameter of req's settings ("stop",
// "response_format") that its session could not honour, and why: its
// strategy answers a category, or a model of its route (a fallback
// included) cannot be asked for it. "" when all can. A session run anyway
// drops what a model refuses, with a note.
func (e *Engine) Unhonoured(req SessionRequest) (param, why string) {
	set := req.Settings
	if len(set.Stop) == 0 && set.Format == nil {
		return "", ""
	}
	st := cmp.Or(req.Strategy, e.cfg.DefaultStrategy)
	if info, ok := LookupStrategy(st); ok && !info.FreeText {
		param := "response_format"
		if len(set.Stop) > 0 {
			param = "stop"
		}
		return param, fmt.Sprintf("the %s strategy answers a category, not free text", st)
	}
	ids := req.Models
	if len(ids) == 0 {
		t, _ := e.cfg.Tier(cmp.Or(req.Tier, e.cfg.DefaultTier))
		ids = t.Models
	}
	seen := map[string]bool{}
	for len(ids) > 0 {
		id := ids[0]
		ids = ids[1:]
		m := e.models[id]
		if m == nil || seen[id] {
			continue
		}
		seen[id] = true
		if p, ok := set.Refuses(m.cfg, m.kind); ok {
			return p, fmt.Sprintf("model %s (provider kind %s) cannot be asked for it", id, m.kind)
		}
		ids = append(ids, m.cfg.Fallbacks...)
	}
	return "", ""
}

// shapesAnswer reports whether a request of kind k is answered for the
// client, so that stop and a response format apply to it.
func shapesAnswer(k providers.RequestKind) bool {
	return k == providers.KindText || k == providers.KindSynthesize
}

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
	if ms := s.extras; ms != nil {
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
	stop, format := want.Stop, want.Format
	if !shapesAnswer(req.Kind) {
		stop, format = nil, nil
	}
	if system == "" && maxTok == 0 && temp == nil && len(turns) == 0 && len(stop) == 0 && format == nil {
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
	var out providers.Output
	if len(stop) > 0 {
		if refuses(mc, m.kind, "stop") {
			dropped = append(dropped, "stop")
		} else {
			out.Stop = stop
		}
	}
	if format != nil {
		if refuses(mc, m.kind, "response_format") || format.Type == providers.FormatJSONSchema && refuses(mc, m.kind, "json_schema") {
			dropped = append(dropped, "response_format")
		} else {
			out.Format = format
		}
	}
	if out.Stop != nil || out.Format != nil {
		r.Output = &out
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
