package sim

import (
	_ "embed"
	"hash/fnv"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"unicode"
)

// piece is one chunk of an answer and the tokens it counts for.
type piece struct {
	text   string
	tokens int
}

//go:embed corpus.txt
var corpusText string

// topic is one "## name keywords" section of the corpus.
type topic struct {
	name       string
	keywords   map[string]bool // and their stems
	paragraphs [][]string      // words
}

var corpus = parseCorpus(corpusText)

func parseCorpus(text string) []topic {
	var topics []topic
	for _, block := range strings.Split(text, "\n\n") {
		for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
			line = strings.TrimSpace(line)
			switch {
			case line == "" || strings.HasPrefix(line, "# "):
			case strings.HasPrefix(line, "## "):
				t := topic{keywords: map[string]bool{}}
				if f := strings.Fields(line[3:]); len(f) > 0 {
					t.name = f[0]
				}
				for _, w := range strings.Fields(line[3:]) {
					t.keywords[w] = true
					t.keywords[stem(w)] = true
				}
				topics = append(topics, t)
			case len(topics) > 0:
				t := &topics[len(topics)-1]
				t.paragraphs = append(t.paragraphs, strings.Fields(line))
			}
		}
	}
	return slices.DeleteFunc(topics, func(t topic) bool { return len(t.paragraphs) == 0 })
}

// promptWords returns the prompt's lower-case words.
func promptWords(prompt string) []string {
	return strings.FieldsFunc(strings.ToLower(prompt), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// pickTopic returns the index of the topic whose keywords best match the
// prompt's words or their stems ("indexes" meets "index"), or one chosen by
// the prompt's hash: every model answering the same prompt talks about the
// same thing.
func pickTopic(prompt string) int {
	if best, score := matchTopic(prompt); score > 0 {
		return best
	}
	h := fnv.New32a()
	h.Write([]byte(prompt))
	return int(h.Sum32() % uint32(len(corpus)))
}

// matchTopic returns the topic whose keywords most words of text match,
// and how many do (the first topic of a tie; -1 and 0 when none does).
func matchTopic(text string) (best, bestScore int) {
	best = -1
	words := promptWords(text)
	for i, t := range corpus {
		score := 0
		for _, w := range words {
			if t.keywords[w] || t.keywords[stem(w)] {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best, bestScore
}

var openers = [][]string{
	{"Good", "question."},
	{"In", "short:"},
	{"Here", "is", "the", "gist."},
	{"Let", "me", "take", "this", "step", "by", "step."},
	{"Briefly:"},
}

// textAnswer returns about n words of prose on the prompt's topic (at most
// maxTokens when maxTokens > 0), ending at a sentence when one is near.
func textAnswer(rng *rand.Rand, prompt string, n, maxTokens int) []piece {
	if maxTokens > 0 {
		n = min(n, maxTokens)
	}
	limit := n + 15 // words allowed to reach the end of a sentence
	if maxTokens > 0 {
		limit = min(limit, maxTokens)
	}

	// The prompt's topic in an order of this call's choosing, then the
	// other topics, starting from a random one, should the answer be long.
	first := pickTopic(prompt)
	var paras [][]string
	opener := rng.IntN(4) == 0
	if opener {
		paras = append(paras, openers[rng.IntN(len(openers))])
	}
	for _, j := range rng.Perm(len(corpus[first].paragraphs)) {
		paras = append(paras, corpus[first].paragraphs[j])
	}
	off := rng.IntN(len(corpus))
	for k := range corpus {
		if t := (off + k) % len(corpus); t != first {
			for _, j := range rng.Perm(len(corpus[t].paragraphs)) {
				paras = append(paras, corpus[t].paragraphs[j])
			}
		}
	}

	var words []string // with their leading separator
	sentenceEnd := func() bool {
		w := words[len(words)-1]
		return strings.HasSuffix(w, ".") || strings.HasSuffix(w, "?") ||
			strings.HasSuffix(w, "!") || strings.HasSuffix(w, ":")
	}
collect:
	for pi, para := range paras {
		for wi, w := range para {
			sep := " "
			switch {
			case pi == 0 && wi == 0:
				sep = ""
			case wi == 0 && !(pi == 1 && opener): // an opener shares the first paragraph
				sep = "\n\n"
			}
			words = append(words, sep+w)
			if len(words) >= limit || len(words) >= n && sentenceEnd() {
				break collect
			}
		}
	}
	// No sentence end in reach: go back to the last one if that keeps at
	// least half the answer, else stop at n, mid-sentence, as a cap does.
	if !sentenceEnd() {
		for len(words) > n/2 && !sentenceEnd() {
			words = words[:len(words)-1]
		}
		if !sentenceEnd() {
			words = words[:min(n, len(words))]
		}
	}

	return chunkWords(rng, words)
}

// chunkWords streams words (each with its leading separator) about one
// chunk per token, one token per word: short words sometimes travel in
// pairs.
func chunkWords(rng *rand.Rand, words []string) []piece {
	pieces := make([]piece, 0, len(words))
	for i := 0; i < len(words); i++ {
		if i+1 < len(words) && len(words[i]) <= 4 && !strings.HasPrefix(words[i+1], "\n") && rng.IntN(3) == 0 {
			pieces = append(pieces, piece{words[i] + words[i+1], 2})
			i++
			continue
		}
		pieces = append(pieces, piece{words[i], 1})
	}
	return pieces
}

// splitWords cuts text into words, each with the whitespace before it made
// "\n\n" (a blank line), "\n" (a line break) or " ", the first with none:
// joined, they give text back with its runs of spaces made one.
func splitWords(text string) []string {
	var out []string
	for _, m := range wordRE.FindAllString(strings.TrimSpace(text), -1) {
		w := strings.TrimLeftFunc(m, unicode.IsSpace)
		sp := m[:len(m)-len(w)]
		switch {
		case len(out) == 0:
			sp = ""
		case strings.Count(sp, "\n") >= 2:
			sp = "\n\n"
		case strings.Contains(sp, "\n"):
			sp = "\n"
		default:
			sp = " "
		}
		out = append(out, sp+w)
	}
	return out
}

var wordRE = regexp.MustCompile(`\s*\S+`)

// lex cuts s into token-like pieces: runs of letters and digits (with any
// space before them), and runs of punctuation. Joined, they give s back.
func lex(s string) []piece {
	var out []piece
	start := 0
	class := func(r rune) int {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' || r == '_' || r == '-':
			return 1
		case unicode.IsSpace(r):
			return 0
		}
		return 2
	}
	prev := -1
	for i, r := range s {
		c := class(r)
		// A space starts a new piece and stays with what follows it.
		if i > start && c != prev && !(prev == 0) {
			out = append(out, piece{s[start:i], 1})
			start = i
		}
		prev = c
	}
	if start < len(s) {
		out = append(out, piece{s[start:], 1})
	}
	return out
}
