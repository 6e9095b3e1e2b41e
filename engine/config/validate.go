package config

import (
	"cmp"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Validate checks a Config built in Go (after [Config.ApplyDefaults]) by
// the rules [Parse] applies to files; the error is a *[Error]
// with no line.
func (c *Config) Validate() error {
	v := &validator{c: c, file: cmp.Or(c.Source, "config")}
	return v.run()
}

// validator checks a decoded config with the defaults applied, and reports
// the problem nearest the top of the file.
type validator struct {
	c     *Config
	file  string
	pos   []keyPos
	isSet func(key ...string) bool // nil for a config built in Go
	errs  []*Error
}

// errAt records a problem with key (in [[models]] element elem when >= 0).
func (v *validator) errAt(key []string, elem int, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.file, Line: findLine(v.pos, key, elem),
		Key: toml.Key(key).String(), Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) set(key ...string) bool { return v.isSet != nil && v.isSet(key...) }

func (v *validator) run() error {
	c := v.c
	if _, err := ParseStrategy(string(c.DefaultStrategy)); err != nil {
		v.errAt([]string{"default_strategy"}, -1, "%v", err)
	} else if c.DefaultStrategy == Section {
		v.errAt([]string{"default_strategy"}, -1, "section needs a document: choose it per run with --strategy section --input FILE")
	}
	if c.Retry.Attempts < 0 || c.Retry.Attempts > 10 {
		v.errAt([]string{"retry", "attempts"}, -1, "must be from 0 to 10, got %d", c.Retry.Attempts)
	}
	if c.MaxCostUSD < 0 {
		v.errAt([]string{"max_cost_usd"}, -1, "cannot be negative, got %g", c.MaxCostUSD)
	}
	if c.FollowUp != FollowOwn && c.FollowUp != FollowWinner {
		v.errAt([]string{"follow_up"}, -1, "must be %q or %q, got %q", FollowOwn, FollowWinner, c.FollowUp)
	}
	if c.MaxRunCostUSD < 0 {
		v.errAt([]string{"max_run_cost_usd"}, -1, "cannot be negative, got %g", c.MaxRunCostUSD)
	}
	if c.MaxConcurrency < 1 {
		v.errAt([]string{"max_concurrency"}, -1, "must be at least 1, got %d", c.MaxConcurrency)
	}
	// First, so that at a number's line this is the problem reported.
	v.finite(reflect.ValueOf(c).Elem(), nil, -1)
	v.models()
	v.providers()
	v.tiers()
	v.breaker()
	v.hedge()
	v.consensus()
	v.council()
	v.section()
	v.router()
	v.limits()
	v.serve()
	v.shared()
	if len(v.errs) == 0 {
		return nil
	}
	// Line 0 (unknown) sorts last; otherwise the first problem in the file.
	slices.SortStableFunc(v.errs, func(a, b *Error) int {
		la, lb := a.Line, b.Line
		if la == 0 {
			la = 1 << 30
		}
		if lb == 0 {
			lb = 1 << 30
		}
		return la - lb
	})
	return v.errs[0]
}

// finite reports every number in rv (a part of the config at key, in
// [[models]] or [[router.routes]] element elem) that is NaN or infinite:
// TOML accepts nan and inf, and no key of the config means either.
func (v *validator) finite(rv reflect.Value, key []string, elem int) {
	switch rv.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			v.errAt(key, elem, "must be a finite number, got %g", f)
		}
	case reflect.Pointer, reflect.Interface:
		if !rv.IsNil() {
			v.finite(rv.Elem(), key, elem)
		}
	case reflect.Struct:
		t := rv.Type()
		for i := range t.NumField() {
			if name := tomlName(t.Field(i)); name != "" {
				v.finite(rv.Field(i), append(slices.Clip(key), name), elem)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			e := elem
			if e < 0 {
				e = i
			}
			v.finite(rv.Index(i), key, e)
		}
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return
		}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		for _, k := range keys {
			v.finite(rv.MapIndex(k), append(slices.Clip(key), k.String()), elem)
		}
	}
}

func (v *validator) rate(key []string, elem int, x float64) {
	if x < 0 || x > 1 || x != x {
		v.errAt(key, elem, "must be between 0 and 1, got %g", x)
	}
}

func (v *validator) positive(key []string, d Duration) {
	if d.Duration <= 0 {
		v.errAt(key, -1, "must be longer than 0")
	}
}

func (v *validator) modelRef(key []string, id string) {
	if id == "" {
		return
	}
	if _, ok := v.c.Model(id); !ok {
		v.errAt(key, -1, "no model has id %q (models: %s)", id, listOr(v.c.modelIDs()))
	}
}

