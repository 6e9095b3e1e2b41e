package watch

import (
	"context"
	"fmt"
	"testing"

	"github.com/council-dev/council/engine/wire"
)

// TestInstanceForgetsOldFinishedSessions: an instance remembers the last
// keepFinished finished sessions, not every one of a long watch, and a
// backlog of recent ones (a reconnection's) still adds nothing.
func TestInstanceForgetsOldFinishedSessions(t *testing.T) {
	h, err := New([]string{"http://a:1"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	in := h.insts[0]
	announced := make(chan int)
	go func() {
		n := 0
		for u := range h.out {
			if u.Kind == KindSession {
				n++
			}
		}
		announced <- n
	}()
	ctx := context.Background()
	var hello *wire.Hello
	feed := func(from, to int) {
		for i := from; i <= to; i++ {
			id := fmt.Sprintf("s%d", i)
			in.handle(ctx, Message{"session", `{"type":"session","session":"` + id + `"}`}, &hello)
			in.handle(ctx, Message{"session_started", `{"seq":1,"t_ms":0,"type":"session_started","session":"` + id + `"}`}, &hello)
			in.handle(ctx, Message{"session_done", `{"seq":2,"t_ms":1,"type":"session_done","session":"` + id + `","summary":{"session":"` + id + `","status":"decided"}}`}, &hello)
		}
	}
	feed(1, 1000)
	if len(in.seen) != keepFinished || len(in.finished) != keepFinished || in.seen["s1000"] == nil || in.seen["s1"] != nil {
		t.Errorf("remembers %d sessions (%d finished), want the last %d", len(in.seen), len(in.finished), keepFinished)
	}
	feed(981, 1000) // the backlog of a reconnection: the last 20 finished
	close(h.out)
	if n := <-announced; n != 1000 {
		t.Errorf("%d sessions announced, want 1000 (the backlog's again: none)", n)
	}
}
