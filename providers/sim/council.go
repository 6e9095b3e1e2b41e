package sim

import (
	"regexp"
	"slices"
	"strings"
)

// This file reads the prompts of a council's later stages: a review
// (providers.KindRank) quotes the question after "Question:" and each
// answer after a line "Response A:", "Response B:", ...; a synthesis
// (providers.KindSynthesize) quotes the question and each answer after a
// line "Answer 1 ...:", "Answer 2 ...:", .... Both are read tolerantly:
// labels may be followed by a note before the colon ("Response A (gpt):",
// "Answer 1 (ranked first):"), wrapped in Markdown emphasis, and a closing
// paragraph of instructions after the last answer is not part of it.
// A prompt that quotes them in blocks, as the council's engine does
// (<question>...</question>, <response label="A">...</response>,
// <answer n="1" ...>...</answer>, the text inside escaped so that it
// cannot close its block), is read by its blocks.

// section is one labelled answer quoted in a prompt.
type section struct {
	label string // "A", "B", ... or "1", "2", ...
	text  string
}

var (
	questionRE     = regexp.MustCompile(`(?i)\bquestion\s*:[ \t]*`)
	questionLineRE = regexp.MustCompile(`(?im)^[ \t]*[*_#>]*[ \t]*(?:the |original )?question\s*:`)
	blankLineRE    = regexp.MustCompile(`\n[ \t]*\n`)
	responseRE     = regexp.MustCompile(`(?m)^[ \t]*[*_#>]*[ \t]*Response[ \t]+([A-Za-z0-9]{1,3})\b[^:\n]{0,40}:[*_]*[ \t]*`)
	answerRE       = regexp.MustCompile(`(?m)^[ \t]*[*_#>]*[ \t]*Answer[ \t]+(\d{1,3})\b[^:\n]{0,60}:[*_]*[ \t]*`)

	questionTagRE = regexp.MustCompile(`(?s)<question>(.*?)</question>`)
	// blockRE is, for each way of labelling answers, the blocks that
	// quote them.
	blockRE = map[*regexp.Regexp]*regexp.Regexp{
		responseRE: regexp.MustCompile(`(?s)<response[ \t]+label="([A-Za-z0-9]{1,3})"[^>\n]*>(.*?)</response>`),
		answerRE:   regexp.MustCompile(`(?s)<answer[ \t]+n="(\d{1,3})"[^>\n]*>(.*?)</answer>`),
	}
)

// parseBlocks reads a prompt that quotes the question and the answers in
// blocks; ok is false when it has no answer block.
func parseBlocks(prompt string, re *regexp.Regexp) (question string, secs []section, ok bool) {
	br := blockRE[re]
	if br == nil {
		return "", nil, false
	}
	for _, m := range br.FindAllStringSubmatch(prompt, -1) {
		if !slices.ContainsFunc(secs, func(s section) bool { return s.label == m[1] }) {
			secs = append(secs, section{label: m[1], text: unquote(m[2])})
		}
	}
	if len(secs) == 0 {
		return "", nil, false
	}
	if m := questionTagRE.FindStringSubmatch(prompt); m != nil {
		question = unquote(m[1])
	}
	return question, secs, true
}

// unquote undoes the escaping of a block's text.
func unquote(s string) string { return strings.TrimSpace(strings.ReplaceAll(s, "&lt;", "<")) }

// parseSections finds the question and the sections that re labels in
// prompt. The question is the text after "Question:" up to the next
// section (or, without "Question:", the text before the first section);
// a section runs to the next one. Trailing instruction paragraphs are
// dropped from both. A label seen twice keeps its first section.
func parseSections(prompt string, re *regexp.Regexp) (question string, secs []section) {
	if q, secs, ok := parseBlocks(prompt, re); ok {
		return q, secs
	}
	locs := re.FindAllStringSubmatchIndex(prompt, -1)
	next := func(from int) int { // the start of the first section at or after from
		for _, l := range locs {
			if l[0] >= from {
				return l[0]
			}
		}
		return len(prompt)
	}
	q := questionLineRE.FindStringIndex(prompt) // "Question:" starting a line
	if q == nil {
		q = questionRE.FindStringIndex(prompt) // "...the following question:"
	}
	if q != nil {
		question = prompt[q[1]:next(q[1])]
	} else if len(locs) > 0 {
		question = prompt[:locs[0][0]]
	} else {
		question = prompt
	}
	question = trimInstructions(question, true)

	for i, l := range locs {
		end := len(prompt)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		// A "Question:" inside the span ends it (a prompt that quotes the
		// question after the answers).
		text := prompt[l[1]:end]
		if q := questionLineRE.FindStringIndex(text); q != nil {
			text = text[:q[0]]
		}
		label := prompt[l[2]:l[3]]
		if slices.ContainsFunc(secs, func(s section) bool { return s.label == label }) {
			continue
		}
		secs = append(secs, section{label: label, text: trimInstructions(text, i == len(locs)-1)})
	}
	return strings.TrimSpace(question), secs
}

