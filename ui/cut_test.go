package ui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// tieScript is four votes, two billing and two general: no decision.
func tieScript(engine.SessionRequest) []engine.Event {
	evs := []engine.Event{{Type: engine.SessionStarted}}
	votes := map[string]string{"sim/swift": "billing", "sim/steady": "general", "sim/flaky": "billing", "sim/slow": "general"}
	i := 0
	for _, m := range []string{"sim/swift", "sim/steady", "sim/flaky", "sim/slow"} {
		i++
		evs = append(evs, engine.Event{Type: engine.AttemptStarted, Model: m, Role: engine.RoleVoter, T: ms(i)},
			engine.Event{Type: engine.AttemptDone, Model: m, T: ms(100 * i), Text: votes[m], OutputTokens: 2},
			engine.Event{Type: engine.VoteCast, Model: m, T: ms(100 * i), Vote: votes[m], Text: votes[m]})
	}
	evs = append(evs, engine.Event{Type: engine.SessionDone, T: ms(500), Summary: &engine.Summary{Strategy: config.Consensus,
		Status: engine.StatusFailed, Votes: map[string]int{"billing": 2, "general": 2}, Elapsed: ms(500), Error: "tie"}})
	return seqEvents(evs)
}

// The tally never drops a category: a 2-2 tie reads as one at every size
// (at 120x30 it read "billing 2" alone).
func TestTallyNeverDropsACategory(t *testing.T) { synctest.Test(t, testTallyNeverDropsACategory) }

func testTallyNeverDropsACategory(t *testing.T) {
	for _, sz := range [][2]int{{80, 24}, {120, 30}, {120, 40}, {160, 48}} {
		f := newFake()
		f.script = tieScript
		m := newTestModel(f, sz[0], sz[1])
		m.strategy = config.Consensus
		press(m, "r")
		out := plain(m)
		for _, c := range []string{"billing", "general"} {
			if !regexp.MustCompile(c + `[\s█┆]*2\b`).MatchString(out) {
				t.Errorf("%dx%d: the tally lacks %s 2:\n%s", sz[0], sz[1], c, out)
			}
		}
	}
}

// However short its box, the tally shows every category with its count
// (and the invalid votes).
func TestTallyAreaKeepsEveryCategory(t *testing.T) {
	v := NewVoteTally(testCtx(), 5, 3)
	evs := tieScript(engine.SessionRequest{})
	evs = append(evs[:len(evs)-1], engine.Event{Type: engine.VoteCast, Model: "sim/x", T: ms(450), Text: "eh", Err: "not one of the categories"},
		engine.Event{Type: engine.AttemptCancelled, Model: "sim/y", T: ms(460), Reason: engine.ReasonDecided}, evs[len(evs)-1])
	sum := *evs[len(evs)-1].Summary
	sum.Invalid = 1
	evs[len(evs)-1].Summary = &sum
	for _, e := range evs {
		v.Apply(e)
	}
	for _, w := range []int{30, 60} {
		for h := 2; h <= 8; h++ {
			out := stripANSI(v.View(w, h))
			if n := len(strings.Split(out, "\n")); n > h {
				t.Errorf("%dx%d: %d lines", w, h, n)
			}
			for _, c := range []string{"billing", "general", "invalid"} {
				if !regexp.MustCompile(c + `[\s█┆╳]*[12]\b`).MatchString(out) {
					t.Errorf("%dx%d: the tally lacks %s and its count:\n%s", w, h, c, out)
				}
			}
		}
	}
}

// A timeline with more attempts than rows says how many it hides; shown
// and hidden make all of them.
func TestTimelineSaysWhatItHides(t *testing.T) {
	tl := NewTimeline(testCtx())
	for _, e := range councilScript(engine.SessionRequest{}) {
		tl.Apply(e)
	}
	for _, h := range []int{5, 8, 12} {
		out := stripANSI(tl.View(100, h))
		lines := strings.Split(out, "\n")
		if len(lines) > h {
			t.Errorf("height %d: %d lines", h, len(lines))
		}
		shown := strings.Count(out, "sim/")
		hidden := 0
		if g := regexp.MustCompile(`\+(\d+) earlier`).FindStringSubmatch(out); g != nil {
			hidden, _ = strconv.Atoi(g[1])
		}
		if shown+hidden != 10 {
			t.Errorf("height %d: %d rows shown, %d said hidden; the council has 10 attempts:\n%s", h, shown, hidden, out)
		}
	}
}

