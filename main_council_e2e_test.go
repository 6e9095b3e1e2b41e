package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/council-dev/council/engine/serve"
	"github.com/council-dev/council/providers/providertest"
)

// e2eBlock is an answer quoted in a review prompt, as the server reads it.
var e2eBlock = regexp.MustCompile(`(?s)<response label="([A-Z])">\n(.*?)\n</response>`)

// e2ePrefs is each reviewer's order, best first (its own answer left
// out), chosen so that no reviewer's ballot can be cut short by the early
// end (with any one review missing, the leader could still be caught):
// every review is counted, whatever order they come in.
var e2ePrefs = map[string][]string{
	"m1": {"m3", "m2", "m4"},
	"m2": {"m1", "m4", "m3"},
	"m3": {"m1", "m2", "m4"},
	"m4": {"m2", "m1", "m3"},
}

// e2eBallot writes a reviewer's ranking of labels (best first) in the form
// that reviewer uses: the forms real models write that the parser once
// refused.
func e2eBallot(reviewer string, labels []string) string {
	r := make([]string, len(labels))
	for i, l := range labels {
		r[i] = "Response " + l
	}
	var b strings.Builder
	switch reviewer {
	case "m1": // plural, title case, a closing remark naming a response
		b.WriteString("Final Rankings:\n")
		for i, x := range r {
			fmt.Fprintf(&b, "%d. %s\n", i+1, x)
		}
		fmt.Fprintf(&b, "\nOverall %s was weakest.", r[len(r)-1])
	case "m2": // a Markdown heading, "1)" numbering
		b.WriteString("## Final Ranking\n\n")
		for i, x := range r {
			fmt.Fprintf(&b, "%d) %s\n", i+1, x)
		}
	case "m3": // inline
		b.WriteString("FINAL RANKING: " + strings.Join(r, ", "))
	default: // bold, no colon, bullets, then a remark
		b.WriteString("**FINAL RANKING**\n")
		for _, x := range r {
			fmt.Fprintf(&b, "- **%s**\n", x)
		}
		fmt.Fprintf(&b, "\n%s could be shorter.", r[0])
	}
	return b.String()
}

// e2eVendor starts an OpenAI-compatible server standing in for four
// models, m1 to m4: each answers "Answer from mK.", reviews the answers
// it is shown in the order e2ePrefs gives it, in its own form (e2eBallot),
// and as chairman checks that it was given the four reviews. It returns
// the server's URL and a function that reports what the server found
// wrong.
func e2eVendor(t *testing.T) (url string, check func()) {
	var mu sync.Mutex
	var failures []string
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Model    string
			Messages []struct{ Role, Content string }
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			fail("request body: %v", err)
		}
		var system, user string
		for _, m := range body.Messages {
			switch m.Role {
			case "system", "developer":
				system = m.Content
			case "user":
				user = m.Content
			}
		}
		var text string
		switch {
		case strings.Contains(system, "You are reviewing"):
			byModel := map[string]string{}
			for _, m := range e2eBlock.FindAllStringSubmatch(user, -1) {
				byModel[strings.TrimSuffix(strings.TrimPrefix(m[2], "Answer from "), ".")] = m[1]
			}
			var labels []string
			for _, id := range e2ePrefs[body.Model] {
				if l, ok := byModel[id]; ok {
					labels = append(labels, l)
				}
			}
			if len(labels) != 3 {
				fail("%s's review prompt shows %v, want the three other answers:\n%s", body.Model, byModel, user)
			}
			text = "Response A is clear. Response B is thin. Response C is off topic in places.\n\n" + e2eBallot(body.Model, labels)
		case strings.Contains(system, "chairman"):
			if strings.Count(user, "<review ") != 4 {
				fail("the chairman's prompt carries %d reviews, want 4:\n%s", strings.Count(user, "<review "), user)
			}
			text = "Indexes are sorted structures that make lookups fast."
		default:
			text = "Answer from " + body.Model + "."
		}
		providertest.Deltas(providertest.OpenAI, 1, text, true)(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(srv.CloseClientConnections)
	return srv.URL, func() {
		t.Helper()
		mu.Lock()
		defer mu.Unlock()
		for _, f := range failures {
			t.Error(f)
		}
	}
}

