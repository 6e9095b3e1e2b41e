package engine

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/council-dev/council/engine/config"
)

// docSection is one section of a document: its title and its text.
type docSection struct {
	Title string
	Text  string
}

// ErrDocument is wrapped by every error about a section session's
// document: none given, empty, or too large for section.max_sections or
// limits.max_prompt_bytes.
var ErrDocument = errors.New("document")

var headingLine = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.+?)\s*#*\s*$`)

// splitDocument cuts doc as sc says; more sections than max_sections, or a
// section over maxBytes (when > 0), is an error that says what to change.
func splitDocument(doc string, sc config.SectionConfig, maxBytes int) ([]docSection, error) {
	doc = strings.ReplaceAll(doc, "\r\n", "\n")
	if strings.TrimSpace(doc) == "" {
		return nil, fmt.Errorf("%w: the document is empty", ErrDocument)
	}
	var secs []docSection
	switch sc.Split {
	case config.SplitParagraphs:
		secs = splitParagraphs(doc)
	case config.SplitTokens:
		secs = splitTokens(doc, sc.ChunkTokens)
	default:
		secs = splitHeadings(doc)
	}
	if max := sc.MaxSections; max > 0 && len(secs) > max {
		hint := "raise section.max_sections"
		switch sc.Split {
		case config.SplitTokens:
			hint += " or section.chunk_tokens"
		default:
			hint += ` or use split = "tokens" with a chunk_tokens that fits`
		}
		return nil, fmt.Errorf("%w too large: it splits by %s into %d sections, over section.max_sections (%d); %s",
			ErrDocument, sc.Split, len(secs), max, hint)
	}
	for _, s := range secs {
		if maxBytes > 0 && len(s.Text) > maxBytes {
			return nil, fmt.Errorf("%w too large: section %q is %d bytes, over limits.max_prompt_bytes (%d); split it smaller",
				ErrDocument, s.Title, len(s.Text), maxBytes)
		}
	}
	return secs, nil
}

// splitHeadings cuts before every Markdown heading (outside code fences);
// text before the first heading is a section "Preamble" when it is not
// blank. A document without headings is one section. A heading with
// nothing under it (a title over numbered clauses) is not sent alone: it
// joins the next section, whose text starts with it as context; one at the
// end joins the section before it.
func splitHeadings(doc string) []docSection {
	var secs []docSection
	var cur *docSection
	var body strings.Builder
	var carry string // empty headings waiting for a section with a body
	flush := func() {
		text := strings.TrimSpace(body.String())
		body.Reset()
		if cur == nil {
			if text != "" {
				secs = append(secs, docSection{Title: "Preamble", Text: text})
			}
			return
		}
		if _, rest, _ := strings.Cut(text, "\n"); strings.TrimSpace(rest) == "" {
			carry += text + "\n\n"
			return
		}
		cur.Text = carry + text
		carry = ""
		secs = append(secs, *cur)
	}
	fence := false
	for line := range strings.SplitSeq(doc, "\n") {
		t := strings.TrimSpace(line)
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = !fence
		}
		if m := headingLine.FindStringSubmatch(line); m != nil && !fence {
			flush()
			cur = &docSection{Title: m[2]}
		}
		body.WriteString(line)
		body.WriteByte('\n')
	}
	flush()
	if carry = strings.TrimSpace(carry); carry != "" {
		if len(secs) == 0 {
			secs = append(secs, docSection{Title: cur.Title, Text: carry})
		} else {
			secs[len(secs)-1].Text += "\n\n" + carry
		}
	}
	if len(secs) == 1 && secs[0].Title == "Preamble" {
		secs[0].Title = "Document"
	}
	return secs
}

// splitParagraphs makes every paragraph (text between blank lines) a
// section, titled by its first words.
func splitParagraphs(doc string) []docSection {
	var secs []docSection
	for _, p := range regexp.MustCompile(`\n[ \t]*\n`).Split(doc, -1) {
		if p = strings.TrimSpace(p); p != "" {
			secs = append(secs, docSection{Title: titleOf(p, len(secs)+1), Text: p})
		}
	}
	return secs
}

// splitTokens makes sections of about chunk tokens (a token being about
// four bytes), whole sentences each: a sentence is never cut, so one
// longer than chunk is a section of its own.
func splitTokens(doc string, chunk int) []docSection {
	var secs []docSection
	var cur strings.Builder
	flush := func() {
		if t := strings.TrimSpace(cur.String()); t != "" {
			secs = append(secs, docSection{Title: titleOf(t, len(secs)+1), Text: t})
		}
		cur.Reset()
	}
	for _, s := range docSentences(doc) {
		if cur.Len() > 0 && approxTokens(cur.String())+approxTokens(s) > chunk {
			flush()
		}
		cur.WriteString(s)
	}
	flush()
	return secs
}

// approxTokens estimates a text's tokens: one per four bytes, rounded up.
func approxTokens(s string) int { return (len(s) + 3) / 4 }

// docSentences cuts doc after each sentence's end ('.', '!' or '?' and
// then a space or a line break) and at paragraph breaks, keeping every
// byte: the pieces joined are doc.
func docSentences(doc string) []string {
	var out []string
	start := 0
	for i := 0; i < len(doc); {
		r, n := utf8.DecodeRuneInString(doc[i:])
		end := i + n
		cut := false
		switch {
		case (r == '.' || r == '!' || r == '?') && end < len(doc) && (doc[end] == ' ' || doc[end] == '\n'):
			cut = true
		case r == '\n' && end < len(doc) && doc[end] == '\n':
			cut = true
		}
		if cut {
			for end < len(doc) && (doc[end] == ' ' || doc[end] == '\n') {
				end++
			}
			out = append(out, doc[start:end])
			start = end
		}
		i = end
	}
	if start < len(doc) {
		out = append(out, doc[start:])
	}
	return out
}

// titleOf is a section's title from its first words: "§2 The supplier
// shall…".
func titleOf(text string, n int) string {
	words := strings.Fields(strings.TrimLeft(text, "#>*- "))
	more := len(words) > 6
	if more {
		words = words[:6]
	}
	t := strings.Join(words, " ")
	if more {
		t += "…"
	}
	return fmt.Sprintf("§%d %s", n, t)
}

// SectionTitles is the titles of the sections doc splits into under sc,
// as a section session would cut it (maxBytes: limits.max_prompt_bytes,
// 0 for none); the error is the one the session would fail with. The
// dashboard shows the document this way before its first run.
func SectionTitles(doc string, sc config.SectionConfig, maxBytes int) ([]string, error) {
	secs, err := splitDocument(doc, sc, maxBytes)
	titles := make([]string, len(secs))
	for i, s := range secs {
		titles[i] = s.Title
	}
	return titles, err
}
