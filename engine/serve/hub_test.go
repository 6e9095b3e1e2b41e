package serve

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
)

// TestEventBound: eventBound is never below the length of the message
// the event stream sends, for every type and enum value with the widest
// numbers, and strings that escape the most (quotes, control bytes, HTML,
// U+2028, invalid UTF-8) or not at all.
func TestEventBound(t *testing.T) {
	strs := []string{"", "a1", "plain words", strings.Repeat(`"\<>&`+"\x01\n", 50), "\u2028\u2029é中",
		"\xff\xfe bad", strings.Repeat("x", 5000)}
	checked := 0
	for typ := range 256 {
		for i, s := range strs {
			v := uint8(255 - (typ+i)%3) // enums out of range print longest
			ev := engine.Event{Type: engine.EventType(typ), Stage: engine.Stage(v), Kind: providers.Kind(v),
				Finish: providers.Finish(v), Session: s, Seq: math.MinInt, T: time.Duration(math.MaxInt64), Model: s,
				Role: engine.Role(s), Attempt: s, Text: s, Vote: s, Reason: engine.Reason(s), Err: s,
				InputTokens: math.MinInt, OutputTokens: math.MinInt, Cost: -math.SmallestNonzeroFloat64 * 3,
				Delay: time.Duration(math.MinInt64), TieBreak: s, From: engine.BreakerState(v), To: engine.BreakerState(v)}
			if got, bound := len(eventMessage(ev)), eventBound(ev); got > bound {
				t.Errorf("type %d, string %q: message of %d bytes over its bound %d", typ, s[:min(len(s), 20)], got, bound)
			}
			checked++
		}
	}
	if eventBound(engine.Event{Type: engine.SessionDone, Summary: &engine.Summary{}}) != -1 ||
		eventBound(engine.Event{Type: engine.StageDone, Detail: &engine.Detail{}}) != -1 {
		t.Error("an event with Summary or a Detail without Info has a cheap bound; want -1 (encoded at once)")
	}
	// session_started's description: every string of every kind, the
	// widest numbers.
	temp := -math.SmallestNonzeroFloat64 * 3
	for i, s := range strs {
		info := &engine.SessionInfo{Strategy: config.Strategy(s), Tier: s, Models: []string{s, "", s}, CostCapUSD: temp, Turn: math.MinInt, Input: s,
			Settings: engine.Settings{System: s, MaxTokens: math.MinInt, Temperature: &temp, Stop: []string{s, s, "", s}}}
		ev := engine.Event{Type: engine.SessionStarted, Session: s, Seq: math.MinInt, T: time.Duration(math.MaxInt64), Text: s,
			Stage: engine.Stage(255 - i%3), Detail: &engine.Detail{Info: info}}
		if got, bound := len(eventMessage(ev)), eventBound(ev); got > bound {
			t.Errorf("session_started, string %q: message of %d bytes over its bound %d", s[:min(len(s), 20)], got, bound)
		}
		checked++
		info.Settings.Format = &providers.ResponseFormat{Type: providers.FormatJSONObject}
		if eventBound(ev) != -1 {
			t.Error("session_started with a response format has a cheap bound; want -1 (its schema has none)")
		}
	}
	// A Detail with anything besides Info set has no cheap bound: a field
	// added to Detail must be counted before such events are kept lazily.
	dt := reflect.TypeFor[engine.Detail]()
	for i := range dt.NumField() {
		f := dt.Field(i)
		if f.Name == "Info" {
			continue
		}
		d := engine.Detail{Info: &engine.SessionInfo{}}
		v := reflect.ValueOf(&d).Elem().Field(i)
		switch v.Kind() {
		case reflect.String:
			v.SetString("x")
		case reflect.Bool:
			v.SetBool(true)
		case reflect.Int, reflect.Int64:
			v.SetInt(1)
		case reflect.Pointer:
			v.Set(reflect.New(f.Type.Elem()))
		case reflect.Slice:
			v.Set(reflect.MakeSlice(f.Type, 0, 0))
		default:
			t.Fatalf("Detail.%s: a %s, not set by this test", f.Name, v.Kind())
		}
		if eventBound(engine.Event{Type: engine.SessionStarted, Detail: &d}) != -1 {
			t.Errorf("a Detail with %s set has a cheap bound; want -1 (encoded at once)", f.Name)
		}
	}
	for _, s := range strs {
		info := wire.Session{Type: wire.EventSession, Session: s, Strategy: s, Tier: s, Models: []string{s, s, ""},
			Prompt: s, StartedMS: math.MinInt64, Client: s, Model: s}
		if got, bound := len(sseMessage(wire.EventSession, info)), sessionBound(info); got > bound {
			t.Errorf("session, string %q: message of %d bytes over its bound %d", s[:min(len(s), 20)], got, bound)
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("nothing checked")
	}
}

// TestLazyBacklog: messages kept while nobody watches are encoded when
// the backlog is read, to the same bytes as encoding them at once, and
// what the hub counts never falls below what it would send, and is
// exact once settled.
func TestLazyBacklog(t *testing.T) {
	hb := newHub(0)
	info := wire.Session{Type: wire.EventSession, Session: "s1", Strategy: "race", Models: []string{"m"}, Prompt: "a <prompt>"}
	want := [][]byte{sseMessage(wire.EventSession, info)}
	l := hb.begin(info)
	evs := []engine.Event{
		{Type: engine.AttemptStarted, Session: "s1", Seq: 1, Model: "m", Attempt: "a1", Role: engine.RoleRacer},
		{Type: engine.Delta, Session: "s1", Seq: 2, Model: "m", Attempt: "a1", Text: "<b>\"hi\"</b>\n\u2028"},
		{Type: engine.AttemptDone, Session: "s1", Seq: 3, Model: "m", Attempt: "a1", Text: "done", Cost: 0.00012, InputTokens: 3},
		{Type: engine.SessionDone, Session: "s1", Seq: 4, Summary: &engine.Summary{Winner: "m"}},
	}
	for _, ev := range evs {
		hb.publish(l, ev)
		data, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", ev.Type, data)))
	}
	hb.mu.Lock()
	lazy, counted := l.lazy, hb.bytes
	hb.mu.Unlock()
	if lazy != 4 {
		t.Errorf("%d messages kept unencoded, want the session's and the 3 events without Summary", lazy)
	}
	_, backlog := hb.subscribe("", true)
	if len(backlog) != 1+len(evs) {
		t.Fatalf("backlog of %d messages, want %d", len(backlog), 1+len(evs))
	}
	sent := 0
	for i, m := range backlog {
		sent += len(m)
		if !bytes.Equal(m, want[i]) {
			t.Errorf("message %d:\n%s\nwant\n%s", i, m, want[i])
		}
	}
	if counted < sent {
		t.Errorf("counted %d bytes before encoding, under the %d sent", counted, sent)
	}
	// Past the bound the hub counts exactly before letting anything go.
	hb.mu.Lock()
	hb.settle()
	exact := hb.bytes
	hb.mu.Unlock()
	if exact != sent {
		t.Errorf("counted %d bytes once settled, want exactly the %d sent", exact, sent)
	}
}

// TestPublishDoneSameBytes: session_done published with its summary's
// JSON encoded apart (publishDone) is the message publish would keep and
// send, byte for byte, watched or not (unwatched, it is encoded when the
// backlog is read); and the session ends as well.
func TestPublishDoneSameBytes(t *testing.T) {
	sum := &engine.Summary{Session: "s1", Winner: "m <b>", Answer: "an \"answer\"\n\u2028", Degraded: []string{"truncated"},
		Models: []engine.ModelResult{{ID: "m", Status: engine.AttemptWon, InputTokens: 3, OutputTokens: 5}}}
	ev := engine.Event{Type: engine.SessionDone, Session: "s1", Seq: 9, T: 1234567, Err: "e", Summary: sum}
	want := eventMessage(ev)
	b, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	for _, watched := range []bool{false, true} {
		hb := newHub(0)
		var sub *subscriber
		if watched {
			sub, _ = hb.subscribe("", true)
		}
		l := hb.begin(wire.Session{Type: wire.EventSession, Session: "s1"})
		hb.publishDone(l, ev, b)
		if !watched {
			// Unwatched, it is kept unencoded, its size bounded.
			hb.mu.Lock()
			e := l.msgs[len(l.msgs)-1]
			hb.mu.Unlock()
			if e.msg != nil || e.size < len(want) {
				t.Errorf("kept encoded %v, size %d for a message of %d", e.msg != nil, e.size, len(want))
			}
		}
		_, backlog := hb.subscribe("", true)
		if got := backlog[len(backlog)-1]; !bytes.Equal(got, want) {
			t.Errorf("watched %v: kept\n%s\nwant\n%s", watched, got, want)
		}
		if watched {
			<-sub.ch // the session message
			if got := <-sub.ch; !bytes.Equal(got, want) {
				t.Errorf("sent\n%s\nwant\n%s", got, want)
			}
		}
		if !hb.idle() || !l.ended {
			t.Errorf("watched %v: the session did not end", watched)
		}
	}
}
