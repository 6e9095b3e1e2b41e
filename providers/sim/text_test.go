package sim

import (
	"strings"
	"testing"
	"testing/synctest"
)

func TestPickTopic(t *testing.T) {
	tests := []struct {
		prompt string
		want   string // the topic's name, the first word of its "##" line
	}{
		{"How do database indexes work?", "databases"},
		{"How do I tune Postgres queries?", "databases"},
		{"What is a goroutine leak?", "go"},
		{"Explain hedged requests", "distributed"},
		{"How do I make sourdough bread?", "cooking"},
		{"Why did the Roman empire fall?", "history"},
		{"Why is the sky blue?", "physics"},
		{"Tips for packing light for a trip", "travel"},
		{"How do exoplanets get discovered?", "astronomy"},
		{"Should I invest in index funds?", "finance"},
		{"How do I deal with stress?", "health"},
		{"How do I learn guitar chords?", "music"},
		{"When should I plant tomatoes?", "gardening"},
		{"What causes inflation?", "economics"},
		{"How do I write unit tests?", "software"},
	}
	for _, tt := range tests {
		if got := corpus[pickTopic(tt.prompt)].name; got != tt.want {
			t.Errorf("pickTopic(%q) = %s, want %s", tt.prompt, got, tt.want)
		}
	}
}

func TestStem(t *testing.T) {
	tests := []struct{ in, want string }{
		{"indexes", "index"}, {"index", "index"}, {"queries", "query"}, {"query", "query"},
		{"charged", "charg"}, {"charge", "charg"}, {"charges", "charg"}, {"charging", "charg"},
		{"crashes", "crash"}, {"crash", "crash"}, {"databases", "databas"}, {"database", "databas"},
		{"class", "class"}, {"go", "go"}, {"tests", "test"}, {"testing", "test"},
	}
	for _, tt := range tests {
		if got := stem(tt.in); got != tt.want {
			t.Errorf("stem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDatabaseIndexesAnswerIsOnTopic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, name := range []string{"alpha", "beta", "gamma"} {
			tr := run(t, t.Context(), New(name, Params{OutputTokens: 60}, 1), textReq("How do database indexes work?"))
			if tr.err != nil {
				t.Fatal(tr.err)
			}
			// The first paragraph (after an optional opener) is from the
			// databases topic.
			var first string
			for _, p := range corpus[pickTopic("database")].paragraphs {
				head := strings.Join(p[:6], " ")
				if strings.Contains(tr.text, head) {
					first = head
				}
			}
			if first == "" {
				t.Errorf("%s: got %q, want a passage of the databases topic", name, tr.text)
			}
		}
	})
}

func TestSplitWords(t *testing.T) {
	tests := []struct{ in, want string }{
		{"a  b\tc", "a b c"},
		{"one.\n\n\ntwo\nthree", "one.\n\ntwo\nthree"},
		{"  lead and trail \n", "lead and trail"},
	}
	for _, tt := range tests {
		if got := strings.Join(splitWords(tt.in), ""); got != tt.want {
			t.Errorf("splitWords(%q) joined = %q, want %q", tt.in, got, tt.want)
		}
	}
}
