package sim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// categoriesLine finds a list of categories: "categories: a, b, c" or
// "Pick one category (exactly one): a | b". The words between "categor..."
// and the colon may not hold a quote or a brace, so that a JSON template
// such as {"category": "<category>"} is not taken for a list.
var categoriesLine = regexp.MustCompile(`(?im)categor(?:y|ies)\b[^:\n"{}]{0,40}:[ \t]*(.+)$`)

// findCategories finds a list such as "Categories: billing, technical" in
// text, and returns it with the matched span, which is not part of the
// message to classify. The list ends at the end of its line or at the end
// of its sentence (". "), as in the engine's system prompt "...into exactly
// one of these categories: billing, technical, account, general. Answer
// with JSON only...".
func findCategories(text string) (cats []string, span [2]int) {
	m := categoriesLine.FindStringSubmatchIndex(text)
	if m == nil {
		return nil, span
	}
	list := text[m[2]:m[3]]
	if i := strings.Index(list, ". "); i >= 0 {
		list = list[:i]
	}
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == '|' || r == ';' || r == '/' }) {
		for _, c := range strings.Split(f, " or ") {
			c = strings.Trim(c, " \t.\"'`[](){}")
			c = strings.TrimPrefix(c, "or ")
			if c != "" && !slices.Contains(cats, c) {
				cats = append(cats, c)
			}
		}
	}
	return cats, [2]int{m[0], m[1]}
}

// promptCategories finds a list such as "Categories: billing, technical" in
// the prompt.
func promptCategories(prompt string) []string {
	cats, _ := findCategories(prompt)
	return cats
}

// drawCategory draws a vote from answers (keys sorted for determinism); ok
// is false when answers has no positive weight.
func drawCategory(rng *rand.Rand, answers map[string]float64) (cat string, ok bool) {
	var keys []string
	total := 0.0
	for k, w := range answers {
		if w > 0 {
			keys = append(keys, k)
			total += w
		}
	}
	if len(keys) == 0 {
		return "", false
	}
	slices.Sort(keys)
	x := rng.Float64() * total
	for _, k := range keys {
		x -= answers[k]
		if x < 0 {
			return k, true
		}
	}
	return keys[len(keys)-1], true
}

// lexicon holds the cue words of common categories, keyed by the
// category's folded name ([foldName]). A cue is matched, once, as:
//
//   - a word, after stemming both ("charged" and "charges" match "charge");
//   - a prefix when it ends in '*' ("invest*": invest, investing, investment);
//   - a phrase of words when it has several ("sign in", "yes or no");
//   - a raw substring of the lower-cased text when it holds punctuation
//     other than an apostrophe or a hyphen ("error:", "```").
//
// Phrases and raw cues weigh 1.5, words 1. A category's own name and the
// words of its name are always cues too.
var lexicon = map[string][]string{
	// Support tickets: engine/config's default consensus categories.
	"billing": {"charge", "invoice", "refund", "payment", "pay", "paid", "subscription", "price", "pricing",
		"bill", "billing", "receipt", "fees", "overcharged", "credit card", "money back", "renewal",
		"discount", "coupon", "my plan", "paid plan", "premium plan", "upgrade my plan", "cancel my subscription"},
	"technical": {"error", "crash", "bug", "broken", "install*", "slow", "timeout", "fail*", "freez*",
		"not working", "doesn't work", "does not work", "won't load", "outage", "down", "glitch",
		"server", "connection", "sync", "update", "loading", "blank screen", "500", "404", "lag*"},
	"account": {"password", "login", "log in", "logged out", "sign in", "signin", "account", "username",
		"2fa", "two-factor", "two factor", "email change", "change my email", "email", "locked out",
		"verify", "verification", "profile", "reset", "delete my account", "security question"},
	"general": {"hours", "information", "info", "hello", "thanks"},

	// The router's default routes.
	"classification": {"classify", "categorize", "categorise", "category", "categories", "label",
		"yes or no", "true or false", "which category", "what category", "triage", "sentiment",
		"positive or negative", "spam", "tag"},
	"code": {"code", "function", "func", "error:", "stack trace", "traceback", "compile*", "```", "golang",
		"python", "javascript", "typescript", "rust", "regex", "refactor", "unit test", "exception",
		"segfault", "bug", "script", "syntax", "debug*", "nil pointer", "null pointer", "variable",
		"method", "()", "sql query", "program*", "goroutine", "compiler", "json", "http", "nil", "null",
		"git", "docker", "java", "c++", "npm", "pip", "library", "api"},
	"high_stakes": {"contract", "legal", "lawsuit", "lawyer", "medical", "diagnos*", "dosage", "symptom*",
		"invest*", "compliance", "architecture", "security review", "trade-off", "tradeoff", "should we",
		"pros and cons", "critical decision", "high-stakes", "risk*", "liability", "mortgage",
		"retirement", "surgery", "strategy for"},
	"yes_no": {"yes or no", "true or false", "is it true", "is it", "are there", "is there", "does it",
		"can i", "do i need"},
	"chat": {"hello", "hi", "hey", "thanks", "thank you", "how are you", "good morning", "joke",
		"what's up", "chat", "nice day"},

	// The section strategy's default verdicts (a contract's clauses).
	"risk": {"indemnif*", "liabilit*", "unlimited", "penalt*", "terminat*", "waive*", "irrevocabl*",
		"perpetual", "sole discretion", "without notice", "consequential damages", "exclusiv*",
		"non-compete", "automatically renew*", "forfeit*"},
	"ok": {"mutual", "reasonable", "standard", "either party", "written notice", "capped", "limited to",
		"confidential", "governing law", "in good faith"},

	// Other common ones.
	"spam":     {"win", "winner", "free", "prize", "click here", "offer", "unsubscribe", "viagra", "lottery"},
	"positive": {"love", "great", "excellent", "amazing", "happy", "good", "best", "awesome", "recommend"},
	"negative": {"hate", "terrible", "awful", "bad", "worst", "angry", "disappointed", "poor", "refund"},
	"feature_request": {"feature", "would be nice", "could you add", "please add", "wish", "suggestion",
		"request"},
	"bug": {"bug", "error", "crash", "broken", "fail*", "doesn't work", "not working"},
}

