package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// systemFor is the engine's classification system prompt (engine/vote.go,
// classifyPrompt), copied here so that the simulator is tested against the
// shape it will really be given.
func systemFor(categories ...string) string {
	return "Classify the user's message into exactly one of these categories: " + strings.Join(categories, ", ") +
		`. Answer with JSON only, {"category": "<category>", "confidence": <0..1>}, and nothing else.`
}

var (
	supportCats = []string{"billing", "technical", "account", "general"}
	routeCats   = []string{"classification", "code", "high-stakes", "chat"}
)

// votes asks n models with different seeds to classify prompt under
// system, and returns the votes and their mean confidence per category.
func votes(t *testing.T, system, prompt string, n int) (map[string]int, map[string]float64) {
	t.Helper()
	count := map[string]int{}
	conf := map[string]float64{}
	synctest.Test(t, func(t *testing.T) {
		for seed := range n {
			m := New(fmt.Sprintf("voter-%d", seed%3), Params{TTFT: time.Millisecond, TokensPerSec: 10000}, int64(seed))
			req := classifyReq(prompt)
			req.System = system
			tr := run(t, t.Context(), m, req)
			if tr.err != nil {
				t.Fatal(tr.err)
			}
			cat, c := parseVote(t, tr.text)
			if c <= 0 || c > 1 {
				t.Fatalf("confidence %v out of range in %q", c, tr.text)
			}
			count[cat]++
			conf[cat] += c
		}
	})
	for k := range conf {
		conf[k] /= float64(count[k])
	}
	return count, conf
}

func TestClassifyByContent(t *testing.T) {
	tests := []struct {
		prompt string
		want   string
	}{
		{"I was charged twice for my subscription this month", "billing"},
		{"Can I get a refund for my last invoice?", "billing"},
		{"Why did the price of my plan go up? The payment was higher.", "billing"},
		{"The app crashes every time I open it", "technical"},
		{"I get a timeout error when I upload files", "technical"},
		{"Installation fails halfway and the installer looks broken", "technical"},
		{"I forgot my password and can't log in", "account"},
		{"How do I change the email address on my account?", "account"},
		{"Please turn on 2FA for my username", "account"},
		{"How do database indexes work?", "general"},
		{"What are your opening hours?", "general"},
		{"Tell me a fun fact about octopuses", "general"},
	}
	const n = 200
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			got, _ := votes(t, systemFor(supportCats...), tt.prompt, n)
			if share := float64(got[tt.want]) / n; share < 0.75 {
				t.Errorf("votes %v: got %.0f%% %s, want at least 75%%", got, 100*share, tt.want)
			}
			for cat := range got {
				if !strings.Contains(strings.Join(supportCats, ","), cat) {
					t.Errorf("vote %q is not one of the categories %v", cat, supportCats)
				}
			}
			if tt.want != "billing" && got["billing"] > 0 && !strings.Contains(tt.prompt, "charge") {
				t.Errorf("votes %v: got %d billing votes for a message that has nothing to do with billing", got, got["billing"])
			}
		})
	}
}

func TestClassifyRoutes(t *testing.T) {
	tests := []struct {
		prompt string
		want   string
	}{
		{"Classify this review as positive or negative: the soup was cold.", "classification"},
		{"Is this email spam? Answer yes or no.", "classification"},
		{"Why does this function return nil?\n```go\nfunc f() *T { return nil }\n```", "code"},
		{"Fix this: main.go:12: error: undefined: foo", "code"},
		{"How do I write a regex in Python that matches dates?", "code"},
		{"Review this contract clause for legal risks before we sign.", "high-stakes"},
		{"Should we invest our pension savings in a single stock?", "high-stakes"},
		{"What dosage of ibuprofen is safe with my medical condition?", "high-stakes"},
		{"Hello! How are you today?", "chat"},
		{"How do database indexes work?", "chat"},
	}
	const n = 200
	for _, tt := range tests {
		t.Run(tt.prompt, func(t *testing.T) {
			got, _ := votes(t, systemFor(routeCats...), tt.prompt, n)
			if share := float64(got[tt.want]) / n; share < 0.75 {
				t.Errorf("votes %v: got %.0f%% %s, want at least 75%%", got, 100*share, tt.want)
			}
		})
	}
}

func TestClassifyConfidence(t *testing.T) {
	// Strong cues for one category give a high confidence; no cues, or
	// cues for two categories at once, give one the router's default
	// min_confidence (0.6) usually rejects.
	sys := systemFor(supportCats...)
	_, strong := votes(t, sys, "I was charged twice and need a refund of the payment on my invoice", 200)
	if strong["billing"] < 0.75 {
		t.Errorf("strong cues: got mean confidence %.2f for billing, want at least 0.75", strong["billing"])
	}
	_, none := votes(t, sys, "How do database indexes work?", 200)
	if none["general"] >= 0.6 {
		t.Errorf("no cues: got mean confidence %.2f, want below 0.6", none["general"])
	}
	_, mixed := votes(t, sys, "I can't log in and I was charged anyway", 200)
	for cat, c := range mixed {
		if c >= strong["billing"] {
			t.Errorf("ambiguous cues: got mean confidence %.2f for %s, want below the unambiguous %.2f", c, cat, strong["billing"])
		}
	}
}

