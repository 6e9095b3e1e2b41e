package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// quality is a reviewer's judgement of an answer to question, before its
// own noise: how many of the question's topic words it uses, whether it
// is on the question's corpus topic, and whether its length is sane.
// Every reviewer computes the same value, so reviewers mostly agree.
func quality(question, answer string) float64 {
	q := stemSet(question)
	a := stemSet(answer)
	ov := overlap(q, a)

	onTopic := 0.0
	if qt, qs := matchTopic(question); qs > 0 {
		if at, as := matchTopic(answer); as > 0 && at == qt {
			onTopic = 1
		}
	} else {
		onTopic = 0.5 // nothing to judge by
	}

	n := len(strings.Fields(answer))
	var length float64
	switch {
	case n < 5:
		length = 0
	case n < 40:
		length = float64(n) / 40
	case n <= 400:
		length = 1
	default:
		length = max(0.5, 400/float64(n))
	}
	return 0.45*ov + 0.25*onTopic + 0.3*length
}

// reviewNoise is the spread of one reviewer's judgement around quality:
// small against the gap between a good answer and a poor one, so that
// reviewers mostly agree, but not always on close calls.
const reviewNoise = 0.08

var (
	reviewOpeners = []string{
		"Here is my evaluation of each response.",
		"I'll assess each response in turn.",
		"Evaluation:",
		"Let me compare the responses on accuracy, completeness and clarity.",
	}
	reviewGood = []string{
		"Response %s is the strongest: it explains %s clearly and answers the question directly.",
		"Response %s gives an accurate, well organised account of %s, with concrete detail.",
		"Response %s covers the essentials of %s and stays on point throughout.",
	}
	reviewOK = []string{
		"Response %s is broadly correct about %s but leaves out a few important details.",
		"Response %s addresses %s reasonably well, though it is less precise than the best answer.",
		"Response %s is on topic and readable, but its treatment of %s is thin in places.",
	}
	reviewWeak = []string{
		"Response %s says little that is specific about %s and is the weakest of the set.",
		"Response %s drifts away from %s and does not really answer the question.",
		"Response %s is vague on %s; a reader would learn little from it.",
	}
	reviewOffTopic = "Response %s drifts away from %s and does not really answer the question."
	reviewExtra    = []string{
		"Its structure is easy to follow.",
		"Some of its claims would benefit from an example.",
		"The opening is a little generic.",
		"It is careful not to overstate its case.",
	}
)

// Ways a ranking can be malformed (Params.BadRankingRate).
const (
	badNoHeader  = iota // the list, under another heading
	badUnknown          // a label that names no response
	badProseOnly        // the order in a sentence, no list
	badDuplicate        // a label twice, another missing
	badRankingKinds
)

