package themes

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDocThemes: docs/dashboard.md's Themes section names the roles of
// [roles] in their order, and the built-in themes, the default first, as
// they are embedded.
func TestDocThemes(t *testing.T) {
	raw, err := os.ReadFile("../docs/dashboard.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "### Themes")
	if i < 0 {
		t.Fatal("docs/dashboard.md has no ### Themes section")
	}
	section := strings.Join(strings.Fields(doc[i:]), " ")
	m := regexp.MustCompile(`\[roles\]` + "`" + ` \(([a-z, ]+)\)`).FindStringSubmatch(section)
	if m == nil {
		t.Fatalf("the Themes section lists no roles (`[roles]` (a, b, ...)):\n%s", section)
	}
	var th Theme
	var want []string
	for _, r := range th.roles() {
		want = append(want, r.key)
	}
	if got := strings.Split(m[1], ", "); !slices.Equal(got, want) {
		t.Errorf("the Themes section lists the roles %v; a theme's are %v", got, want)
	}
	b := regexp.MustCompile("Built in: ((?:`[a-z-]+`(?: \\(default\\))?,? ?)+)").FindStringSubmatch(section)
	if b == nil {
		t.Fatalf("the Themes section names no built-in themes (Built in: `a` (default), `b`):\n%s", section)
	}
	var names []string
	for _, n := range regexp.MustCompile("`([a-z-]+)`( \\(default\\))?").FindAllStringSubmatch(b[1], -1) {
		names = append(names, n[1])
		if n[2] != "" && n[1] != Default {
			t.Errorf("the Themes section says %s is the default; it is %s", n[1], Default)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, Names()) {
		t.Errorf("the Themes section names the themes %v; the embedded ones are %v", names, Names())
	}
}
