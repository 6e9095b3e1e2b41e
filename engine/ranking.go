package engine

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// This file reads a reviewer's ranking as models write it. The ballot is
// the list under the last "FINAL RANKING" header that has one; the header may be in any
// case, plural, with or without a colon, a Markdown heading or bold. The
// list is numbered lines ("1." or "1)"), bullets, or one inline list after
// the header, separated by commas or ">". It ends at the first line that is
// not a list item, so a closing remark after it does not count. A ranking
// is never guessed: a ballot is valid only when it names every answer
// shown exactly once.

var (
	// rankingHeaderLine is a line with the header; group 1 is what follows
	// it on the line. At the start of a line the colon may be left out;
	// later in a line ("Here is my final ranking:") it is what makes it a
	// header.
	rankingHeaderLine = regexp.MustCompile(`(?im)^(?:[ \t>#*_]*final[ \t]+rankings?\b[ \t*_]*:?|.*?\bfinal[ \t]+rankings?[ \t*_]*:)[ \t*_]*(.*)$`)
	// rankingItem is a list line: a number with "." or ")", or a bullet,
	// then (possibly emphasised) "Response X"; the rest of the line is the
	// reviewer's note.
	rankingItem = regexp.MustCompile(`(?i)^[ \t]*(?:\d{1,2}[.)]|[-*•+])[ \t]*[*_]*[ \t]*response[ \t]+([A-Z])\b`)
	// rankingInline is one item of an inline list: "Response X", maybe
	// emphasised or numbered, maybe with a short note after it.
	rankingInline = regexp.MustCompile(`(?i)^[ \t]*(?:\d{1,2}[.)][ \t]*)?[*_]*[ \t]*response[ \t]+([A-Z])\b[*_]*[^,>]{0,60}$`)
	rankingLabel  = regexp.MustCompile(`(?i)\bresponse[ \t]+([A-Z])\b`)
	inlineSep     = regexp.MustCompile(`[,>;]`)
	inlineAnd     = regexp.MustCompile(`(?i)\b(?:and|then)[ \t]+(response[ \t]+[A-Z]\b)`)
)

// rankedLabels reads the labels of a review's ballot, best first, without
// checking them against the answers shown: the list under the last header
// that has one (a later header with no list under it, "Final ranking
// notes:", does not hide the ballot above it). ok is false, with the
// reason, when the review has no ballot.
func rankedLabels(text string) (labels []string, raw, why string, ok bool) {
	at, labels, why, ok := ballot(text)
	if at < 0 {
		return nil, clip(strings.TrimSpace(lastLines(text, 4)), 200), why, false
	}
	return labels, clip(strings.TrimSpace(text[at:]), 200), why, ok
}

// ballot finds the header rankedLabels reads: its offset in text (-1 when
// there is none) and what is under it.
func ballot(text string) (at int, labels []string, why string, ok bool) {
	locs := rankingHeaderLine.FindAllStringSubmatchIndex(text, -1)
	if len(locs) == 0 {
		return -1, nil, "no FINAL RANKING section", false
	}
	for i := len(locs) - 1; ; i-- {
		l := locs[i]
		labels, why, ok = listAfter(text[l[2]:l[3]], text[l[1]:])
		if ok || i == 0 || why != noList {
			return l[0], labels, why, ok
		}
	}
}

// noList is why a header with nothing ranked under it is not a ballot.
const noList = "no list of responses after FINAL RANKING"

// listAfter reads the ballot after a header: an inline list in rest (the
// header line's remainder), else the list items on the lines of next.
func listAfter(rest, next string) (labels []string, why string, ok bool) {
	rest = strings.Trim(rest, " \t*_")
	if rankingLabel.MatchString(rest) {
		for _, part := range inlineSep.Split(inlineAnd.ReplaceAllString(strings.TrimRight(rest, ". \t"), ",$1"), -1) {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			m := rankingInline.FindStringSubmatch(part)
			if m == nil || len(rankingLabel.FindAllString(part, 2)) > 1 {
				return nil, fmt.Sprintf("%q is not one response in the inline list", clip(part, 40)), false
			}
			labels = append(labels, strings.ToUpper(m[1]))
		}
		return labels, "", true
	}
	for line := range strings.SplitSeq(next, "\n") {
		if strings.TrimSpace(line) == "" {
			continue // blank lines before and between items
		}
		m := rankingItem.FindStringSubmatch(line)
		if m == nil {
			break // the list has ended (or never started)
		}
		labels = append(labels, strings.ToUpper(m[1]))
	}
	if len(labels) == 0 {
		return nil, noList, false
	}
	return labels, "", true
}

// parseRanking reads a review's ballot against the answers it was shown:
// the answers best first when it names every one exactly once; otherwise
// the text it could not use (raw) and why, for the user to see.
func parseRanking(text string, rv *review) (ranked []*attempt, raw, why string, ok bool) {
	labels, raw, why, ok := rankedLabels(text)
	if !ok {
		return nil, raw, why, false
	}
	for _, l := range labels {
		i := slices.Index(rv.labels, l)
		switch {
		case i < 0:
			return nil, raw, "Response " + l + " is not one of the responses shown", false
		case slices.Contains(ranked, rv.shown[i]):
			return nil, raw, "Response " + l + " is ranked twice", false
		}
		ranked = append(ranked, rv.shown[i])
	}
	for i, a := range rv.shown {
		if !slices.Contains(ranked, a) {
			return nil, raw, "Response " + rv.labels[i] + " is missing", false
		}
	}
	return ranked, "", "", true
}

// lastLines is the last n lines of s.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