// rankAnswer reviews the responses quoted in prompt (see parseSections):
// a sentence or two on each, on its topic, then "FINAL RANKING:" and one
// "N. Response X" line per response, best first, in the order of this
// reviewer's noisy judgement. With probability badRate the ranking is
// malformed as real reviewers' sometimes are. Within maxTokens (when > 0)
// the evaluation is left out before the ranking is cut.
func rankAnswer(rng *rand.Rand, prompt string, badRate float64, maxTokens int) []piece {
	// Draw the same values whatever the rate, so that a bad ranking is
	// the same review, misformatted.
	uBad, badKind := rng.Float64(), rng.IntN(badRankingKinds)
	question, secs := parseSections(prompt, responseRE)
	subj := subject(question)

	type judged struct {
		sec   section
		score float64
	}
	js := make([]judged, len(secs))
	for i, s := range secs {
		js[i] = judged{s, quality(question, s.text) + reviewNoise*rng.NormFloat64()}
	}
	order := slices.Clone(js)
	slices.SortStableFunc(order, func(a, b judged) int { return cmp.Compare(b.score, a.score) }) // best first
	place := map[string]int{}
	for i, j := range order {
		place[j.sec.label] = i
	}

	var eval strings.Builder
	if rng.IntN(2) == 0 {
		eval.WriteString(reviewOpeners[rng.IntN(len(reviewOpeners))])
		eval.WriteString("\n\n")
	}
	if len(secs) == 0 {
		eval.WriteString("I could not find any responses to rank in the message.")
	}
	for i, j := range js {
		if i > 0 {
			eval.WriteString("\n\n")
		}
		// What this response is about, in the question's words if it uses them.
		about := subj
		if about == "the question" {
			if cw := contentWords(j.sec.text); len(cw) > 0 {
				about = cw[0]
			}
		}
		var tmpl []string
		switch p := place[j.sec.label]; {
		case len(js) == 1 || p == 0:
			tmpl = reviewGood
		case p == len(js)-1:
			tmpl = reviewWeak
		default:
			tmpl = reviewOK
		}
		t := tmpl[rng.IntN(len(tmpl))]
		if place[j.sec.label] > 0 && len(stemSet(question)) > 0 && overlap(stemSet(question), stemSet(j.sec.text)) == 0 {
			t = reviewOffTopic
		}
		fmt.Fprintf(&eval, t, j.sec.label, about)
		n := len(strings.Fields(j.sec.text))
		switch extra := rng.IntN(3); {
		case extra == 0:
		case n < 30:
			eval.WriteString(" It is also very short.")
		case n > 250:
			eval.WriteString(" It is long, and could be tightened.")
		default:
			eval.WriteString(" " + reviewExtra[rng.IntN(len(reviewExtra))])
		}
	}

	labels := make([]string, len(order))
	for i, j := range order {
		labels[i] = j.sec.label
	}
	ranking := formatRanking(labels)
	if uBad < badRate {
		ranking = badRanking(badKind, labels)
	}

	text := strings.TrimSpace(eval.String()) + "\n\n" + ranking
	words := splitWords(text)
	if maxTokens > 0 && len(words) > maxTokens {
		words = splitWords(ranking)
		words = words[:min(len(words), maxTokens)]
	}
	return chunkWords(rng, words)
}

// formatRanking is a well-formed ranking block.
func formatRanking(labels []string) string {
	var b strings.Builder
	b.WriteString("FINAL RANKING:")
	for i, l := range labels {
		fmt.Fprintf(&b, "\n%d. Response %s", i+1, l)
	}
	return b.String()
}

// badRanking is a ranking block malformed in one of the ways real
// reviewers get it wrong.
func badRanking(kind int, labels []string) string {
	if len(labels) == 0 {
		return "There is nothing to rank."
	}
	switch kind {
	case badNoHeader:
		s := formatRanking(labels)
		return "My ranking, from best to worst:" + strings.TrimPrefix(s, "FINAL RANKING:")
	case badUnknown:
		bad := slices.Clone(labels)
		bad[len(bad)-1] = unknownLabel(labels)
		return formatRanking(bad)
	case badProseOnly:
		var b strings.Builder
		fmt.Fprintf(&b, "Overall, I would put Response %s first", labels[0])
		for i, l := range labels[1:] {
			if i == len(labels)-2 {
				fmt.Fprintf(&b, ", and Response %s last", l)
			} else {
				fmt.Fprintf(&b, ", then Response %s", l)
			}
		}
		b.WriteString(".")
		return b.String()
	default: // badDuplicate
		bad := slices.Clone(labels)
		if len(bad) == 1 {
			bad = append(bad, bad[0])
		} else {
			bad[len(bad)-1] = bad[0]
		}
		return formatRanking(bad)
	}
}

// unknownLabel is a label that is not among labels: "Z", or the latest
// letter not taken.
func unknownLabel(labels []string) string {
	for c := 'Z'; c >= 'A'; c-- {
		if !slices.Contains(labels, string(c)) {
			return string(c)
		}
	}
	return "AA"
}
