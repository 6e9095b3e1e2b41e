package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openai/openai-go/v3/option"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
)

// TestEventStream: hello, then for a new session its session message and
// every engine event as --events prints it (session id as in the
// x-council-session header), health every second, a ping every 15 s; a
// subscriber that comes later gets the finished session as backlog.
func TestEventStream(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.AdminToken = "adm" })
		sub := h.subscribe("")
		defer sub.close()
		m, _ := sub.next()
		var hello wire.Hello
		if m.event != wire.EventHello || json.Unmarshal([]byte(m.data), &hello) != nil || hello.Instance != "127.0.0.1:8484" || !hello.Admin || hello.Version != "test" {
			t.Fatalf("first message %+v", m)
		}
		if m, _ := sub.next(); m.event != wire.EventHealth {
			t.Fatalf("second message %+v, want health", m)
		}

		c := h.client("")
		var resp *http.Response
		got, err := c.Chat.Completions.New(t.Context(), userParams("council/race", "How do database indexes work?"), option.WithResponseInto(&resp))
		if err != nil {
			t.Fatal(err)
		}
		id := resp.Header.Get("x-council-session")
		msgs := sub.until(t, "session_done")
		var info wire.Session
		if msgs[0].event != wire.EventSession || json.Unmarshal([]byte(msgs[0].data), &info) != nil {
			t.Fatalf("first of the session: %+v", msgs[0])
		}
		if info.Session != id || info.Strategy != "race" || info.Tier != "quick" || strings.Join(info.Models, ",") != "sim/a,sim/b,sim/c" ||
			info.Prompt != "How do database indexes work?" || info.Client != "loopback" || info.StartedMS == 0 {
			t.Errorf("session message %+v; want session %s", info, id)
		}
		seq := 0
		for _, m := range msgs[1:] {
			var ev engine.Event
			if err := json.Unmarshal([]byte(m.data), &ev); err != nil {
				t.Fatalf("%s: %v", m.data, err)
			}
			b, _ := json.Marshal(ev)
			if string(b) != m.data || ev.Type.String() != m.event || ev.Session != id || ev.Seq != seq+1 {
				t.Errorf("event %s %s; want it as --events prints it, session %s, seq %d", m.event, m.data, id, seq+1)
			}
			seq = ev.Seq
		}
		var done engine.Event
		json.Unmarshal([]byte(msgs[len(msgs)-1].data), &done)
		if done.Summary == nil || done.Summary.Answer != got.Choices[0].Message.Content {
			t.Errorf("session_done's summary does not hold the answer the client got")
		}

		start := time.Now()
		m = sub.until(t, wire.EventHealth)[0]
		var hl wire.Health
		if err := json.Unmarshal([]byte(m.data), &hl); err != nil || len(hl.Models) != 4 || hl.InFlight != 0 {
			t.Fatalf("health %s (%v)", m.data, err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("health came %s apart, want every second", d)
		}
		a := hl.Models[0]
		if a.Model != "sim/a" || a.Provider != "sim" || a.Kind != "sim" || a.Breaker.State != engine.BreakerClosed || a.Latency.Count != 1 || a.Latency.P50MS <= 0 {
			t.Errorf("sim/a health %+v; want closed, one latency sample", a)
		}
		if !strings.Contains(m.data, `"breaker":{"state":"closed"`) || !strings.Contains(m.data, `"ttft_p50_ms"`) {
			t.Errorf("health JSON %s", m.data)
		}
		start = time.Now()
		sub.until(t, "ping")
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("ping after %s, want within 15s", d)
		}

		// A later subscriber gets the finished session first.
		late := h.subscribe("")
		defer late.close()
		late.next() // hello
		if m, _ := late.next(); m.event != wire.EventSession || !strings.Contains(m.data, `"session":"`+id+`"`) {
			t.Fatalf("backlog starts with %+v", m)
		}
		if n := len(late.until(t, "session_done")); n != len(msgs)-1 {
			t.Errorf("backlog has %d events, want %d", n, len(msgs)-1)
		}
	})
}

