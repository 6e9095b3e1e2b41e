package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/council-dev/council/engine/config"
)

// StrategyInfo describes a registered strategy to the engine's clients:
// the CLI's usage and errors, serve's model list, the dashboard's cycle
// and stage drawing all read it rather than keeping lists of their own.
type StrategyInfo struct {
	Name config.Strategy
	// Summary says in one line what the strategy does (usage, help).
	Summary string
	// Stages are the stages its attempts and stage events carry, in the
	// order they run: {StageNone} for a one-stage strategy. A strategy
	// that Routes runs another one's stages after its own.
	Stages []Stage
	// PromptAlone: it runs on a prompt alone. False for a strategy that
	// needs a document (SessionRequest.Document, the CLI's --input).
	PromptAlone bool
	// Routes: it picks another strategy and runs it in the same session.
	Routes bool
	// FreeText: its answer is a model's free text or a synthesis of them,
	// which a request's stop sequences and response format can shape
	// ([Settings]). False for one that answers a category, or may.
	FreeText bool
}

// strategy is everything the engine knows about one strategy, registered
// once from the strategy's own file (see [register]).
type strategy struct {
	StrategyInfo
	// run drives the session to its result.
	run func(s *session)
	// estimate is the session's worst-case cost: every attempt the
	// strategy may make, each at its worst (the spending caps).
	estimate func(s *session) float64
	// validate refuses a request the strategy could only fail, before
	// any model is called; nil when it takes any request.
	validate func(p *plan) error
	// problems names what in a config makes the strategy always fail
	// (`council config check` warns of each); nil when nothing can.
	problems func(cfg *config.Config) []string
}

// strategyTable maps a strategy's name to its descriptor.
var strategyTable = map[config.Strategy]*strategy{}

// register adds a strategy's descriptor; each strategy's file calls it
// from an init function. TestEveryStrategyIsWhole fails for a descriptor
// that lacks a piece.
func register(st *strategy) { strategyTable[st.Name] = st }

// lookup is the strategy called name, or nil.
func lookup(name config.Strategy) *strategy { return strategyTable[name] }

// Strategies lists the registered strategies: config's order (the
// dashboard's cycle) first, then the others by name.
func Strategies() []StrategyInfo {
	out := make([]StrategyInfo, 0, len(strategyTable))
	for _, st := range strategyTable {
		out = append(out, st.StrategyInfo)
	}
	rank := func(n config.Strategy) int {
		if i := slices.Index(config.Strategies, n); i >= 0 {
			return i
		}
		return len(config.Strategies)
	}
	slices.SortFunc(out, func(a, b StrategyInfo) int {
		if d := rank(a.Name) - rank(b.Name); d != 0 {
			return d
		}
		return strings.Compare(string(a.Name), string(b.Name))
	})
	return out
}

// LookupStrategy describes the strategy called name.
func LookupStrategy(name config.Strategy) (StrategyInfo, bool) {
	if st := lookup(name); st != nil {
		return st.StrategyInfo, true
	}
	return StrategyInfo{}, false
}

// StrategyOfStage is the strategy whose own stages include st (a
// strategy that routes owns only its routing stage); false for
// [StageNone], which every one-stage strategy shares, and for a stage no
// strategy declares.
func StrategyOfStage(st Stage) (StrategyInfo, bool) {
	if st == StageNone {
		return StrategyInfo{}, false
	}
	for _, info := range Strategies() {
		if slices.Contains(info.Stages, st) {
			return info, true
		}
	}
	return StrategyInfo{}, false
}

// StrategyNames lists the registered strategies' names as [Strategies]
// orders them, joined by sep; promptAlone keeps only those that run on a
// prompt alone.
func StrategyNames(sep string, promptAlone bool) string {
	var names []string
	for _, info := range Strategies() {
		if info.PromptAlone || !promptAlone {
			names = append(names, string(info.Name))
		}
	}
	return strings.Join(names, sep)
}

