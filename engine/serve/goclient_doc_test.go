package serve

import (
	"bytes"
	"context"
	stdfmt "fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// printer stands in for package fmt in docGoClient, so that what the
// example prints is read back.
type printer struct{ bytes.Buffer }

func (p *printer) Println(a ...any) { stdfmt.Fprintln(&p.Buffer, a...) }

// docGoClient is docs/serve-and-watch.md's official Go client example,
// line for line (TestDocGoClient compares them), then its return.
func docGoClient(ctx context.Context, fmt *printer) error {
	client := openai.NewClient(option.WithBaseURL("http://127.0.0.1:8484/v1/"), option.WithAPIKey("unused"))
	got, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model:    "council/consensus",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("I was charged twice for my subscription this month")},
	})
	if err != nil {
		return err
	}
	fmt.Println(got.Choices[0].Message.Content)        // billing
	fmt.Println(got.JSON.ExtraFields["council"].Raw()) // {"session":"s1","strategy":"consensus",...}
	return nil
}

// TestDocGoClient: the Go client example docs/serve-and-watch.md shows is
// docGoClient's code, and run against council serve it prints what its
// comments say.
func TestDocGoClient(t *testing.T) {
	raw, err := os.ReadFile("../../docs/serve-and-watch.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindStringSubmatch(string(raw))
	if m == nil {
		t.Fatal("docs/serve-and-watch.md shows no ```go block")
	}
	src, err := os.ReadFile("goclient_doc_test.go")
	if err != nil {
		t.Fatal(err)
	}
	body := regexp.MustCompile(`(?s)func docGoClient\(.*?\{\n(.*?)\n}\n`).FindSubmatch(src)
	if body == nil {
		t.Fatal("no docGoClient in goclient_doc_test.go")
	}
	shown := strings.Split(strings.TrimRight(m[1], "\n"), "\n")
	code := strings.Split(string(body[1]), "\n")
	for i, l := range shown {
		if i >= len(code) || strings.TrimSpace(code[i]) != strings.TrimSpace(l) {
			t.Fatalf("line %d of the docs' Go example differs from docGoClient's:\ndocs: %s\ncode: %s", i+1, l, code[min(i, len(code)-1)])
		}
	}
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", nil)
		// The example's client is built on the default transport, to
		// 127.0.0.1:8484: here it dials the harness's server.
		saved := http.DefaultTransport
		http.DefaultTransport = h.tr
		defer func() { http.DefaultTransport = saved }()
		var out printer
		if err := docGoClient(t.Context(), &out); err != nil {
			t.Fatal(err)
		}
		// Each line printed is what the comment on its Println says
		// ("..." standing for the rest).
		var want []string
		for _, l := range shown {
			if c, ok := strings.CutPrefix(strings.TrimSpace(l), "fmt.Println("); ok {
				_, comment, _ := strings.Cut(c, "// ")
				want = append(want, comment)
			}
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != len(want) || len(want) < 2 {
			t.Fatalf("the example printed %d lines, its comments show %d:\n%s", len(lines), len(want), out.String())
		}
		for i, w := range want {
			if prefix, elided := strings.CutSuffix(w, "...}"); lines[i] != w && !(elided && strings.HasPrefix(lines[i], prefix)) {
				t.Errorf("the example printed %s where its comment says %s", lines[i], w)
			}
		}
	})
}
