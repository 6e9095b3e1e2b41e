package config

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRouteConfigErrors(t *testing.T) {
	route := func(extra ...string) []string {
		return append([]string{`[router]`, `default_route = "yn"`, `[[router.routes]]`, `name = "yn"`, `strategy = "consensus"`}, extra...)
	}
	for _, tc := range []struct {
		extra []string
		line  int
		key   string
		msg   string
	}{
		{route(`categories = ["yes", "Yes "]`), 14, "router.routes.categories", `"Yes " is listed twice`},
		{route(`categories = ["yes", ""]`), 14, "router.routes.categories", "empty"},
		{route(`categories = ["yes"]`), 14, "router.routes.categories", "nothing to vote on"},
		{[]string{`[router]`, `default_route = "yn"`, `[[router.routes]]`, `name = "yn"`, `strategy = "race"`, `categories = ["yes", "no"]`},
			14, "router.routes.categories", "answers of a consensus route"},
		{route(`unless = ["(can"]`), 14, "router.routes.unless", "unless pattern"},
		{route(`keywords = ["code", " * "]`), 14, "router.routes.keywords", "no word"},
	} {
		_, err := Parse([]byte(cfgWith(tc.extra...)), "c.toml")
		var ce *Error
		if !errors.As(err, &ce) || ce.Line != tc.line || ce.Key != tc.key || !strings.Contains(ce.Msg, tc.msg) {
			t.Errorf("%v: got %v; want c.toml:%d: key %s: ...%s...", tc.extra, err, tc.line, tc.key, tc.msg)
		}
	}
	c, err := Parse([]byte(cfgWith(route(`categories = ["yes", "no"]`, `unless = ["^Could you"]`, `keywords = ["invest*"]`)...)), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Router.Routes[0]; !slices.Equal(r.Categories, []string{"yes", "no"}) || !slices.Equal(r.Unless, []string{"^Could you"}) {
		t.Errorf("route %+v, want its categories and unless kept", r)
	}
}

// TestDefaultRoutesAreValid: the built-in routes pass the validation a
// config's own would (their patterns compile, the yes-no route's
// categories are a consensus route's).
func TestDefaultRoutesAreValid(t *testing.T) {
	c, err := Parse([]byte(cfgWith()), "c.toml")
	if err != nil {
		t.Fatal(err)
	}
	v := &validator{c: c, file: "c.toml"}
	v.router()
	if len(v.errs) != 0 || len(c.Router.Routes) != len(DefaultRoutes()) {
		t.Errorf("the default routes: %v (%d routes)", v.errs, len(c.Router.Routes))
	}
}
