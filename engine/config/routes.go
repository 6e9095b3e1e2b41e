package config

import (
	"regexp"
	"strings"
)

// routeRules validates route i's keywords, unless patterns and categories
// (the rest of a route is checked by router).
func (v *validator) routeRules(i int, rt RouteConfig) {
	rk := func(k string) []string { return []string{"router", "routes", k} }
	for _, k := range rt.Keywords {
		if strings.Trim(k, " *") == "" {
			v.errAt(rk("keywords"), i, "route %q: keyword %q has no word in it", rt.Name, k)
		}
	}
	for _, p := range rt.Unless {
		if _, err := regexp.Compile(p); err != nil {
			v.errAt(rk("unless"), i, "route %q: unless pattern %q: %v", rt.Name, p, err)
		}
	}
	if len(rt.Categories) == 0 {
		return
	}
	if rt.Strategy != Consensus {
		v.errAt(rk("categories"), i, "route %q: categories are the answers of a consensus route, and its strategy is %s", rt.Name, rt.Strategy)
	}
	seen := map[string]bool{}
	for _, cat := range rt.Categories {
		norm := strings.ToLower(strings.TrimSpace(cat))
		switch {
		case norm == "":
			v.errAt(rk("categories"), i, "route %q: a category is empty", rt.Name)
		case seen[norm]:
			v.errAt(rk("categories"), i, "route %q: category %q is listed twice", rt.Name, cat)
		}
		seen[norm] = true
	}
	if len(seen) == 1 {
		v.errAt(rk("categories"), i, "route %q: one category leaves nothing to vote on", rt.Name)
	}
}
