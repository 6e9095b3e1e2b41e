package serve

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

// docParamRow is a row of docs/serve-and-watch.md's table of Chat
// Completions parameters: the parameters and what the server does.
type docParamRow struct {
	names []string
	here  string
}

func docParamTable(t *testing.T) []docParamRow {
	t.Helper()
	raw, err := os.ReadFile("../../docs/serve-and-watch.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	i := strings.Index(doc, "| parameter | here |")
	if i < 0 {
		t.Fatal("docs/serve-and-watch.md has no table of parameters (| parameter | here |)")
	}
	name := regexp.MustCompile("`([a-z_.]+)`")
	var rows []docParamRow
	for _, l := range strings.Split(doc[i:], "\n")[2:] {
		if !strings.HasPrefix(l, "|") {
			break
		}
		cells := strings.Split(l, "|")
		var r docParamRow
		for _, m := range name.FindAllStringSubmatch(cells[1], -1) {
			r.names = append(r.names, m[1])
		}
		r.here = strings.TrimSpace(cells[2])
		rows = append(rows, r)
	}
	if len(rows) < 8 {
		t.Fatalf("read %d rows of the table of parameters; it was not found", len(rows))
	}
	return rows
}

// TestDocParameterTable: docs/serve-and-watch.md's table of parameters
// is what the server does. A parameter said to be refused is refused
// (400 unsupported_parameter naming it) when sent with a value that asks
// for something; one accepted with no effect is answered; one honoured
// is a field the server reads; and every parameter the server reads or
// refuses has its row.
func TestDocParameterTable(t *testing.T) {
	rows := docParamTable(t)
	read := map[string]bool{}
	rt := reflect.TypeFor[chatRequest]()
	for i := 0; i < rt.NumField(); i++ {
		if tag, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ","); tag != "" {
			read[tag] = true
		}
	}
	// stream_options is read for its one field.
	delete(read, "stream_options")
	read["stream_options.include_usage"] = true
	var refused []string
	for _, p := range unhonoured {
		refused = append(refused, p.name)
	}
	shown := map[string]bool{}
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		send := func(param string) (int, string) {
			resp, body := h.do("POST", "/v1/chat/completions", "",
				`{"model":"council/race","messages":[{"role":"user","content":"hi"}],"`+param+`":"something asked"}`)
			return resp.StatusCode, body
		}
		for _, r := range rows {
			for _, name := range r.names {
				shown[name] = true
				switch {
				case strings.HasPrefix(r.here, "refused"):
					if !slices.Contains(refused, name) {
						t.Errorf("the table says %s is refused; the server does not refuse it", name)
						continue
					}
					code, body := send(name)
					var e struct {
						Error struct{ Code, Param string }
					}
					if json.Unmarshal([]byte(body), &e); code != 400 || e.Error.Code != "unsupported_parameter" || e.Error.Param != name {
						t.Errorf("%s sent: %d %s, want 400 unsupported_parameter naming it", name, code, body)
					}
				case strings.HasPrefix(r.here, "accepted"):
					if slices.Contains(refused, name) || read[name] {
						t.Errorf("the table says %s is accepted with no effect; the server reads or refuses it", name)
						continue
					}
					if code, body := send(name); code != 200 {
						t.Errorf("%s sent: %d %s, want an answer", name, code, body)
					}
				default: // honoured, or honoured with limits
					if !read[name] {
						t.Errorf("the table says %s is honoured; the server does not read it", name)
					}
				}
			}
		}
	})
	for _, p := range refused {
		if !shown[p] {
			t.Errorf("the server refuses %s, which the table does not list", p)
		}
	}
	for p := range read {
		if !shown[p] {
			t.Errorf("the server reads %s, which the table does not list", p)
		}
	}
}