func TestFindCategories(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{systemFor(supportCats...), supportCats},
		{systemFor(routeCats...), routeCats},
		{"Classify this ticket.\nCategories: billing, technical, account.\nTicket: ...", []string{"billing", "technical", "account"}},
		{"Pick one category (exactly one): refund | bug | praise", []string{"refund", "bug", "praise"}},
		{`categories: ["spam", "ham"]`, []string{"spam", "ham"}},
		{"Category: positive or negative", []string{"positive", "negative"}},
		// The engine's prompt when no categories are configured: the JSON
		// template is not a list.
		{`Classify the user's message. Answer with JSON only, {"category": "<category>", "confidence": <0..1>}, and nothing else.`, nil},
	}
	for _, tt := range tests {
		got, _ := findCategories(tt.text)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("findCategories(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestClassifyWithoutCategoriesUsesSupportOnes(t *testing.T) {
	sys := `Classify the user's message. Answer with JSON only, {"category": "<category>", "confidence": <0..1>}, and nothing else.`
	got, _ := votes(t, sys, "My invoice shows the wrong price", 100)
	if got["billing"] < 75 {
		t.Errorf("votes %v, want mostly billing", got)
	}
}

func TestAnswersStillDecide(t *testing.T) {
	// Answers set: the vote follows them even when the content disagrees.
	synctest.Test(t, func(t *testing.T) {
		m := New("bench", Params{Answers: map[string]float64{"technical": 1}}, 1)
		for range 50 {
			req := classifyReq("I was charged twice for my subscription this month")
			req.System = systemFor(supportCats...)
			if cat, _ := parseVote(t, run(t, t.Context(), m, req).text); cat != "technical" {
				t.Fatalf("got vote %q, want technical (from Answers)", cat)
			}
		}
	})
}

// yesNoSystem is the engine's system prompt for a yes/no route's voters
// (engine/vote.go, classifyPrompt with categories yes, no).
const yesNoSystem = "Answer the user's yes/no question with exactly one of these categories: yes, no." +
	` Answer with JSON only, {"category": "<category>", "confidence": <0..1>}, and nothing else.`

// TestYesNoQuestions: asked a yes/no question, simulated models answer yes
// or no (never a ticket category), agree on each question most of the
// time (so a consensus decides it), and do not answer every question alike.
func TestYesNoQuestions(t *testing.T) {
	questions := []string{"Is 97 a prime number?", "Can dogs eat grapes?", "Is my invoice overdue?",
		"Are tomatoes a fruit?", "Does the 42 bus stop at the station?", "Was Einstein awarded a Nobel Prize?"}
	const n = 100
	majority := map[string]int{}
	for _, q := range questions {
		got, conf := votes(t, yesNoSystem, q, n)
		if got["yes"]+got["no"] != n {
			t.Errorf("%q: votes %v, want only yes and no", q, got)
			continue
		}
		lead := "yes"
		if got["no"] > got["yes"] {
			lead = "no"
		}
		majority[lead]++
		if share := float64(got[lead]) / n; share < 0.8 {
			t.Errorf("%q: votes %v, want at least 80%% agreeing", q, got)
		}
		if conf[lead] < 0.6 {
			t.Errorf("%q: the agreeing votes' mean confidence %.2f, want at least 0.6", q, conf[lead])
		}
	}
	if majority["yes"] == 0 || majority["no"] == 0 {
		t.Errorf("majorities %v over %d questions: want some yes and some no", majority, len(questions))
	}
	// A model whose fixed answers are ticket categories still answers a
	// yes/no question yes or no.
	synctest.Test(t, func(t *testing.T) {
		m := New("voter", Params{Answers: map[string]float64{"billing": 1}}, 1)
		req := classifyReq("Is 97 a prime number?")
		req.System = yesNoSystem
		for range 20 {
			if cat, _ := parseVote(t, run(t, t.Context(), m, req).text); cat != "yes" && cat != "no" {
				t.Fatalf("a model answering billing was asked yes or no and said %q", cat)
			}
		}
	})
}

// TestClassifyYesNoRoute: a simulated router classifier sends a yes/no
// question to the yes-no route.
func TestClassifyYesNoRoute(t *testing.T) {
	cats := append(slices.Clone(routeCats), "yes-no")
	got, _ := votes(t, systemFor(cats...), "Is it true that owls can turn their heads all the way round? Yes or no.", 200)
	if share := float64(got["yes-no"]) / 200; share < 0.75 {
		t.Errorf("votes %v: got %.0f%% yes-no, want at least 75%%", got, 100*share)
	}
}