// instructionCues mark a paragraph as the prompt's instructions rather
// than part of an answer: strong ones wherever the paragraph is, weak ones
// only in the paragraphs that end a text.
var (
	strongInstructionCues = []string{
		"final ranking", "your task", "your job", "evaluate each", "rank the responses", "rank these",
		"rank each", "instructions", "important:", "chairman", "synthesize", "synthesise",
		"now provide", "collective wisdom", "correct format", "your final answer", "your evaluation",
		"you are evaluating", "best to worst", "from best", "respond with", "your response should",
	}
	weakInstructionCues = []string{
		"rank the", "rank them", "ranking", "evaluat", "responses", "synthesis", "combine the",
		"combine these", "single answer", "final answer", "best first", "using the answers",
		"based on the answers", "based on these", "the answers above", "here are the",
	}
)

func hasCue(para string, cues []string) bool {
	para = strings.ToLower(para)
	return slices.ContainsFunc(cues, func(c string) bool { return strings.Contains(para, c) })
}

// trimInstructions drops the paragraphs of instructions that end text:
// with last (text is the last thing quoted, so the prompt's closing
// instructions may follow it) everything from the first paragraph after
// the first with a strong cue; then trailing paragraphs with any cue, and
// separator lines (---, ===). It keeps at least one paragraph.
func trimInstructions(text string, last bool) string {
	paras := blankLineRE.Split(strings.TrimSpace(text), -1)
	if last {
		for i := 1; i < len(paras); i++ {
			if hasCue(paras[i], strongInstructionCues) {
				paras = paras[:i]
				break
			}
		}
	}
	for len(paras) > 1 {
		p := strings.TrimSpace(paras[len(paras)-1])
		sep := strings.Trim(p, "-=*_# \t\n") == ""
		if !sep && !hasCue(p, strongInstructionCues) && !hasCue(p, weakInstructionCues) {
			break
		}
		paras = paras[:len(paras)-1]
	}
	out := strings.TrimSpace(strings.Join(paras, "\n\n"))
	return strings.TrimSpace(strings.TrimRight(out, "-= \t\n"))
}

// stopwords are left out of a text's topic words.
var stopwords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`a an the and or but if then so of in on at to for from by with about
		as into over under than this that these those it its it's is are was were be been being am
		do does did done doing have has had having can could should would will shall may might must
		i me my mine we us our you your yours he him his she her they them their there here what which
		who whom whose why how when where whether not no yes all any some each every both few more most
		much many such very just also only own same too out up down off again once please tell explain
		describe give make get got use used using work works way ways thing things best good better
		know want need like one two lot really actually something anything question answer response`) {
		stopwords[w] = true
	}
}

// contentWords returns text's lower-case words that carry its topic:
// neither stop words nor shorter than three letters.
func contentWords(text string) []string {
	var out []string
	for _, w := range promptWords(text) {
		if len(w) >= 3 && !stopwords[w] {
			out = append(out, w)
		}
	}
	return out
}

// stemSet returns the stems of text's content words.
func stemSet(text string) map[string]bool {
	out := map[string]bool{}
	for _, w := range contentWords(text) {
		out[stem(w)] = true
	}
	return out
}

// overlap is the share of want's stems found in have (0.5 when want is
// empty: nothing to judge by).
func overlap(want, have map[string]bool) float64 {
	if len(want) == 0 {
		return 0.5
	}
	n := 0
	for s := range want {
		if have[s] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// subject names what a question is about: its first run of up to three
// consecutive content words ("How do database indexes work?" -> "database
// indexes"), else "the question".
func subject(question string) string {
	var run []string
	for _, w := range promptWords(question) {
		if len(w) >= 3 && !stopwords[w] {
			run = append(run, w)
			if len(run) == 3 {
				break
			}
		} else if len(run) > 0 {
			break
		}
	}
	if len(run) == 0 {
		return "the question"
	}
	return strings.Join(run, " ")
}

// sentences splits an answer into its sentences, in order: prose is cut
// after a word ending in '.', '!' or '?' (not an abbreviation), and each
// list item or heading line is a sentence of its own. Code blocks are
// skipped.
func sentences(text string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.Join(cur, " "))
			cur = nil
		}
	}
	inCode := false
	for _, line := range strings.Split(text, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") {
			flush()
			inCode = !inCode
			continue
		}
		if inCode {
			continue
		}
		if t == "" {
			flush()
			continue
		}
		item := listItem.FindStringIndex(t)
		own := item != nil || strings.HasPrefix(t, "#") // a line of its own
		if own {
			flush()
			if item != nil {
				t = t[item[1]:]
			}
			t = strings.TrimLeft(t, "# ")
		}
		for _, w := range strings.Fields(t) {
			cur = append(cur, w)
			if endsSentence(w) {
				flush()
			}
		}
		if own {
			flush()
		}
	}
	flush()
	return out
}

var listItem = regexp.MustCompile(`^(?:[-*•]|\d{1,2}[.)])\s+`)

var abbreviations = map[string]bool{"e.g.": true, "i.e.": true, "etc.": true, "vs.": true, "dr.": true,
	"mr.": true, "mrs.": true, "ms.": true, "st.": true, "no.": true, "approx.": true, "cf.": true}

func endsSentence(w string) bool {
	t := strings.TrimRight(w, `"')]*_`)
	if t == "" || !strings.ContainsAny(t[len(t)-1:], ".!?") {
		return false
	}
	return !abbreviations[strings.ToLower(t)]
}