// TestSlowSubscriberDropped: a subscriber that does not read is dropped
// once its buffer is full; publishing never waits for it.
func TestSlowSubscriberDropped(t *testing.T) {
	hb := newHub(0)
	dropped := 0
	hb.dropped = func() { dropped++ }
	sub, _ := hb.subscribe("", true)
	l := hb.begin(wire.Session{Type: wire.EventSession, Session: "s1"})
	for i := range subBuffer + 10 {
		hb.publish(l, engine.Event{Type: engine.Delta, Session: "s1", Seq: i + 1, Text: "x"})
	}
	n := 0
	for range sub.ch {
		n++
	}
	if n != subBuffer || dropped != 1 {
		t.Errorf("read %d then closed, dropped %d; want %d then dropped once", n, dropped, subBuffer)
	}
	hb.unsubscribe(sub) // after a drop: no double close
	if _, _, subs := hb.counts(); subs != 0 {
		t.Errorf("%d subscribers left", subs)
	}
}

// TestFinishedKept: the backlog keeps the last 20 finished sessions.
func TestFinishedKept(t *testing.T) {
	hb := newHub(0)
	for i := range 25 {
		l := hb.begin(wire.Session{Session: "s" + string(rune('a'+i))})
		hb.publish(l, engine.Event{Type: engine.SessionDone, Seq: 1})
	}
	_, backlog := hb.subscribe("", true)
	if len(backlog) != 2*keepFinished || !strings.Contains(string(backlog[0]), `"session":"sf"`) {
		t.Errorf("backlog of %d messages starting %s; want the last %d sessions", len(backlog), backlog[0], keepFinished)
	}
}

// TestRunningCounts: a model's calls in flight count from attempt_started
// to the attempt's end, once per attempt even when a retry starts it
// again, and a session that ends releases whatever it still held.
func TestRunningCounts(t *testing.T) {
	hb := newHub(0)
	l := hb.begin(wire.Session{Session: "s1"})
	start := engine.Event{Type: engine.AttemptStarted, Model: "m", Attempt: "a1"}
	hb.publish(l, start)
	hb.publish(l, start) // retried
	hb.publish(l, engine.Event{Type: engine.AttemptStarted, Model: "m", Attempt: "a2"})
	if _, running, _ := hb.counts(); running["m"] != 2 {
		t.Errorf("running %d, want 2", running["m"])
	}
	hb.publish(l, engine.Event{Type: engine.AttemptDone, Model: "m", Attempt: "a1"})
	if _, running, _ := hb.counts(); running["m"] != 1 {
		t.Errorf("running %d after one ended, want 1", running["m"])
	}
	hb.publish(l, engine.Event{Type: engine.SessionDone})
	if n, running, _ := hb.counts(); running["m"] != 0 || n != 0 {
		t.Errorf("after session_done: %d running, %d sessions in flight; want none", running["m"], n)
	}
}

// TestBacklogOrder: the backlog gives sessions in the order they began,
// finished or not.
func TestBacklogOrder(t *testing.T) {
	hb := newHub(0)
	s1 := hb.begin(wire.Session{Session: "s1"})
	s2 := hb.begin(wire.Session{Session: "s2"})
	s3 := hb.begin(wire.Session{Session: "s3"})
	hb.publish(s3, engine.Event{Type: engine.SessionDone, Session: "s3"})
	hb.publish(s2, engine.Event{Type: engine.SessionDone, Session: "s2"})
	_ = s1 // still in flight
	_, backlog := hb.subscribe("", true)
	var order []string
	for _, m := range backlog {
		if strings.HasPrefix(string(m), "event: session\n") {
			var s wire.Session
			json.Unmarshal([]byte(strings.TrimSuffix(strings.TrimPrefix(string(m), "event: session\ndata: "), "\n\n")), &s)
			order = append(order, s.Session)
		}
	}
	if strings.Join(order, ",") != "s1,s2,s3" {
		t.Errorf("backlog order %v, want s1,s2,s3", order)
	}
}

