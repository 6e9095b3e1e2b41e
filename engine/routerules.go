package engine

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/council-dev/council/engine/config"
)

// The weight of each kind of evidence a prompt gives a route. A keyword is
// a single word, often ambiguous ("bug", "python"); a pattern is written
// to be specific (a code fence, "for the board"); length only hints that a
// prompt is weighty, so a long chat is not sent to the council on its
// length alone.
const (
	keywordWeight = 1
	patternWeight = 2
	lengthWeight  = 1
)

// routeConfidence is how sure the rules are of a route with evidence e:
// e/(e+1), at most 0.95, to two decimals. One keyword (0.50) stays under
// the default min_confidence 0.6; two keywords or one pattern (0.67) pass
// it; three 0.75, four 0.80.
func routeConfidence(e int) float64 {
	return math.Round(100*min(0.95, float64(e)/float64(e+1))) / 100
}

// routeRules is one route's rules, compiled once per engine (the config
// has validated them).
type routeRules struct {
	keywords []keyword
	patterns []*regexp.Regexp
	unless   []*regexp.Regexp
}

// keyword is a keyword ready to match: lower-cased, its spaces single,
// its star (a stem) taken off.
type keyword struct {
	text string
	stem bool
}

// compileRoutes compiles each route's rules.
func compileRoutes(routes []config.RouteConfig) []routeRules {
	out := make([]routeRules, len(routes))
	compile := func(ps []string) []*regexp.Regexp {
		var res []*regexp.Regexp
		for _, p := range ps {
			if re, err := regexp.Compile(p); err == nil {
				res = append(res, re)
			}
		}
		return res
	}
	for i, r := range routes {
		for _, k := range r.Keywords {
			k = normalizeText(k)
			stem := strings.HasSuffix(k, "*")
			if k = strings.TrimSpace(strings.TrimSuffix(k, "*")); k != "" {
				out[i].keywords = append(out[i].keywords, keyword{text: k, stem: stem})
			}
		}
		out[i].patterns, out[i].unless = compile(r.Patterns), compile(r.Unless)
	}
	return out
}

// normalizeText is text as keywords are matched in it: lower case, runs
// of white space made one space, typographic apostrophes made plain.
func normalizeText(s string) string {
	s = strings.ReplaceAll(strings.ToLower(s), "’", "'")
	return strings.Join(strings.Fields(s), " ")
}

// isWordRune reports whether r belongs to a word: a letter, a digit, a
// combining mark or an underscore, in any script.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_'
}

// matches reports whether k occurs in text (normalised) as whole words:
// no word rune just before it, and none just after it unless it is a stem
// or the word goes on with an inflection ([inflected]). A keyword that
// begins or ends with punctuation ("error:", "c++") needs no boundary on
// that side.
func (k keyword) matches(text string) bool {
	first, _ := utf8.DecodeRuneInString(k.text)
	last, _ := utf8.DecodeLastRuneInString(k.text)
	root := k.text
	if !k.stem && last == 'e' && utf8.RuneCountInString(root) > 3 {
		root = strings.TrimSuffix(root, "e") // "decide": "deciding"
	}
	for off := 0; off < len(text); {
		i := strings.Index(text[off:], root)
		if i < 0 {
			return false
		}
		i += off
		off = i + 1
		if before, _ := utf8.DecodeLastRuneInString(text[:i]); i > 0 && isWordRune(first) && isWordRune(before) {
			continue
		}
		if k.stem || !isWordRune(last) {
			return true
		}
		rest := text[i+len(root):]
		if root != k.text {
			// The e taken off must come back, or give way to -ing:
			// "decide", "deciding", never "decid".
			if r, ok := strings.CutPrefix(rest, "e"); ok {
				rest = r
			} else if r, ok := strings.CutPrefix(rest, "ing"); ok {
				rest = "ing" + r
			} else {
				continue
			}
		}
		if unicode.IsLetter(last) {
			rest = inflected(rest)
		}
		if after, _ := utf8.DecodeRuneInString(rest); rest == "" || !isWordRune(after) {
			return true
		}
	}
	return false
}

// inflected is rest with an English inflection taken off its start, so
// that a keyword matches its plural and verb forms: "risk" matches
// "risks", "risked" and "risking"; "tax" "taxes"; "decide" "decides",
// "decided" and "deciding" (a keyword ending in e is matched without
// it). Nothing longer: "bug" never matches "bugle".
func inflected(rest string) string {
	for _, suf := range []string{"ing", "es", "ed", "s", "d"} {
		if r, ok := strings.CutPrefix(rest, suf); ok {
			if after, _ := utf8.DecodeRuneInString(r); r == "" || !isWordRune(after) {
				return r
			}
		}
	}
	return rest
}

// routeByRules weighs every route's evidence in the prompt and returns the
// route with the most, earlier routes winning ties. Evidence: each
// distinct keyword matched 1, each pattern matched 2, a prompt of at least
// min_words words 1; a route one of whose unless patterns matches has
// none. The confidence is [routeConfidence] of the evidence. No evidence
// anywhere: a route with no name and confidence 0, its why naming the
// routes ruled out.
func routeByRules(prompt string, routes []config.RouteConfig, rules []routeRules) Route {
	text := normalizeText(prompt)
	words := len(strings.Fields(prompt))
	best, bestScore, bestWhy := -1, 0, ""
	var ruledOut []string
	for i := range routes {
		r := &routes[i]
		var rr routeRules
		if i < len(rules) {
			rr = rules[i]
		}
		if slicesAny(rr.unless, prompt) {
			ruledOut = append(ruledOut, r.Name)
			continue
		}
		score := 0
		var why []string
		for _, k := range rr.keywords {
			if k.matches(text) {
				score += keywordWeight
				why = append(why, fmt.Sprintf("%q", keywordString(k)))
			}
		}
		for _, re := range rr.patterns {
			if re.MatchString(prompt) {
				score += patternWeight
				why = append(why, "/"+clip(re.String(), 40)+"/")
			}
		}
		if r.MinWords > 0 && words >= r.MinWords {
			score += lengthWeight
			why = append(why, fmt.Sprintf("%d words (min_words %d)", words, r.MinWords))
		}
		if score > bestScore {
			best, bestScore, bestWhy = i, score, strings.Join(why, ", ")
		}
	}
	out := ""
	if len(ruledOut) > 0 {
		out = "; ruled out by unless: " + strings.Join(ruledOut, ", ")
	}
	if best < 0 {
		return Route{Why: "no rule matched" + out}
	}
	r := routes[best]
	conf := routeConfidence(bestScore)
	return Route{Name: r.Name, Strategy: r.Strategy, Tier: r.Tier, Categories: r.Categories, Confidence: conf,
		Why: fmt.Sprintf("rules matched %s (evidence %d: %.2f)%s", clip(bestWhy, 160), bestScore, conf, out)}
}

// keywordString is k as a config writes it.
func keywordString(k keyword) string {
	if k.stem {
		return k.text + "*"
	}
	return k.text
}

func slicesAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}
