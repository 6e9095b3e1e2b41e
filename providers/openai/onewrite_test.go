package openai

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/council-dev/council/providers"
)

// countingConn counts the writes made to it.
type countingConn struct {
	net.Conn
	writes *atomic.Int32
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestRequestInOneWrite: a request's headers and body leave in one write
// (net/http sees the body is in memory), not two packets the server
// reads apart; the server still gets the whole body.
func TestRequestInOneWrite(t *testing.T) {
	srv, reqs := newServer(t, replay(t, "plain.sse", 0))
	var writes atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{c, &writes}, nil
	}}
	t.Cleanup(tr.CloseIdleConnections)
	c, err := New(Options{Settings: providers.Settings{Name: "p", Kind: KindCompatible, BaseURL: srv.URL},
		HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.Stream(context.Background(), providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "Why hedge?"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := drain(s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if n := writes.Load(); n != 1 {
		t.Errorf("the request took %d writes, want 1", n)
	}
	if r := <-reqs; r.body["model"] != "m" {
		t.Errorf("the server got body %s", r.raw)
	}
}