// TestBacklogBytes: the backlog stays within its bound in bytes, letting
// the oldest finished sessions go first, then the oldest in flight; a new
// subscriber is told which are missing and is sent none of their messages.
func TestBacklogBytes(t *testing.T) {
	hb := newHub(100_000)
	big := strings.Repeat("x", 30_000)
	for i := range 5 {
		id := fmt.Sprintf("s%d", i+1)
		l := hb.begin(wire.Session{Session: id})
		hb.publish(l, engine.Event{Type: engine.Delta, Session: id, Seq: 1, Text: big})
		hb.publish(l, engine.Event{Type: engine.SessionDone, Session: id, Seq: 2})
	}
	if hb.bytes > hb.limit {
		t.Errorf("backlog of %d bytes, over its bound %d", hb.bytes, hb.limit)
	}
	_, backlog := hb.subscribe("", true)
	total := 0
	for _, m := range backlog {
		total += len(m)
	}
	if total > hb.limit+1000 {
		t.Errorf("a new subscriber is sent %d bytes, want about the bound %d", total, hb.limit)
	}
	if !strings.HasPrefix(string(backlog[0]), "event: dropped\n") || !strings.Contains(string(backlog[0]), `"sessions":["s1","s2"]`) {
		t.Fatalf("backlog starts %.200s; want a dropped message naming s1 and s2", backlog[0])
	}
	if !strings.Contains(string(backlog[len(backlog)-1]), `"session":"s5"`) {
		t.Errorf("the newest session is not whole in the backlog")
	}

	// A session in flight past the bound goes too; a subscriber that came
	// after is not sent the rest of it, one that came before is.
	before, _ := hb.subscribe("", true)
	l := hb.begin(wire.Session{Session: "s6"})
	for i := range 5 {
		hb.publish(l, engine.Event{Type: engine.Delta, Session: "s6", Seq: i + 1, Text: big})
	}
	after, backlog := hb.subscribe("", true)
	if !strings.Contains(string(backlog[0]), `"s6"`) {
		t.Errorf("dropped %.200s does not name s6", backlog[0])
	}
	hb.publish(l, engine.Event{Type: engine.SessionDone, Session: "s6", Seq: 6})
	if len(after.ch) != 0 {
		t.Errorf("the later subscriber was sent %d messages of a session it never saw begin", len(after.ch))
	}
	if len(before.ch) != 7 {
		t.Errorf("the earlier subscriber was sent %d messages of s6, want all 7", len(before.ch))
	}
}

// TestBacklogBigAnswers: with answers of 200 KB, what the server keeps for
// the event stream stays within serve.backlog_bytes, and a subscriber is
// told the oldest sessions were dropped.
func TestBacklogBigAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.BacklogBytes = 2 << 20 })
		h.fake.text = strings.Repeat(strings.Repeat("y", 99)+" ", 2000)
		h.fake.gap = time.Millisecond
		c := h.client("")
		for i := range 5 {
			if _, err := c.Chat.Completions.New(t.Context(), userParams("fake/x", "a long one")); err != nil {
				t.Fatal(err)
			}
			// Within the bound after every session, not only the last.
			h.srv.hub.mu.Lock()
			kept, limit := h.srv.hub.bytes, h.srv.hub.limit
			h.srv.hub.mu.Unlock()
			if kept > limit {
				t.Errorf("after session %d the hub keeps %d bytes, over its bound %d", i+1, kept, limit)
			}
		}
		h.srv.hub.mu.Lock()
		kept, limit := h.srv.hub.bytes, h.srv.hub.limit
		h.srv.hub.mu.Unlock()
		if kept > limit || kept < limit/4 {
			t.Errorf("the hub keeps %d bytes; want under its bound %d (and not nothing)", kept, limit)
		}
		sub := h.subscribe("")
		defer sub.close()
		m := sub.until(t, wire.EventDropped)
		var d wire.Dropped
		if err := json.Unmarshal([]byte(m[len(m)-1].data), &d); err != nil || len(d.Sessions) == 0 || d.Sessions[0] != "s1" || d.LimitBytes != 2<<20 {
			t.Errorf("dropped %s (%v); want the oldest sessions from s1, and the bound", m[len(m)-1].data, err)
		}
		if len(m) != 2 {
			t.Errorf("dropped came after %d messages, want right after hello", len(m)-1)
		}
	})
}