// A timeline's legend lists every glyph its rows use, whatever its width
// (on a second line when the title's has no room).
func TestLegendListsWhatRowsUse(t *testing.T) {
	tl := NewTimeline(testCtx())
	for _, e := range councilScript(engine.SessionRequest{}) {
		tl.Apply(e)
	}
	for _, w := range []int{40, 50, 60, 80, 120} {
		lines := strings.Split(stripANSI(tl.View(w, 16)), "\n")
		first := len(lines)
		for i, l := range lines {
			if strings.Contains(l, "sim/") {
				first = i
				break
			}
		}
		legend, rows := strings.Join(lines[:first], " "), strings.Join(lines[first:], "\n")
		for _, it := range legendItems {
			if it.glyph == "├" || !strings.Contains(rows, it.glyph) {
				continue
			}
			word := it.word
			if short, ok := legendShort[word]; ok {
				word = short // the full word or its short form
			}
			if !regexp.MustCompile(regexp.QuoteMeta(it.glyph) + " ?" + regexp.QuoteMeta(word)).MatchString(legend) {
				t.Errorf("width %d: rows use %s but the legend %q does not say it is %q", w, it.glyph, legend, it.word)
			}
		}
		for _, l := range lines {
			if n := ansiWidth(l); n > w {
				t.Errorf("width %d: a line %d wide: %q", w, n, l)
			}
		}
	}
}

// A section list taller than its box says which rows it shows of how
// many (at 80x24 it said 9/9 and showed 8).
func TestSectionBoxSaysWhatItHides(t *testing.T) {
	l := NewSectionList(testCtx())
	var plan []engine.SectionResult
	for i := 1; i <= 9; i++ {
		plan = append(plan, engine.SectionResult{Index: i, Title: fmt.Sprintf("Part %d", i), Status: "done", Model: "sim/swift", ElapsedMS: 100})
	}
	l.Apply(engine.Event{Type: engine.SectionChanged, Stage: engine.StageSections, Detail: &engine.Detail{Sections: plan}})
	out := stripANSI(l.View(60, 10))
	shown := strings.Count(out, "Part ")
	if shown >= 9 {
		t.Fatalf("9 rows fit in 8 lines?\n%s", out)
	}
	if !strings.Contains(out, fmt.Sprintf("of 9")) || !strings.Contains(out, strconv.Itoa(9-shown)+" more") {
		t.Errorf("%d of 9 sections shown, and the box does not say so:\n%s", shown, out)
	}
}

// A breaker board with more models than rows says how many it leaves
// out.
func TestBoardSaysWhatItHides(t *testing.T) {
	b := NewBreakerBoard(testCtx())
	b.SetHealth(testHealth(), fixedClock)
	out := stripANSI(b.View(100, 4))
	shown := strings.Count(out, "sim/")
	if shown >= 4 || !strings.Contains(out, fmt.Sprintf("+%d more", 4-shown)) {
		t.Errorf("%d of 4 models shown, and the board does not say how many more:\n%s", shown, out)
	}
	if n := len(strings.Split(out, "\n")); n > 4 {
		t.Errorf("%d lines in 4", n)
	}
}

// A ranking table too tall for its box keeps the totals and says what it
// folded or left out.
func TestRankingsSayWhatTheyFold(t *testing.T) { synctest.Test(t, testRankingsSayWhatTheyFold) }

func testRankingsSayWhatTheyFold(t *testing.T) {
	f := newFake()
	f.script = councilScript
	m := newTestModel(f, 160, 48)
	m.strategy = config.Council
	press(m, "r")
	r := m.rank
	full := stripANSI(r.View(80, 40))
	for h := 3; h <= 10; h++ {
		out := stripANSI(r.View(80, h))
		if n := len(strings.Split(out, "\n")); n > h {
			t.Errorf("height %d: %d lines", h, n)
		}
		if out != full && !strings.Contains(out, "folded") && !strings.Contains(out, "more rows") {
			t.Errorf("height %d: rows cut without a sign:\n%s", h, out)
		}
	}
	if out := stripANSI(r.View(80, 7)); !strings.Contains(out, "sim/steady ") || !strings.Contains(out, " 4") {
		t.Errorf("height 7: the Borda leader's total is not shown:\n%s", out)
	}
}

// While a session runs in the compact layout, the answer shown under the
// model lines (the one that has streamed the most, until the user moves
// the focus) is the focused one: ▶ marks its line, and y copies it, not
// the first model's that the screen does not show.
func TestCompactShowsTheFocusedAnswer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.live = true
		f.script = func(engine.SessionRequest) []engine.Event {
			return seqEvents([]engine.Event{
				{Type: engine.SessionStarted},
				{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleRacer, T: ms(1)},
				{Type: engine.AttemptStarted, Model: "sim/steady", Role: engine.RoleRacer, T: ms(1)},
				{Type: engine.FirstToken, Model: "sim/swift", T: ms(100)},
				{Type: engine.Delta, Model: "sim/swift", T: ms(110), Text: "Short."},
				{Type: engine.FirstToken, Model: "sim/steady", T: ms(120)},
				{Type: engine.Delta, Model: "sim/steady", T: ms(130), Text: "A circuit breaker watches the failures of calls to a dependency."},
			})
		}
		m := newTestModel(f, 80, 24)
		press(m, "esc")
		l := newLoop(t, m)
		defer l.close()
		l.send(keyMsg("r"))
		l.until(func() bool { p := m.byID["sim/steady"]; return p != nil && p.a.textRunes > 20 })
		var marked, shown string
		for _, line := range strings.Split(plain(m), "\n") {
			if strings.HasPrefix(line, "▶ ") {
				marked = line
			}
			if strings.HasPrefix(line, "── sim/") {
				shown = line
			}
		}
		if !strings.Contains(shown, "sim/steady") || !strings.Contains(marked, "sim/steady") {
			t.Errorf("80x24 mid-race: the answer shown is %q, the line marked ▶ is %q; want both sim/steady", shown, marked)
		}
		l.send(keyMsg("y"))
		if !strings.Contains(m.status, "sim/steady") {
			t.Errorf("y copied %q, want the answer shown (sim/steady)", m.status)
		}
		l.send(keyMsg("esc"))
		l.until(func() bool { return !m.running })
	})
}