// e2eConfig writes the config of the four models at url, a council of
// them by default, and returns its path.
func e2eConfig(t *testing.T, url string) string {
	cfg := filepath.Join(t.TempDir(), "council.toml")
	var models strings.Builder
	for _, id := range []string{"m1", "m2", "m3", "m4"} {
		fmt.Fprintf(&models, "[[models]]\nid = %q\nprovider = \"vendor\"\nmodel = %q\n", id, id)
	}
	body := fmt.Sprintf(`default_strategy = "council"
default_tier = "four"
[providers.vendor]
kind = "openai"
base_url = %q
%s
[tiers.four]
models = ["m1", "m2", "m3", "m4"]
[council]
min_responses = 4
`, url, models.String())
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// e2eSummary is what the end-to-end tests read of a council's summary.
type e2eSummary struct {
	Status   string
	Degraded []string
	Chairman string
	TieBreak string `json:"tie_break"`
	Borda    map[string]float64
	Rankings map[string][]string
	Reviews  []struct {
		Reviewer string
		Labels   map[string]string
		Ranking  []string
		Invalid  string
	}
}

// check reports where the summary differs from the council e2ePrefs make.
func (sum e2eSummary) check(t *testing.T) {
	t.Helper()
	if sum.Status != "decided" || len(sum.Degraded) != 0 {
		t.Errorf("status %s degraded %v, want decided", sum.Status, sum.Degraded)
	}
	// Of three answers a ballot gives 2, 1, 0: m1 is first for m2 and m3
	// and second for m4; m2 first for m4, second for m1 and m3; m3 first
	// for m1; m4 second for m2.
	if want := map[string]float64{"m1": 5, "m2": 4, "m3": 2, "m4": 1}; !maps.Equal(sum.Borda, want) {
		t.Errorf("borda %v, want %v", sum.Borda, want)
	}
	if sum.Chairman != "m1" || sum.TieBreak != "" {
		t.Errorf("chairman %s tie_break %q, want m1, the leader, with no tie", sum.Chairman, sum.TieBreak)
	}
	if len(sum.Rankings) != 4 || len(sum.Reviews) != 4 {
		t.Errorf("%d rankings, %d reviews, want 4 of each", len(sum.Rankings), len(sum.Reviews))
	}
	for _, rv := range sum.Reviews {
		if rv.Invalid != "" || !slices.Equal(rv.Ranking, e2ePrefs[rv.Reviewer]) || len(rv.Labels) != 3 {
			t.Errorf("review %+v, want %s's ranking %v, valid, with its three labels", rv, rv.Reviewer, e2ePrefs[rv.Reviewer])
		}
	}
}

// TestRunCouncilOnAnOpenAIServerWithRealRankings: a council of four models
// behind an OpenAI-compatible server whose reviewers write their rankings
// as real models do ends decided, every ballot valid, with the Borda count
// the ballots add up to.
func TestRunCouncilOnAnOpenAIServerWithRealRankings(t *testing.T) {
	url, check := e2eVendor(t)
	cfg := e2eConfig(t, url)
	t.Setenv("OPENAI_API_KEY", "test-key-not-real")
	out, errOut, code := council(t, map[string]string{"OPENAI_API_KEY": "test-key-not-real"}, "run", "--config", cfg, "--json", "--seed", "3", "How do database indexes work?")
	check()
	if code != 0 {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	var sum e2eSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	sum.check(t)
}

// TestServeCouncilOnAnOpenAIServerWithRealRankings: the same council
// through council serve's chat completions ends the same way, the
// chairman's synthesis as the answer.
func TestServeCouncilOnAnOpenAIServerWithRealRankings(t *testing.T) {
	url, check := e2eVendor(t)
	cfg := e2eConfig(t, url)
	t.Setenv("OPENAI_API_KEY", "test-key-not-real")
	ln := serve.NewPipeListener()
	old := serveListen
	serveListen = func(string) (net.Listener, error) { return ln, nil }
	defer func() { serveListen = old }()
	ctx, stop := context.WithCancel(context.Background())
	var stderr syncBuffer
	code := make(chan int, 1)
	go func() {
		env := func(k string) string {
			if k == "OPENAI_API_KEY" {
				return "test-key-not-real"
			}
			return ""
		}
		code <- realMain(ctx, []string{"serve", "--config", cfg, "--seed", "3"}, strings.NewReader(""), io.Discard, &stderr, env)
	}()
	tr := &http.Transport{DialContext: ln.Dial}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post("http://council.test/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"council/council","messages":[{"role":"user","content":"How do database indexes work?"}]}`))
	if err != nil {
		stop()
		<-code
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	stop()
	if c := <-code; c != exitOK {
		t.Errorf("serve exited %d; stderr %s", c, stderr.String())
	}
	check()
	var got struct {
		Choices []struct {
			Message struct{ Content string }
		}
		Council e2eSummary
	}
	if err := json.Unmarshal(b, &got); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("%d %v\n%s", resp.StatusCode, err, b)
	}
	if len(got.Choices) != 1 || got.Choices[0].Message.Content != "Indexes are sorted structures that make lookups fast." {
		t.Errorf("choices %+v, want the chairman's synthesis", got.Choices)
	}
	got.Council.check(t)
}