// fallbacks are category names a model falls back to when nothing in the
// message points elsewhere.
var fallbacks = []string{"ok", "general", "chat", "other", "misc", "miscellaneous", "unknown", "none"}

// defaultCategories are voted among when neither the system prompt nor the
// prompt names any categories.
var defaultCategories = []string{"billing", "technical", "account", "general"}

// foldName folds a category name as the engine's Normalize does: lower
// case, runs of spaces, hyphens and underscores made one underscore.
func foldName(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return unicode.IsSpace(r) || r == '-' || r == '_' || unicode.IsPunct(r) && r != '\''
	}), "_")
}

// stem strips a common English inflection, so that plurals and verb forms
// meet their root: "indexes" and "index", "charged" and "charge",
// "queries" and "query". Short words are left alone.
func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		return w[:len(w)-3] + "y"
	case len(w) > 4 && (strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") ||
		strings.HasSuffix(w, "shes") || strings.HasSuffix(w, "sses")):
		return w[:len(w)-2]
	}
	for _, suf := range []string{"ing", "ed", "es", "s", "e"} {
		if len(w)-len(suf) >= 3 && strings.HasSuffix(w, suf) && !strings.HasSuffix(w, "ss") {
			return w[:len(w)-len(suf)]
		}
	}
	return w
}

// message is a text prepared for cue matching.
type message struct {
	lower  string          // lower-cased text, for raw cues
	phrase string          // " word word ... ", for phrases
	words  []string        // the words
	stems  map[string]bool // their stems
}

func newMessage(text string) message {
	words := promptWords(text)
	m := message{
		lower:  strings.ToLower(text),
		phrase: " " + strings.Join(words, " ") + " ",
		words:  words,
		stems:  make(map[string]bool, len(words)),
	}
	for _, w := range words {
		m.stems[stem(w)] = true
	}
	return m
}

// match reports whether cue occurs in m, and its weight.
func (m message) match(cue string) float64 {
	cue = strings.ToLower(cue)
	raw := strings.ContainsFunc(cue, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsSpace(r) && r != '\'' && r != '-' && r != '*'
	})
	switch {
	case raw:
		if strings.Contains(m.lower, cue) {
			return 1.5
		}
	case strings.HasSuffix(cue, "*"):
		p := strings.TrimSuffix(cue, "*")
		for _, w := range m.words {
			if strings.HasPrefix(w, p) {
				return 1
			}
		}
	default:
		cw := promptWords(cue)
		switch len(cw) {
		case 0:
		case 1:
			if m.stems[stem(cw[0])] {
				return 1
			}
		default:
			if strings.Contains(m.phrase, " "+strings.Join(cw, " ")+" ") {
				return 1.5
			}
		}
	}
	return 0
}

// cueScore is how strongly msg points at category cat: its lexicon's cues,
// its name, and the words of its name.
func cueScore(msg message, cat string) float64 {
	name := foldName(cat)
	cues := slices.Clone(lexicon[name])
	parts := strings.Split(name, "_")
	cues = append(cues, strings.Join(parts, " "))
	if len(parts) > 1 {
		for _, p := range parts {
			if len(p) >= 4 {
				cues = append(cues, p)
			}
		}
	}
	// Cues that are one word's forms ("price", "pricing") count once.
	seen := map[string]bool{}
	score := 0.0
	for _, c := range cues {
		key := c
		if w := promptWords(c); len(w) == 1 && !strings.HasSuffix(c, "*") {
			key = stem(w[0])
		}
		if seen[key] {
			continue
		}
		if x := msg.match(c); x > 0 {
			seen[key] = true
			score += x
		}
	}
	return score
}

