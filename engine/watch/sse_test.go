package watch

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestReadSSE(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []Message
		err      error
	}{
		{"one event", "event: hello\ndata: {\"a\":1}\n\n", []Message{{"hello", `{"a":1}`}}, io.EOF},
		{"comments and pings are skipped", ": ping\n\n:another\nevent: x\n: mid-event comment\ndata: 1\n\n", []Message{{"x", "1"}}, io.EOF},
		{"multi-line data is joined by newlines", "data: a\ndata: b\ndata:c\n\n", []Message{{"message", "a\nb\nc"}}, io.EOF},
		{"CRLF and CR line ends", "event: a\r\ndata: 1\r\n\r\nevent: b\rdata: 2\r\r", []Message{{"a", "1"}, {"b", "2"}}, io.EOF},
		{"id and retry are read past", "id: 7\nretry: 100\nevent: a\ndata: 1\n\n", []Message{{"a", "1"}}, io.EOF},
		{"an event without data is not dispatched", "event: a\n\nevent: b\ndata: 2\n\n", []Message{{"b", "2"}}, io.EOF},
		{"a field without a colon", "data\n\n", []Message{{"message", ""}}, io.EOF},
		{"an event cut off by the end is dropped", "event: a\ndata: 1\n\nevent: b\ndata: 2\n", []Message{{"a", "1"}}, io.EOF},
		{"a last line without its end", "event: a\ndata: 1\n\ndata: 2", []Message{{"a", "1"}}, io.ErrUnexpectedEOF},
		{"only one leading space is stripped", "data:  two\n\n", []Message{{"message", " two"}}, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []Message
			err := ReadSSE(strings.NewReader(tc.in), func(m Message) error { got = append(got, m); return nil })
			if !errors.Is(err, tc.err) {
				t.Errorf("err = %v, want %v", err, tc.err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestReadSSEStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := ReadSSE(strings.NewReader("data: 1\n\ndata: 2\n\n"), func(Message) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("err %v after %d calls, want stop after 1", err, n)
	}
}

func TestBackoffDelay(t *testing.T) {
	var b Backoff // 500ms doubling to 30s
	for _, tc := range []struct {
		n      int
		lo, hi float64 // seconds at jitter 0 and (nearly) 1
	}{{1, 0.25, 0.5}, {2, 0.5, 1}, {3, 1, 2}, {6, 8, 16}, {7, 15, 30}, {50, 15, 30}} {
		lo, hi := b.Delay(tc.n, 0).Seconds(), b.Delay(tc.n, 0.999999).Seconds()
		if lo != tc.lo || hi < tc.hi*0.999 || hi > tc.hi {
			t.Errorf("attempt %d: %v..%v s, want %v..%v", tc.n, lo, hi, tc.lo, tc.hi)
		}
	}
}
