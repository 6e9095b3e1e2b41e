package engine

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

func init() { register(config.Auto, (*session).auto) }

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
	if route.Confidence < rc.MinConfidence || route.Name == "" {
		why := "no rule matched and no classifier was sure"
		if route.Name != "" {
			why = fmt.Sprintf("%s at %.2f is below router.min_confidence %.2g", route.Name, route.Confidence, rc.MinConfidence)
		}
		conf := route.Confidence
		route = routeNamed(rc, rc.DefaultRoute)
		route.Confidence, route.Why = conf, "the default route: "+why
	}
	s.stagesOf().route = &route
	s.useTier(route.Tier)
	s.emitWith(-1, RouteChosen, func(e *Event) { e.Detail = &Detail{Route: &route} })
	s.strategy = route.Strategy
	strategyTable[route.Strategy](s)
}

// routeNamed is the route called name, with its strategy and tier.
func routeNamed(rc config.RouterConfig, name string) Route {
	for _, r := range rc.Routes {
		if r.Name == name {
			return Route{Name: r.Name, Strategy: r.Strategy, Tier: r.Tier}
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

// compileRoutes compiles each route's patterns, once per engine (the
// config has validated them).
func compileRoutes(routes []config.RouteConfig) [][]*regexp.Regexp {
	out := make([][]*regexp.Regexp, len(routes))
	for i, r := range routes {
		for _, p := range r.Patterns {
			if re, err := regexp.Compile(p); err == nil {
				out[i] = append(out[i], re)
			}
		}
	}
	return out
}

// routeByRules scores every route by what of it the prompt matches (each
// keyword and pattern one hit, a long enough prompt two) and returns the
// best, earlier routes winning ties, with a confidence that grows with its
// hits (one hit 0.65, two 0.85, three or more 0.95). No hit: a route with
// no name and confidence 0.
func routeByRules(prompt string, routes []config.RouteConfig, patterns [][]*regexp.Regexp) Route {
	lower := strings.ToLower(prompt)
	words := len(strings.Fields(prompt))
	best, bestHits, bestWhy := -1, 0, ""
	for i := range routes {
		r := &routes[i]
		hits := 0
		var why []string
		for _, k := range r.Keywords {
			if k != "" && strings.Contains(lower, strings.ToLower(k)) {
				hits++
				why = append(why, fmt.Sprintf("%q", strings.TrimSpace(k)))
			}
		}
		var res []*regexp.Regexp
		if i < len(patterns) {
			res = patterns[i]
		}
		for _, re := range res {
			if re.MatchString(prompt) {
				hits++
				why = append(why, "/"+re.String()+"/")
			}
		}
		if r.MinWords > 0 && words >= r.MinWords {
			hits += 2
			why = append(why, fmt.Sprintf("%d words (min_words %d)", words, r.MinWords))
		}
		if hits > bestHits {
			best, bestHits, bestWhy = i, hits, strings.Join(why, ", ")
		}
	}
	if best < 0 {
		return Route{}
	}
	r := routes[best]
	return Route{Name: r.Name, Strategy: r.Strategy, Tier: r.Tier,
		Confidence: min(0.95, 0.45+0.2*float64(bestHits)), Why: "rules matched " + clip(bestWhy, 160)}
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
			return Route{Name: r.Name, Strategy: r.Strategy, Tier: r.Tier, Confidence: conf,
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