// classifyByContent picks the category that the user's message is about,
// among the categories named by the system prompt, else by the prompt,
// else billing, technical, account and general. It is mostly right: about
// one call in ten (one in five when two categories are close) answers
// another plausible category, one with cues of its own or the fallback.
// The confidence is high when the cues are strong and unambiguous, and low
// (often below 0.6) when they are weak, ambiguous or absent, or when the
// call picked a weaker category. The draws are the same whatever the
// message, so a call's noise does not depend on the prompt.
func classifyByContent(rng *rand.Rand, system, prompt string) (string, float64) {
	text := prompt
	cats, _ := findCategories(system)
	if len(cats) == 0 {
		var span [2]int
		cats, span = findCategories(text)
		if len(cats) > 0 {
			text = text[:span[0]] + "\n" + text[span[1]:]
		}
	}
	if len(cats) == 0 {
		cats = defaultCategories
	}
	if yes, no, ok := yesNoPair(cats); ok {
		return yesNoAnswer(rng, cats[yes], cats[no], text)
	}
	msg := newMessage(text)

	scores := make([]float64, len(cats))
	fallback := -1
	for i, c := range cats {
		scores[i] = cueScore(msg, c)
		if fallback < 0 && slices.Contains(fallbacks, foldName(c)) {
			fallback = i
		}
	}
	// Always draw the same number of values, whatever the scores.
	uTie, uNoise, uPick, uConf := rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()

	top := slices.Max(scores)
	if top == 0 {
		// Nothing to go on: the fallback, else a guess; low confidence.
		conf := 0.3 + 0.25*uConf
		if fallback >= 0 {
			return cats[fallback], conf
		}
		return cats[int(uPick*float64(len(cats)))], conf
	}
	var best []int
	for i, s := range scores {
		if s == top {
			best = append(best, i)
		}
	}
	choice := best[int(uTie*float64(len(best)))]

	// Noise: another plausible category, more often when one is close.
	second := 0.0
	for i, s := range scores {
		if i != choice {
			second = max(second, s)
		}
	}
	pNoise := 0.10
	if second >= 0.75*top {
		pNoise = 0.20
	}
	if uNoise < pNoise {
		var others []int
		for i, s := range scores {
			if i != choice && (s > 0 || i == fallback) {
				others = append(others, i)
			}
		}
		if len(others) > 0 {
			// A wrong call is rarely confident.
			return cats[others[int(uPick*float64(len(others)))]], 0.35 + 0.3*uConf
		}
	}

	s := scores[choice]
	rival := 0.0
	for i, x := range scores {
		if i != choice {
			rival = max(rival, x)
		}
	}
	margin := (s - rival) / max(s, rival) // -1..1
	conf := 0.45 + 0.25*min(s, 3)/3 + 0.25*margin + 0.1*(uConf-0.5)
	return cats[choice], clamp(conf, 0.2, 0.98)
}

// yesNoPair finds yes and no among cats; ok when they are all there is.
func yesNoPair(cats []string) (yes, no int, ok bool) {
	yes, no = -1, -1
	for i, c := range cats {
		switch foldName(c) {
		case "yes":
			yes = i
		case "no":
			no = i
		}
	}
	return yes, no, len(cats) == 2 && yes >= 0 && no >= 0
}

// yesNoAnswer answers a yes/no question. A simulated model cannot know
// the answer, so every simulated model holds the same opinion of a
// question (drawn from its words, not from the call), and a call gives it
// nine times in ten, confidently; otherwise the other answer, unsure. A
// consensus over simulated models thus decides a question the same way
// every run, as models that mostly agree would. The draws are the same
// four as [classifyByContent]'s.
func yesNoAnswer(rng *rand.Rand, yes, no, question string) (string, float64) {
	_, uNoise, _, uConf := rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()
	h := fnv.New32a()
	h.Write([]byte(strings.Join(promptWords(question), " ")))
	opinion, other := yes, no
	if h.Sum32()%2 == 1 {
		opinion, other = no, yes
	}
	if uNoise < 0.10 {
		return other, 0.35 + 0.25*uConf
	}
	return opinion, 0.7 + 0.25*uConf
}

var preambles = []string{
	"Here is my classification:",
	"Based on the message, the category is:",
	"Classification result:",
}

// classifyAnswer returns a short JSON vote, sometimes fenced or preceded by
// a sentence. With answers, the vote is drawn from them; without, it is
// the category the message is about ([classifyByContent]).
func classifyAnswer(rng *rand.Rand, answers map[string]float64, system, prompt string) []piece {
	cat, ok := drawCategory(rng, answers)
	if cats, _ := findCategories(system); ok && !slices.Contains(cats, cat) {
		if _, _, yn := yesNoPair(cats); yn {
			ok = false // weights for ticket categories say nothing about a yes/no question
		}
	}
	var conf float64
	if ok {
		conf = float64(60+rng.IntN(39)) / 100
	} else {
		cat, conf = classifyByContent(rng, system, prompt)
		conf = float64(int(conf*100)) / 100
	}
	name, _ := json.Marshal(cat)
	js := fmt.Sprintf(`{"category": %s, "confidence": %.2f}`, name, conf)
	switch v := rng.Float64(); {
	case v < 0.1:
		js = "```json\n" + js + "\n```"
	case v < 0.2:
		js = preambles[rng.IntN(len(preambles))] + "\n" + js
	}
	return lex(js)
}