// A tie broken by escalation: the escalated model's answer decides, it is
// no vote. The tally counts four valid votes of four (the bars' 2 and 2),
// not five, while the session runs and after its summary.
func TestTallyDoesNotCountTheEscalationAsAVote(t *testing.T) {
	evs := tieScript(engine.SessionRequest{})
	done := evs[len(evs)-1]
	evs = append(evs[:len(evs)-1],
		engine.Event{Type: engine.AttemptStarted, Model: "sim/swift", Role: engine.RoleEscalated, T: ms(510)},
		engine.Event{Type: engine.AttemptDone, Model: "sim/swift", T: ms(600), Text: "billing"},
		engine.Event{Type: engine.VoteCast, Model: "sim/swift", Role: engine.RoleEscalated, T: ms(600), Vote: "billing", Text: "billing"},
		engine.Event{Type: engine.Decided, Model: "sim/swift", T: ms(600), Text: "billing", TieBreak: "escalate"})
	v := NewVoteTally(testCtx(), 4, 3)
	for _, e := range evs {
		v.Apply(e)
	}
	check := func(when string) {
		t.Helper()
		out := stripANSI(v.View(60, 8))
		if !strings.Contains(out, " 4/3") || !strings.Contains(out, "quorum 3 of 4") {
			t.Errorf("%s: want 4 valid votes of 4 voters, quorum 3:\n%s", when, out)
		}
		if !regexp.MustCompile(`billing[\s█┆]*2\b`).MatchString(out) {
			t.Errorf("%s: want billing 2 (the escalation is no vote):\n%s", when, out)
		}
	}
	check("decided by the escalation")
	sum := *done.Summary
	sum.Status, sum.Answer, sum.TieBreak, sum.Error, sum.Agreement = engine.StatusDecided, "billing", "escalate", "", 0.5
	done.Summary = &sum
	v.Apply(done)
	check("after the summary")
}

// A finished consensus in the compact layout shows a voter's answer, not
// the failed voter's error, though that one streamed the most before it
// failed.
func TestCompactShowsAnAnswerNotAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFake()
		f.script = func(engine.SessionRequest) []engine.Event {
			evs := []engine.Event{{Type: engine.SessionStarted}}
			for i, v := range []string{"sim/swift", "sim/steady", "sim/flaky"} {
				evs = append(evs, engine.Event{Type: engine.AttemptStarted, Model: v, Role: engine.RoleVoter, T: ms(i)})
			}
			evs = append(evs,
				engine.Event{Type: engine.Delta, Model: "sim/flaky", T: ms(100), Text: `{"category": "billing", "confidence": 0.9, "note": "long"}`},
				engine.Event{Type: engine.AttemptFailed, Model: "sim/flaky", T: ms(150), Kind: providers.KindHTTP, Err: "HTTP 503: service unavailable"},
				engine.Event{Type: engine.AttemptDone, Model: "sim/swift", T: ms(200), Text: "billing", OutputTokens: 2},
				engine.Event{Type: engine.VoteCast, Model: "sim/swift", T: ms(200), Vote: "billing", Text: "billing"},
				engine.Event{Type: engine.AttemptDone, Model: "sim/steady", T: ms(300), Text: "billing", OutputTokens: 2},
				engine.Event{Type: engine.VoteCast, Model: "sim/steady", T: ms(300), Vote: "billing", Text: "billing"},
				engine.Event{Type: engine.Decided, T: ms(300), Text: "billing"},
				engine.Event{Type: engine.SessionDone, T: ms(310), Summary: &engine.Summary{Strategy: config.Consensus,
					Status: engine.StatusDegraded, Degraded: []string{"model_failed"}, Answer: "billing", Votes: map[string]int{"billing": 2}, Elapsed: ms(310)}})
			return seqEvents(evs)
		}
		m := newTestModel(f, 80, 24)
		m.strategy = config.Consensus
		press(m, "esc", "r")
		for _, line := range strings.Split(plain(m), "\n") {
			if strings.HasPrefix(line, "── sim/") && !strings.Contains(line, "done") {
				t.Errorf("80x24 consensus: the answer shown is %q, want a voter's that is done", line)
			}
			if strings.HasPrefix(line, "▶ ") && !strings.Contains(line, "done") {
				t.Errorf("80x24 consensus: the focused line is %q, want a voter's that is done", line)
			}
		}
	})
}
