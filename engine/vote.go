package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
)

// Normalize folds an answer or a category to the form votes are counted
// in: lower case, surrounding quotes and punctuation removed, inner runs of
// spaces, hyphens and underscores made one underscore ("Technical Issue" ->
// "technical_issue").
func Normalize(s string) string {
	s = strings.TrimSpace(strings.ToLower(s))
	s = strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r)
	})
	var b strings.Builder
	sep := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '-' || r == '_' {
			sep = true
			continue
		}
		if sep && b.Len() > 0 {
			b.WriteByte('_')
		}
		sep = false
		b.WriteRune(r)
	}
	return b.String()
}

// ParseVote reads a voter's answer: a JSON object with "category" (or
// "answer" / "label"), tolerant of code fences and surrounding prose; else
// the first non-empty line, with a "Category:" style prefix removed. When
// categories are given, the answer must be one of them (after [Normalize]);
// a first line of prose that names exactly one category counts as that
// category. It returns the normalised category, or an error saying why the
// vote is invalid.
func ParseVote(text string, categories []string) (string, error) {
	raw := voteJSON(text)
	if raw == "" {
		raw = firstLine(text)
	}
	v := Normalize(raw)
	if v == "" {
		return "", fmt.Errorf("empty answer")
	}
	if len(categories) == 0 {
		return v, nil
	}
	for _, c := range categories {
		if Normalize(c) == v {
			return v, nil
		}
	}
	// Prose such as "This is a billing question." names one category.
	var found string
	words := strings.FieldsFunc(strings.ToLower(raw), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '_' && r != '-'
	})
	for _, c := range categories {
		nc := Normalize(c)
		for _, w := range words {
			if Normalize(w) == nc {
				if found != "" && found != nc {
					return "", fmt.Errorf("answer %q names more than one category", clip(raw, 40))
				}
				found = nc
			}
		}
	}
	if found != "" {
		return found, nil
	}
	return "", fmt.Errorf("answer %q is not one of the categories", clip(raw, 40))
}

// voteJSON finds a JSON object in text and returns its category field.
func voteJSON(text string) string {
	start := strings.IndexByte(text, '{')
	end := strings.LastIndexByte(text, '}')
	if start < 0 || end <= start {
		return ""
	}
	var obj map[string]any
	if json.Unmarshal([]byte(text[start:end+1]), &obj) != nil {
		return ""
	}
	for _, k := range []string{"category", "answer", "label", "class"} {
		if s, ok := obj[k].(string); ok {
			return s
		}
	}
	return ""
}

func firstLine(text string) string {
	for line := range strings.SplitSeq(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "```") {
			continue
		}
		if i := strings.IndexByte(line, ':'); i >= 0 && i < 20 {
			switch Normalize(line[:i]) {
			case "category", "answer", "label", "classification":
				line = line[i+1:]
			}
		}
		return line
	}
	return ""
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// classifyPrompt is the system prompt voters get. Voters on yes and no
// are asked to answer the question, not to classify the message.
func classifyPrompt(categories []string) string {
	var b strings.Builder
	switch {
	case yesNo(categories):
		b.WriteString("Answer the user's yes/no question with exactly one of these categories: ")
		b.WriteString(strings.Join(categories, ", "))
	case len(categories) > 0:
		b.WriteString("Classify the user's message into exactly one of these categories: ")
		b.WriteString(strings.Join(categories, ", "))
	default:
		b.WriteString("Classify the user's message")
	}
	b.WriteString(`. Answer with JSON only, {"category": "<category>", "confidence": <0..1>}, and nothing else.`)
	return b.String()
}

// yesNo reports whether categories are a yes/no question's answers: yes,
// no, and nothing else.
func yesNo(categories []string) bool {
	if len(categories) != 2 {
		return false
	}
	a, b := Normalize(categories[0]), Normalize(categories[1])
	return a == "yes" && b == "no" || a == "no" && b == "yes"
}
