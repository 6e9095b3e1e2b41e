package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

var (
	synthOpeners = []string{
		"The answers agree on the essentials of %s, and the strongest points are these.",
		"Here is a combined answer on %s, built from the best of the responses.",
		"Taken together, the responses give a clear picture of %s.",
		"The council's answers converge on %s in a few key ways.",
	}
	synthClosers = []string{
		"In short, the answers differ in emphasis more than in substance.",
		"Where the answers disagreed, this follows the higher ranked ones.",
		"Taken together, these points answer the question as asked.",
	}
)

// candidate is a sentence of one of the answers.
type candidate struct {
	answer, pos int // which answer (0: ranked first) and where in it
	text        string
	words       int
	stems       map[string]bool
	score       float64
}

// synthAnswer composes a chairman's final answer from the answers quoted in
// prompt (see parseSections): an opening sentence, then the strongest
// sentences of the answers, the better ranked first, without near
// duplicates or off-topic answers, in their answers' order, about n words in all (at most
// maxTokens when > 0). Without any answer to work from, it answers the
// question as a text answer would.
func synthAnswer(rng *rand.Rand, prompt string, n, maxTokens int) []piece {
	question, secs := parseSections(prompt, answerRE)
	if len(secs) == 0 {
		if question == "" {
			question = prompt
		}
		return textAnswer(rng, question, n, maxTokens)
	}
	if maxTokens > 0 {
		n = min(n, maxTokens)
	}
	q := stemSet(question)

	// An answer that shares no topic word with the question is off topic:
	// a chairman leaves it out, unless every answer is.
	offTopic := make([]bool, len(secs))
	onTopic := 0
	for i, s := range secs {
		offTopic[i] = len(q) > 0 && overlap(q, stemSet(s.text)) == 0
		if !offTopic[i] {
			onTopic++
		}
	}

	var cands []candidate
	for ai, s := range secs {
		if offTopic[ai] && onTopic > 0 {
			continue
		}
		for pi, sent := range sentences(s.text) {
			c := candidate{answer: ai, pos: pi, text: sent, words: len(strings.Fields(sent)), stems: stemSet(sent)}
			length := 1.0
			switch {
			case c.words < 6:
				length = 0.3
			case c.words > 45:
				length = 0.6
			}
			lead := 1.0
			if pi == 0 {
				lead = 1.1
			}
			rankW := 1 / (1 + 0.35*float64(ai))
			c.score = rankW * (0.5 + overlap(q, c.stems)) * length * lead * (0.85 + 0.3*rng.Float64())
			cands = append(cands, c)
		}
	}

	opener := fmt.Sprintf(synthOpeners[rng.IntN(len(synthOpeners))], subject(question))
	closer := synthClosers[rng.IntN(len(synthClosers))]
	closing := rng.IntN(2) == 0

	// The best sentences first, until about n words.
	byScore := slices.Clone(cands)
	slices.SortStableFunc(byScore, func(a, b candidate) int { return cmp.Compare(b.score, a.score) }) // best first
	words := len(strings.Fields(opener))
	var chosen []candidate
	for _, c := range byScore {
		if words >= n {
			break
		}
		if slices.ContainsFunc(chosen, func(d candidate) bool { return similar(c, d) }) {
			continue
		}
		chosen = append(chosen, c)
		words += c.words
	}
	slices.SortFunc(chosen, func(a, b candidate) int {
		if a.answer != b.answer {
			return a.answer - b.answer
		}
		return a.pos - b.pos
	})

	// One paragraph per answer drawn on, the opener leading the first.
	var b strings.Builder
	b.WriteString(opener)
	for i, c := range chosen {
		if i > 0 && c.answer != chosen[i-1].answer {
			b.WriteString("\n\n")
		} else {
			b.WriteString(" ")
		}
		b.WriteString(sentenceCase(c.text))
	}
	if closing && words+len(strings.Fields(closer)) <= n+15 {
		b.WriteString("\n\n" + closer)
	}

	out := splitWords(b.String())
	if maxTokens > 0 && len(out) > maxTokens {
		out = out[:maxTokens]
		// Back to the end of a sentence if that keeps half the answer.
		for k := len(out); k > maxTokens/2; k-- {
			if endsSentence(out[k-1]) {
				out = out[:k]
				break
			}
		}
	}
	return chunkWords(rng, out)
}

// similar reports whether two sentences say nearly the same thing: the same
// text, or most of their topic words in common.
func similar(a, b candidate) bool {
	if strings.EqualFold(a.text, b.text) {
		return true
	}
	if len(a.stems) == 0 || len(b.stems) == 0 {
		return false
	}
	common := 0
	for s := range a.stems {
		if b.stems[s] {
			common++
		}
	}
	union := len(a.stems) + len(b.stems) - common
	return float64(common)/float64(union) >= 0.6
}

// sentenceCase makes a sentence end as one: a list item or heading without
// a final stop gets a period.
func sentenceCase(s string) string {
	if s == "" || endsSentence(s) || strings.HasSuffix(s, ":") {
		return s
	}
	return s + "."
}