func listOr(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func (v *validator) breaker() {
	b := v.c.Breaker
	if b.FailureRate <= 0 || b.FailureRate > 1 || b.FailureRate != b.FailureRate {
		v.errAt([]string{"breaker", "failure_rate"}, -1, "must be more than 0 and at most 1, got %g", b.FailureRate)
	}
	if b.MinRequests < 1 {
		v.errAt([]string{"breaker", "min_requests"}, -1, "must be at least 1, got %d", b.MinRequests)
	}
	v.positive([]string{"breaker", "window"}, b.Window)
	v.positive([]string{"breaker", "cooldown"}, b.Cooldown)
}

func (v *validator) hedge() {
	h := v.c.Hedge
	v.rate([]string{"hedge", "max_extra"}, -1, h.MaxExtra)
	v.modelRef([]string{"hedge", "primary"}, h.Primary)
	v.modelRef([]string{"hedge", "backup"}, h.Backup)
	if h.Primary != "" && h.Primary == h.Backup {
		v.errAt([]string{"hedge", "backup"}, -1, "is the same model as hedge.primary (%s)", h.Primary)
	}
}

func (v *validator) consensus() {
	cs := v.c.Consensus
	key := func(k string) []string { return []string{"consensus", k} }
	if cs.Voters < 1 {
		v.errAt(key("voters"), -1, "must be at least 1, got %d", cs.Voters)
	}
	if cs.MinResponses < 1 {
		v.errAt(key("min_responses"), -1, "must be at least 1, got %d", cs.MinResponses)
	} else if cs.MinResponses > cs.Voters && cs.Voters >= 1 {
		k := key("min_responses")
		if !v.set(k...) && v.set(key("voters")...) {
			k = key("voters") // the user wrote voters; point there
		}
		v.errAt(k, -1, "min_responses (%d) is more than voters (%d): the quorum could never be reached", cs.MinResponses, cs.Voters)
	}
	switch cs.TieBreak {
	case TieEscalate, TieDefault, TieFail:
	default:
		v.errAt(key("tie_break"), -1, "unknown tie_break %q (want escalate, default or fail)", cs.TieBreak)
	}
	// An empty escalate_to is allowed: the engine then asks the tier's
	// strongest (last) model.
	v.modelRef(key("escalate_to"), cs.EscalateTo)
	seen := map[string]bool{}
	for _, cat := range cs.Categories {
		norm := strings.ToLower(strings.TrimSpace(cat))
		switch {
		case norm == "":
			v.errAt(key("categories"), -1, "a category is empty")
		case seen[norm]:
			v.errAt(key("categories"), -1, "category %q is listed twice", cat)
		}
		seen[norm] = true
	}
	if len(cs.Categories) > 0 && cs.DefaultAnswer != "" && !containsFold(cs.Categories, cs.DefaultAnswer) {
		v.errAt(key("default_answer"), -1, "%q is not one of the categories (%s)", cs.DefaultAnswer, strings.Join(cs.Categories, ", "))
	}
	if cs.TieBreak == TieDefault && cs.DefaultAnswer == "" {
		v.errAt(key("tie_break"), -1, `tie_break "default" needs a default_answer among the categories`)
	}
}

func (v *validator) council() {
	co := v.c.Council
	key := func(k string) []string { return []string{"council", k} }
	if co.MinResponses < 1 {
		v.errAt(key("min_responses"), -1, "must be at least 1, got %d", co.MinResponses)
	}
	v.modelRef(key("chairman"), co.Chairman)
	v.modelRef(key("fallback_chairman"), co.FallbackChairman)
	for _, id := range co.Reviewers {
		v.modelRef(key("reviewers"), id)
	}
}

func (v *validator) router() {
	r := v.c.Router
	key := func(k string) []string { return []string{"router", k} }
	v.modelRef(key("classifier"), r.Classifier)
	v.rate(key("min_confidence"), -1, r.MinConfidence)
	names := map[string]bool{}
	for i, rt := range r.Routes {
		rk := func(k string) []string { return []string{"router", "routes", k} }
		switch {
		case rt.Name == "":
			v.errAt(rk("name"), i, "route number %d has no name", i+1)
		case names[rt.Name]:
			v.errAt(rk("name"), i, "route %q is defined twice", rt.Name)
		}
		names[rt.Name] = true
		if st, err := ParseStrategy(string(rt.Strategy)); err != nil {
			v.errAt(rk("strategy"), i, "route %q: %v", rt.Name, err)
		} else if st == Auto {
			v.errAt(rk("strategy"), i, "route %q: a route cannot lead back to auto", rt.Name)
		} else if st == Section {
			v.errAt(rk("strategy"), i, "route %q: a route cannot lead to section, which needs a document (--input)", rt.Name)
		}
		for _, p := range rt.Patterns {
			if _, err := regexp.Compile(p); err != nil {
				v.errAt(rk("patterns"), i, "route %q: pattern %q: %v", rt.Name, p, err)
			}
		}
		v.routeRules(i, rt)
		if rt.Tier != "" {
			if _, ok := v.c.Tiers[rt.Tier]; !ok {
				v.errAt(rk("tier"), i, "route %q: %q is not a tier (tiers: %s)", rt.Name, rt.Tier, listOr(v.c.TierOrder()))
			}
		}
		if rt.MinWords < 0 {
			v.errAt(rk("min_words"), i, "route %q: cannot be negative", rt.Name)
		}
	}
	if len(r.Routes) > 0 && !names[r.DefaultRoute] {
		v.errAt(key("default_route"), -1, "%q is not a route (routes: %s)", r.DefaultRoute, listOr(sortedKeys(names)))
	}
}

func (v *validator) limits() {
	l := v.c.Limits
	for k, n := range map[string]int{"max_event_bytes": l.MaxEventBytes, "max_answer_bytes": l.MaxAnswerBytes,
		"max_error_body_bytes": l.MaxErrorBodyBytes, "max_prompt_bytes": l.MaxPromptBytes} {
		if n < 1 {
			v.errAt([]string{"limits", k}, -1, "must be at least 1 byte, got %d", n)
		}
	}
}
