package sim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// sectionAnswer answers an instruction about one section of a document
// (providers.KindSection) from the section's own sentences: the ones that
// share the most words with the instruction and carry the most content,
// in the section's order, about n words in all (at most maxTokens when
// > 0). When the system prompt names categories, the answer ends with a
// JSON verdict chosen by the section's content, as a classifier would.
func sectionAnswer(rng *rand.Rand, system, prompt string, n, maxTokens int) []piece {
	instruction, title, body := splitSectionPrompt(prompt)
	if maxTokens > 0 {
		n = min(n, maxTokens)
	}
	sents := slices.DeleteFunc(sentences(body), func(x string) bool {
		x = strings.TrimSpace(x)
		return x == title || strings.HasSuffix(title, " "+x)
	})
	// A summary: about a third of the section, at least a sentence.
	n = min(n, max(len(strings.Fields(body))/3, 12))
	if len(sents) == 0 {
		return textAnswer(rng, instruction+" "+title, n, maxTokens)
	}
	want := stemSet(instruction + " " + title)
	type cand struct {
		i     int
		score float64
		words int
	}
	cands := make([]cand, len(sents))
	for i, s := range sents {
		have := stemSet(s)
		words := len(strings.Fields(s))
		// Content words, the instruction's words, an early place; and a
		// little noise so that two models differ.
		cands[i] = cand{i, float64(len(have)) + 3*overlap(want, have)*float64(len(want)) -
			0.3*float64(i) + 2*rng.Float64(), words}
	}
	order := make([]cand, len(cands))
	copy(order, cands)
	for i := 1; i < len(order); i++ { // insertion sort, best first
		for j := i; j > 0 && order[j].score > order[j-1].score; j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	keep := make([]bool, len(sents))
	total := 0
	for _, c := range order {
		if total > 0 && total+c.words > n+10 {
			continue
		}
		keep[c.i] = true
		total += c.words
		if total >= n {
			break
		}
	}
	var b strings.Builder
	if title != "" {
		fmt.Fprintf(&b, "%s: ", title)
	}
	first := true
	for i, s := range sents {
		if keep[i] {
			if !first {
				b.WriteByte(' ')
			}
			b.WriteString(s)
			first = false
		}
	}
	text := b.String()
	if cats, _ := findCategories(system); len(cats) > 0 {
		cat, conf := classifyByContent(rng, system, body)
		name, _ := json.Marshal(cat)
		text += fmt.Sprintf("\n\n{\"category\": %s, \"confidence\": %.2f}", name, float64(int(conf*100))/100)
	}
	return lex(text)
}

// splitSectionPrompt reads the instruction (after "Instruction:"), the
// section's title (the line "Section: <title>") and its text (what follows
// that line).
func splitSectionPrompt(prompt string) (instruction, title, body string) {
	rest := prompt
	if i := strings.Index(rest, "Instruction:"); i >= 0 {
		rest = rest[i+len("Instruction:"):]
	}
	i := strings.Index(rest, "\nSection:")
	if i < 0 {
		return strings.TrimSpace(rest), "", rest
	}
	instruction = strings.TrimSpace(rest[:i])
	rest = rest[i+len("\nSection:"):]
	line, body, _ := strings.Cut(rest, "\n")
	title = strings.TrimSpace(line)
	if j := strings.LastIndex(title, " ("); j > 0 && strings.HasSuffix(title, ")") {
		title = title[:j] // "(2 of 7)"
	}
	return instruction, title, body
}
