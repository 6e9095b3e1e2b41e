package serve

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
)

// slowBody opens a raw connection and sends a chat completion's headers
// (a body of 1000 bytes announced, token if any) and its first few bytes,
// then nothing more.
func slowBody(t *testing.T, h *harness, token string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := h.ln.Dial(context.Background(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	req := "POST /v1/chat/completions HTTP/1.1\r\nHost: council.test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
	if token != "" {
		req += "Authorization: Bearer " + token + "\r\n"
	}
	go func() { io.WriteString(c, req+"\r\n"+`{"model":"fake/x",`) }()
	// A client deadline, so that a server that never answers fails the
	// test rather than stalling it.
	c.SetReadDeadline(time.Now().Add(time.Minute))
	return c, bufio.NewReader(c)
}

// TestNoTokenSlowBody: a client without a token that sends its headers
// and then its body slowly is refused (401) at once, before any of the
// body is waited for, and its connection closes soon after.
func TestNoTokenSlowBody(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.Tokens = []string{"tok-a"} })
		start := time.Now()
		c, br := slowBody(t, h, "")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		if resp.StatusCode != http.StatusUnauthorized || time.Since(start) != 0 {
			t.Errorf("status %d after %s; want 401 at once", resp.StatusCode, time.Since(start))
		}
		io.Copy(io.Discard, resp.Body)
		if _, err := br.ReadByte(); err != io.EOF {
			t.Errorf("after the 401: %v, want the connection closed", err)
		}
		if d := time.Since(start); d > earlyGrace {
			t.Errorf("connection closed after %s, want within %s", d, earlyGrace)
		}
		c.Close()
	})
}

// TestSlowBodyReadTimeout: a client with a token whose body does not
// arrive is answered 408 at serve.read_timeout, and no session starts.
func TestSlowBodyReadTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.Tokens = []string{"tok-a"}; o.ReadTimeout = 3 * time.Second })
		start := time.Now()
		_, br := slowBody(t, h, "tok-a")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), "read_timeout") {
			t.Errorf("status %d %s; want 408 naming serve.read_timeout", resp.StatusCode, b)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("answered after %s, want at the read timeout, 3s", d)
		}
		if h.srv.hub.began != 0 {
			t.Errorf("%d sessions began", h.srv.hub.began)
		}
	})
}

// TestNonReaderCut: a client that asks for a streamed answer and never
// reads it is cut once a write has waited serve.write_timeout; its
// handler returns and the session is no longer in flight.
func TestNonReaderCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.WriteTimeout = 2 * time.Second })
		h.fake.text = strings.Repeat(strings.Repeat("x", 1000)+" ", 300)
		h.fake.gap = time.Millisecond
		req, _ := http.NewRequest("POST", "http://council.test/v1/chat/completions",
			strings.NewReader(`{"model":"fake/x","stream":true,"messages":[{"role":"user","content":"hi"}]}`))
		resp, err := h.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		time.Sleep(time.Minute)
		synctest.Wait()
		if n, _, _ := h.srv.hub.counts(); n != 0 {
			t.Errorf("%d sessions in flight a minute on, want 0", n)
		}
		var m dto.Metric
		h.srv.metrics.inFlight.Write(&m)
		if g := m.GetGauge().GetValue(); g != 0 {
			t.Errorf("council_sessions_in_flight %g, want 0", g)
		}
		b, err := io.ReadAll(resp.Body)
		if err == nil && strings.Contains(string(b), "[DONE]") {
			t.Errorf("the non-reader got the whole answer (%d bytes): not cut", len(b))
		}
	})
}

// TestDrainSkipsIdleConnections: a drain does not wait for a connection
// that carries no session (a body still coming): it is told the server
// is shutting down, and Serve returns at once.
func TestDrainSkipsIdleConnections(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "", func(o *Options) { o.DrainTimeout = 10 * time.Second })
		_, br := slowBody(t, h, "")
		code := make(chan int, 1)
		go func() {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("the slow client: %v", err)
				code <- 0
				return
			}
			code <- resp.StatusCode
		}()
		time.Sleep(time.Second)
		start := time.Now()
		if err := h.shutdown(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("the drain took %s, want well under a second: it waited on a connection without a session", d)
		}
		if c := <-code; c != http.StatusServiceUnavailable {
			t.Errorf("the slow client got %d, want 503", c)
		}
	})
}

// TestNonReaderCancelsLiveSession: a client that stops reading a council's
// live synthesis is cut at the write timeout, and the session, still
// running, is cancelled with it: the chairman's call ends.
func TestNonReaderCancelsLiveSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, "[council]\nchairman = \"fake/x\"\nmin_responses = 2\n", func(o *Options) { o.WriteTimeout = 2 * time.Second })
		h.fake.text = strings.Repeat(strings.Repeat("z", 1000)+" ", 300)
		h.fake.gap = 100 * time.Millisecond // 30 s of synthesis
		sub, _ := h.srv.hub.subscribe("", true)
		req, _ := http.NewRequest("POST", "http://council.test/v1/chat/completions",
			strings.NewReader(`{"model":"council/council","stream":true,"messages":[{"role":"user","content":"How do database indexes work?"}]}`))
		resp, err := h.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		start := time.Now()
		sum := doneSummary(t, sub)
		if sum.Status != "cancelled" || h.fake.ended.Load() == 0 {
			t.Errorf("session %s, chairman's call ended %d times; want cancelled, its call ended", sum.Status, h.fake.ended.Load())
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("the session ran %s after its client stopped reading, want it cut within seconds", d)
		}
	})
}