// ParseStrategy is the registered strategy called name, or an error that
// lists them.
func ParseStrategy(name string) (config.Strategy, error) {
	if st := lookup(config.Strategy(name)); st != nil {
		return st.Name, nil
	}
	return "", unknownStrategy(config.Strategy(name))
}

func unknownStrategy(name config.Strategy) error {
	var names []string
	for _, info := range Strategies() {
		n := string(info.Name)
		if !info.PromptAlone {
			n += " (with a document)"
		}
		names = append(names, n)
	}
	return fmt.Errorf("unknown strategy %q (want %s)", name, strings.Join(names, ", "))
}

// ErrNoQuorum is returned by [Engine.Start], [Engine.Run],
// [Engine.Estimate] and [Check] for a consensus whose models could never
// give it its quorum: refused before any model is called.
var ErrNoQuorum = errors.New("a consensus can never reach quorum")

// plan is a request resolved against the config, before a session is
// made of it: what a strategy's validate judges.
type plan struct {
	cfg      *config.Config
	req      *SessionRequest
	strategy config.Strategy
	tier     string
	models   []string
	explicit bool         // the request named the models
	routes   []routeRules // the router's rules; nil: compiled when needed
}

// from names where the plan's models are listed, for messages.
func (p *plan) from() string {
	if p.explicit {
		return "the models asked for"
	}
	return "tiers." + p.tier + ".models"
}

// resolve fills in the config's defaults; false when the request names a
// tier or model the config lacks (the session's own errors say which).
func resolve(cfg *config.Config, req *SessionRequest) (*plan, bool) {
	p := &plan{cfg: cfg, req: req, strategy: req.Strategy, tier: req.Tier, models: req.Models, explicit: len(req.Models) > 0}
	if p.strategy == "" {
		p.strategy = cfg.DefaultStrategy
	}
	if p.tier == "" {
		p.tier = cfg.DefaultTier
	}
	if p.explicit {
		for _, id := range p.models {
			if _, ok := cfg.Model(id); !ok {
				return p, false
			}
		}
		return p, true
	}
	t, ok := cfg.Tier(p.tier)
	p.models = t.Models
	return p, ok
}

// validate is the plan's strategy's refusal, or nil.
func (p *plan) validate() error {
	st := lookup(p.strategy)
	if st == nil {
		return unknownStrategy(p.strategy)
	}
	if st.validate == nil {
		return nil
	}
	return st.validate(p)
}

// Check is why cfg's engine would refuse req before calling any model
// for a reason of its strategy's (an unknown strategy, a consensus that
// can never reach quorum, a section without a document), or nil. A tier
// or model cfg lacks is left to [Engine.Start] to name. [Engine.Start]
// checks the same; a client calls Check to refuse without an engine.
func Check(cfg *config.Config, req SessionRequest) error {
	p, ok := resolve(cfg, &req)
	if !ok {
		if lookup(p.strategy) == nil {
			return unknownStrategy(p.strategy)
		}
		return nil
	}
	return p.validate()
}

// ConfigProblems names what in cfg makes a strategy always fail (a tier
// whose models can never give a consensus its quorum...), with the keys
// to change: `council config check` warns of each.
func ConfigProblems(cfg *config.Config) []string {
	var out []string
	for _, info := range Strategies() {
		if st := lookup(info.Name); st.problems != nil {
			out = append(out, st.problems(cfg)...)
		}
	}
	return out
}

// plan is the running session as its strategy's validate judges it (the
// router checks its route with it).
func (s *session) plan() *plan {
	ids := make([]string, len(s.models))
	for i, m := range s.models {
		ids[i] = m.cfg.ID
	}
	return &plan{cfg: s.e.cfg, req: &SessionRequest{Prompt: s.prompt}, strategy: s.strategy, tier: s.tierName,
		models: ids, explicit: s.explicitModels, routes: s.e.routes}
}
