package watch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/council-dev/council/engine/wire"
)

// stream is n sessions' worth of SSE: a session message, then deltas and
// a done, as a server writes them.
func stream(n int) []byte {
	var b bytes.Buffer
	for s := range n {
		id := fmt.Sprintf("s%d", s)
		fmt.Fprintf(&b, "event: session\ndata: {\"type\":\"session\",\"session\":%q,\"strategy\":\"race\",\"models\":[\"a\",\"b\"],\"prompt\":\"p\"}\n\n", id)
		for i := 1; i <= 50; i++ {
			fmt.Fprintf(&b, "event: delta\ndata: {\"seq\":%d,\"t_ms\":%d.5,\"type\":\"delta\",\"session\":%q,\"model\":\"a\",\"role\":\"racer\",\"attempt\":\"a1\",\"text\":\"some streamed words \"}\n\n", i, i*10, id)
		}
		fmt.Fprintf(&b, ": ping\n\nevent: session_done\ndata: {\"seq\":51,\"t_ms\":600,\"type\":\"session_done\",\"session\":%q,\"summary\":{\"session\":%q,\"status\":\"decided\"}}\n\n", id, id)
	}
	return b.Bytes()
}

// BenchmarkReadSSE is the SSE reader alone: bytes of stream per second.
func BenchmarkReadSSE(b *testing.B) {
	data := stream(20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := ReadSSE(bytes.NewReader(data), func(Message) error { n++; return nil }); err != io.EOF || n == 0 {
			b.Fatal(err, n)
		}
	}
}

// BenchmarkInstanceHandle is a message through the hub: read, decoded,
// deduplicated and delivered on the updates' channel (ns and allocations
// per message).
func BenchmarkInstanceHandle(b *testing.B) {
	data := stream(20)
	var msgs []Message
	ReadSSE(bytes.NewReader(data), func(m Message) error { msgs = append(msgs, m); return nil })
	h, _ := New([]string{"http://a:1"}, Options{})
	in := h.insts[0]
	done := make(chan struct{})
	go func() {
		for range h.out {
		}
		close(done)
	}()
	ctx := context.Background()
	var hello *wire.Hello
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%len(msgs) == 0 {
			clear(in.seen) // the same sessions, new again
			in.finished = nil
		}
		in.handle(ctx, msgs[i%len(msgs)], &hello)
	}
	b.StopTimer()
	close(h.out)
	<-done
}
