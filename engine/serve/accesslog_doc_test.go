package serve

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
)

// accessLogFormat is what each field of an access-log line looks like,
// in the docs' line and in the logger's alike.
var accessLogFormat = map[string]*regexp.Regexp{
	"time":        regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d\d:\d\d)$`),
	"msg":         regexp.MustCompile(`^request$`),
	"method":      regexp.MustCompile(`^POST$`),
	"path":        regexp.MustCompile(`^/v1/chat/completions$`),
	"status":      regexp.MustCompile(`^200$`),
	"model":       regexp.MustCompile(`^council/race$`),
	"session":     regexp.MustCompile(`^s\d+$`),
	"duration_ms": regexp.MustCompile(`^\d+(\.\d+)?$`),
	"token":       regexp.MustCompile(`^[0-9a-f]{8}$`),
}

// logfmt splits a slog text line into its keys, in order, and values
// (none of the values here are quoted).
func logfmt(t *testing.T, line string) ([]string, map[string]string) {
	t.Helper()
	var keys []string
	vals := map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("%q in %q is not key=value", f, line)
		}
		keys = append(keys, k)
		vals[k] = v
	}
	return keys, vals
}

// TestAccessLogAsDocumented: the access-log line docs/serve-and-watch.md
// shows has exactly the fields the access logger writes, in its order,
// each written as the logger writes it (the time, the session and the
// duration differ from run to run; their form does not).
func TestAccessLogAsDocumented(t *testing.T) {
	raw, err := os.ReadFile("../../docs/serve-and-watch.md")
	if err != nil {
		t.Fatal(err)
	}
	var shown []string
	for _, l := range strings.Split(string(raw), "\n") {
		if s, ok := strings.CutPrefix(l, "    time="); ok {
			shown = append(shown, "time="+s)
		}
	}
	if len(shown) != 1 {
		t.Fatalf("docs/serve-and-watch.md shows %d access-log lines (an indented line starting time=), want 1", len(shown))
	}
	synctest.Test(t, func(t *testing.T) {
		var log lockedBuffer
		h := newHarness(t, "", func(o *Options) { o.Tokens = []string{"tok-secret"}; o.AccessLog = &log })
		resp, body := h.do("POST", "/v1/chat/completions", "tok-secret",
			`{"model":"council/race","messages":[{"role":"user","content":"How do database indexes work?"}]}`)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		synctest.Wait() // a line is written once its answer has gone out
		logged := strings.TrimSpace(log.String())
		if strings.Count(logged, "\n") != 0 {
			t.Fatalf("want one line for one request:\n%s", logged)
		}
		wantKeys, wantVals := logfmt(t, logged)
		docKeys, docVals := logfmt(t, shown[0])
		if !slices.Equal(docKeys, wantKeys) {
			t.Errorf("the docs' access-log line has the keys %v; the logger writes %v:\ndocs:   %s\nlogger: %s", docKeys, wantKeys, shown[0], logged)
		}
		for _, k := range wantKeys {
			re, ok := accessLogFormat[k]
			if !ok {
				t.Errorf("the logger writes %s=%s, a field this test does not know the form of: add it", k, wantVals[k])
				continue
			}
			if !re.MatchString(wantVals[k]) {
				t.Errorf("the logger writes %s=%s, not of the form %s", k, wantVals[k], re)
			}
			if v, ok := docVals[k]; ok && !re.MatchString(v) {
				t.Errorf("the docs show %s=%s; the logger writes it as %s (%s)", k, v, wantVals[k], re)
			}
		}
	})
}
