package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/wire"
	"github.com/council-dev/council/providers"
)

// errEOF is a stream the server ended.
var errEOF = io.EOF

// stream reads one connection of the instance's event stream until it
// ends; *hello is set once the server said hello.
func (in *instance) stream(ctx context.Context, hello **wire.Hello) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, in.events, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/event-stream")
	if t := in.h.opts.Token; t != "" {
		req.Header.Set("Authorization", "Bearer "+t)
	}
	// A stream silent for longer than Idle is dead: cut it off.
	idle := in.h.opts.Idle
	var silent atomic.Bool
	watchdog := time.AfterFunc(idle, func() { silent.Store(true); cancel() })
	defer watchdog.Stop()
	resp, err := in.h.opts.Client.Do(req)
	if err != nil {
		if silent.Load() {
			return fmt.Errorf("no answer for %s", idle)
		}
		return errors.Unwrap(err) // the *url.Error's cause: the URL is on screen already
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("HTTP %d: the server wants a token (--token or COUNCIL_TOKEN)", resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("HTTP %d from %s", resp.StatusCode, EventsPath)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("%s answered %q, not an event stream: is this a council server?", EventsPath, providers.SafeText(mt))
	}
	err = ReadSSE(&kicker{r: resp.Body, kick: func() { watchdog.Reset(idle) }}, func(m Message) error { return in.handle(ctx, m, hello) })
	if silent.Load() {
		return fmt.Errorf("nothing received for %s", idle)
	}
	return err
}

// kicker calls kick whenever something is read.
type kicker struct {
	r    io.Reader
	kick func()
}

func (k *kicker) Read(p []byte) (int, error) {
	n, err := k.r.Read(p)
	if n > 0 {
		k.kick()
	}
	return n, err
}

// typeOf is a message's type: its SSE event name, else its data's "type".
func typeOf(m Message) string {
	if m.Event != "message" {
		return m.Event
	}
	var t struct {
		Type string `json:"type"`
	}
	json.Unmarshal([]byte(m.Data), &t)
	return t.Type
}

// handle delivers one message; it fails only when ctx ends.
func (in *instance) handle(ctx context.Context, m Message, hello **wire.Hello) error {
	ok := true
	switch typeOf(m) {
	case "hello":
		var hl wire.Hello
		if json.Unmarshal([]byte(m.Data), &hl) != nil {
			return nil
		}
		if in.started != 0 && hl.StartedMS != in.started {
			// The server restarted: its session ids start again, and the
			// sessions it was running will not end.
			for _, s := range in.seen {
				if !s.done && !in.send(ctx, Update{Kind: KindLost, Key: s.key}) {
					return ctx.Err()
				}
			}
			in.epoch++
			clear(in.seen)
			in.finished = nil
		}
		in.started = hl.StartedMS
		*hello = &hl
		ok = in.send(ctx, Update{Kind: KindStatus, Status: Status{State: Connected, Hello: &hl}})
	case "session":
		var si wire.Session
		if json.Unmarshal([]byte(m.Data), &si) != nil || si.Session == "" {
			return nil
		}
		if _, dup := in.seen[si.Session]; dup {
			return nil // the backlog of a reconnection: delivered already
		}
		s := in.track(si.Session)
		ok = in.send(ctx, Update{Kind: KindSession, Key: s.key, Session: &si})
	case "health":
		var h wire.Health
		if json.Unmarshal([]byte(m.Data), &h) != nil {
			return nil
		}
		rows := in.h.setHealth(in.label, h.Models)
		ok = in.send(ctx, Update{Kind: KindHealth, Health: rows, InFlight: h.InFlight, Shared: h.Shared})
	default:
		var ev engine.Event
		if json.Unmarshal([]byte(m.Data), &ev) != nil || ev.Session == "" {
			return nil // another message type, or not an event: not ours to read
		}
		s := in.seen[ev.Session]
		if s == nil { // its session message was missed: announce it from here
			s = in.track(ev.Session)
			si := &wire.Session{Type: "session", Session: ev.Session}
			if d := ev.Detail; ev.Type == engine.SessionStarted && d != nil && d.Info != nil { // which describes it
				si.Strategy, si.Tier, si.Models, si.Prompt = string(d.Info.Strategy), d.Info.Tier, d.Info.Models, ev.Text
			}
			if !in.send(ctx, Update{Kind: KindSession, Key: s.key, Session: si}) {
				return ctx.Err()
			}
		}
		if ev.Seq <= s.lastSeq {
			return nil // delivered before the connection dropped
		}
		s.lastSeq = ev.Seq
		if ev.Type == engine.SessionDone {
			s.done = true
			in.finished = append(in.finished, ev.Session)
			if len(in.finished) > keepFinished {
				delete(in.seen, in.finished[0])
				in.finished = in.finished[1:]
			}
		}
		ok = in.send(ctx, Update{Kind: KindEvent, Key: s.key, Event: ev})
	}
	if !ok {
		return ctx.Err()
	}
	return nil
}

// track starts following a session; its key is unique across the
// instances and the server's restarts.
func (in *instance) track(id string) *seenSession {
	key := in.label + "/" + id
	if in.epoch > 0 {
		key = in.label + "/" + strconv.Itoa(in.epoch) + "/" + id
	}
	s := &seenSession{key: key}
	in.seen[id] = s
	return s
}
