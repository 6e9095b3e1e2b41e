package engine

import "testing"

func TestParseVote(t *testing.T) {
	cats := []string{"billing", "technical", "account", "general"}
	tests := []struct {
		text    string
		cats    []string
		want    string
		invalid bool
	}{
		{`{"category": "billing", "confidence": 0.9}`, cats, "billing", false},
		{"```json\n{\"category\": \"Technical\"}\n```", cats, "technical", false},
		{"Sure! Here is my answer: {\"category\": \"account\", \"confidence\": 0.4} Hope it helps.", cats, "account", false},
		{"billing", cats, "billing", false},
		{"  Billing.\nBecause the user was charged twice.", cats, "billing", false},
		{"Category: general", cats, "general", false},
		{"This is a billing question.", cats, "billing", false},
		{"Either billing or account.", cats, "", true},
		{`{"category": "refunds"}`, cats, "", true},
		{"", cats, "", true},
		{"Refunds", nil, "refunds", false},
		{`{"label": "Technical Issue"}`, nil, "technical_issue", false},
	}
	for _, tt := range tests {
		got, err := ParseVote(tt.text, tt.cats)
		if got != tt.want || (err != nil) != tt.invalid {
			t.Errorf("ParseVote(%q) = %q, %v; want %q, invalid=%v", tt.text, got, err, tt.want, tt.invalid)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Billing": "billing", ` "technical" `: "technical", "Technical  Issue": "technical_issue",
		"tech-support!": "tech_support", "": "",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
}
