package engine

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func init() {
	register(&strategy{
		StrategyInfo: StrategyInfo{Name: config.Auto, Stages: []Stage{StageClassify}, PromptAlone: true, Routes: true,
			Summary: "a route (strategy and tier) picked by rules or a classifier model"},
		run:      (*session).auto,
		estimate: (*session).autoEstimate,
		validate: validateRoute,
	})
}

// autoEstimate: the classifier, then the dearest strategy a route may
// lead to, on the session's models.
func (s *session) autoEstimate() float64 {
	var c float64
	if m := s.e.models[s.e.cfg.Router.Classifier]; m != nil {
		c = s.worstOf(m, 0)
	}
	var route float64
	for _, info := range Strategies() {
		if info.PromptAlone && !info.Routes {
			route = max(route, lookup(info.Name).estimate(s))
		}
	}
	return c + route
}

// validateRoute refuses a prompt whose route is known before any call
// (no classifier: the rules decide) and leads to a strategy that would
// refuse it. With a classifier the route is checked once chosen, before
// the routed strategy calls a model.
func validateRoute(p *plan) error {
	rc := p.cfg.Router
	if rc.Classifier != "" {
		return nil
	}
	if p.routes == nil {
		p.routes = compileRoutes(rc.Routes)
	}
	route := settleRoute(rc, routeByRules(p.req.Prompt, rc.Routes, p.routes))
	return routedPlan(p, route).validate()
}

// routedPlan is p after auto takes route: its strategy, and its tier
// when the route names one (as useTier moves the session).
func routedPlan(p *plan, route Route) *plan {
	q := *p
	q.strategy = route.Strategy
	if t, ok := p.cfg.Tiers[route.Tier]; ok && route.Tier != "" && !p.explicit && len(t.Models) > 0 {
		q.tier, q.models = route.Tier, t.Models
	}
	return &q
}

// auto routes the prompt to a strategy, announces the route
// (route_chosen), and runs that strategy in the same session: the router's
// rules, then its classifier model when one is configured, the more
// confident of the two deciding; below router.min_confidence, the default
// route.
func (s *session) auto() {
	rc := s.e.cfg.Router
	route := routeByRules(s.prompt, rc.Routes, s.e.routes)
	if rc.Classifier != "" {
		if c, ok := s.classify(rc); ok {
			switch {
			case c.Name == route.Name:
				route.Confidence = max(route.Confidence, c.Confidence)
				route.Why = c.Why + "; " + route.Why
			case c.Confidence >= route.Confidence:
				route = c
			}
		}
	}
	if s.userCancelled() {
		s.fail(s.noAnswer())
		return
	}
	route = settleRoute(rc, route)
	s.extrasOf().stage.route = &route
	s.useTier(route.Tier)
	s.emitWith(-1, RouteChosen, func(e *Event) { e.Detail = &Detail{Route: &route} })
	s.strategy = route.Strategy
	if err := s.plan().validate(); err != nil {
		s.fail(err.Error()) // before the routed strategy calls any model
		return
	}
	lookup(route.Strategy).run(s)
}

// settleRoute is route, or the default route when route is unnamed or
// below router.min_confidence, its why saying so and what was found.
func settleRoute(rc config.RouterConfig, route Route) Route {
	if route.Confidence >= rc.MinConfidence && route.Name != "" {
		return route
	}
	why := route.Why
	if rc.Classifier != "" {
		why += " and no classifier was sure"
	}
	if route.Name != "" {
		why = fmt.Sprintf("%s at %.2f is below router.min_confidence %.2g (%s)", route.Name, route.Confidence, rc.MinConfidence, route.Why)
	}
	conf := route.Confidence
	route = routeNamed(rc, rc.DefaultRoute)
	route.Confidence, route.Why = conf, "the default route: "+why
	return route
}

// routeNamed is the route called name, with its strategy and tier.
func routeNamed(rc config.RouterConfig, name string) Route {
	for _, r := range rc.Routes {
		if r.Name == name {
			return Route{Name: r.Name, Strategy: r.Strategy, Tier: r.Tier, Categories: r.Categories}
		}
	}
	return Route{Name: name, Strategy: config.Hedge}
}

// useTier moves a routed session to tier (when the route names one and
// the request did not pick the models itself): its models and timeouts.
func (s *session) useTier(tier string) {
	t, ok := s.e.cfg.Tiers[tier]
	if tier == "" || tier == s.tierName || !ok || s.explicitModels {
		return
	}
	models := make([]*model, 0, len(t.Models))
	for _, id := range t.Models {
		if m := s.e.models[id]; m != nil {
			models = append(models, m)
		}
	}
	if len(models) == 0 {
		return
	}
	s.cmu.Lock()
	s.tierName, s.tier, s.models = tier, timeoutsOf(t), models
	s.cmu.Unlock()
	if d := t.Timeout.Duration; d > 0 {
		s.e.watch.ensure(s.base + d)
	}
}

// classify asks router.classifier for the route, as a vote among the
// route names; ok is false when it fails or answers outside them.
func (s *session) classify(rc config.RouterConfig) (Route, bool) {
	m := s.e.models[rc.Classifier]
	if m == nil {
		return Route{}, false
	}
	names := make([]string, len(rc.Routes))
	for i, r := range rc.Routes {
		names[i] = r.Name
	}
	req := userRequest(providers.KindClassify, classifyPrompt(names), s.prompt)
	start := s.stageStart(StageClassify)
	a := s.launch(m, RoleClassifier, StageClassify, req)
	if a == nil {
		s.stageDone(StageClassify, start, "skipped")
		return Route{}, false
	}
	a = s.next()
	if a.status != AttemptDoneStatus {
		s.stageDone(StageClassify, start, string(a.status))
		return Route{}, false
	}
	text := a.text.String()
	v, err := ParseVote(text, names)
	s.emitWith(int(a.idx), VoteCast, func(e *Event) {
		e.Model, e.Text, e.Vote, e.Err, e.Attempt, e.Role, e.Stage = a.m.cfg.ID, text, v, errString(err), a.id(), a.role, StageClassify
	})
	if err != nil {
		a.err = "invalid route: " + err.Error()
		s.stageDone(StageClassify, start, "invalid")
		return Route{}, false
	}
	a.vote = v
	s.stageDone(StageClassify, start, "done")
	for _, r := range rc.Routes {
		if Normalize(r.Name) == v {
			conf := voteConfidence(text)
			return Route{Name: r.Name, Strategy: r.Strategy, Tier: r.Tier, Categories: r.Categories, Confidence: conf,
				Why: fmt.Sprintf("classifier %s said %s (%.2f)", a.m.cfg.ID, r.Name, conf)}, true
		}
	}
	return Route{}, false
}

// voteConfidence reads a vote's "confidence" (0..1, or a percentage);
// 0.5 when it gives none.
func voteConfidence(text string) float64 {
	start, end := strings.IndexByte(text, '{'), strings.LastIndexByte(text, '}')
	if start < 0 || end <= start {
		return 0.5
	}
	var obj struct {
		Confidence *float64 `json:"confidence"`
	}
	if json.Unmarshal([]byte(text[start:end+1]), &obj) != nil || obj.Confidence == nil {
		return 0.5
	}
	c := *obj.Confidence
	if c > 1 && c <= 100 {
		c /= 100
	}
	return min(max(c, 0), 1)
}
