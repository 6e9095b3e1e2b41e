package openai

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/council-dev/council/providers"
)

// newExampleServer speaks just enough of the Chat Completions stream.
func newExampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, line := range []string{
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"llama3.2","choices":[{"index":0,"delta":{"role":"assistant","content":"Hello,"},"finish_reason":null}]}`,
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"llama3.2","choices":[{"index":0,"delta":{"content":" council!"},"finish_reason":"stop"}]}`,
			`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"llama3.2","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":3,"total_tokens":8}}`,
			`[DONE]`,
		} {
			_, _ = io.WriteString(w, "data: "+line+"\n\n")
		}
	}))
}

func ExampleClient_Stream() {
	// A local stand-in for any OpenAI-compatible server.
	srv := newExampleServer()
	defer srv.Close()

	c, err := New(Options{Settings: providers.Settings{Name: "local", Kind: KindCompatible, BaseURL: srv.URL + "/v1"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	s, err := c.Stream(context.Background(), providers.Request{
		Model:    "llama3.2",
		Messages: []providers.Message{{Role: "user", Content: "Say hello"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	for s.Next() {
		ch := s.Chunk()
		if ch.Usage != nil {
			fmt.Printf("\n[%d in, %d out]\n", ch.Usage.InputTokens, ch.Usage.OutputTokens)
		}
		fmt.Print(ch.Text)
	}
	if err := s.Err(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Hello, council!
	// [5 in, 3 out]
}
