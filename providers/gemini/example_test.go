package gemini_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/council-dev/council/providers"
	"github.com/council-dev/council/providers/gemini"
)

// A local server replays a recorded streamGenerateContent stream; in use, BaseURL is
// left empty and the key comes from the config's api_key_env.
func Example() {
	data, _ := os.ReadFile("testdata/text.sse")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(data)
	}))
	defer srv.Close()

	c, err := gemini.New(gemini.Options{Settings: providers.Settings{Name: "google", BaseURL: srv.URL, APIKey: "AIza-example"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.CloseIdleConnections()
	s, err := c.Stream(context.Background(), providers.Request{
		Model:    "gemini-2.5-flash",
		Messages: []providers.Message{{Role: "user", Content: "What does a circuit breaker do?"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	var usage providers.Usage
	for s.Next() {
		fmt.Print(s.Chunk().Text)
		if u := s.Chunk().Usage; u != nil {
			usage = *u
		}
	}
	fmt.Println()
	fmt.Printf("err=%v input=%d output=%d\n", s.Err(), usage.InputTokens, usage.OutputTokens)
	// Output:
	// A circuit breaker stops calling a failing service until it has had time to recover.
	// err=<nil> input=11 output=41
}
