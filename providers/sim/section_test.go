package sim

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func joinPieces(ps []piece) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.text)
	}
	return b.String()
}

// A section is answered from its own sentences, and a verdict, when asked
// for, is chosen by its content.
func TestSectionAnswerIsAboutTheSection(t *testing.T) {
	prompt := "Instruction:\nSummarise each clause\n\nSection: 5. Indemnification (6 of 9)\n## 5. Indemnification\n\n" +
		"The Customer shall indemnify the Supplier against any claim. This indemnity is irrevocable and survives termination. The Supplier gives no indemnity in return.\n"
	system := "Follow the instruction.\nThen end your reply with one line of JSON giving your verdict on the section, {\"category\": \"<verdict>\"}, the verdict being exactly one of these categories: ok, risk"
	risky := 0
	for seed := range uint64(20) {
		text := joinPieces(sectionAnswer(rand.New(rand.NewPCG(seed, 1)), system, prompt, 60, 0))
		if !strings.HasPrefix(text, "5. Indemnification: ") || !strings.Contains(text, "indemnif") {
			t.Fatalf("answer not about the section: %q", text)
		}
		if strings.Contains(text, "database") || strings.Count(text, "5. Indemnification") != 1 {
			t.Errorf("answer strays: %q", text)
		}
		if strings.Contains(text, `"category": "risk"`) {
			risky++
		} else if !strings.Contains(text, `"category": "ok"`) {
			t.Errorf("no verdict: %q", text)
		}
	}
	if risky < 15 {
		t.Errorf("an indemnity clause judged risk %d times in 20", risky)
	}
	// Without categories, no verdict.
	if text := joinPieces(sectionAnswer(rand.New(rand.NewPCG(1, 1)), "Follow the instruction.", prompt, 60, 0)); strings.Contains(text, "category") {
		t.Errorf("a verdict nobody asked for: %q", text)
	}
}
