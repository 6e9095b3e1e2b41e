package fleet

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// watchPing is how long a breaker watch waits for a message before it
// pings Redis; without an answer by the next wait it subscribes afresh.
const watchPing = 15 * time.Second

// channel is the fleet's channel of breaker moves.
func (s *Store) channel() string { return s.prefix + "breakers" }

// move is a breaker move's message: the replica that made it, "|", the
// model (the replica's name is random text, without "|").
func move(origin, model string) string { return origin + "|" + model }

// breakerWatch is one WatchBreakers subscription.
type breakerWatch struct {
	s      *Store
	moved  func(model, origin string)
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}

	mu     sync.Mutex
	ps     *redis.PubSub // the current subscription, closed by stop
	closed bool
}

// WatchBreakers implements engine.SharedState with a subscription to the
// fleet's channel, in one goroutine that stop ends (and Close). A lost
// subscription is taken up again once Redis answers (go-redis resubscribes
// on its new connection, or the watch subscribes afresh), and each
// subscription confirmed calls moved("", "") for the moves missed.
func (s *Store) WatchBreakers(moved func(model, origin string)) (stop func()) {
	w := &breakerWatch{s: s, moved: moved, done: make(chan struct{})}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	s.mu.Lock()
	if s.watches == nil {
		s.watches = map[*breakerWatch]struct{}{}
	}
	s.watches[w] = struct{}{}
	s.mu.Unlock()
	go w.run()
	return func() {
		w.stop()
		s.mu.Lock()
		delete(s.watches, w)
		s.mu.Unlock()
	}
}

// stop ends the watch and waits for its goroutine.
func (w *breakerWatch) stop() {
	w.cancel()
	w.mu.Lock()
	w.closed = true
	if w.ps != nil {
		_ = w.ps.Close() // ends a Receive under way
	}
	w.mu.Unlock()
	<-w.done
}

// subscribe makes a new subscription (its connection is made by the
// first Receive); false once the watch is stopped.
func (w *breakerWatch) subscribe() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	w.ps = w.s.rdb.Subscribe(w.ctx, w.s.channel())
	return true
}

func (w *breakerWatch) run() {
	defer close(w.done)
	if !w.subscribe() {
		return
	}
	pinged := false
	for w.ctx.Err() == nil {
		msg, err := w.ps.ReceiveTimeout(w.ctx, watchPing)
		if w.ctx.Err() != nil {
			break
		}
		var ne net.Error
		switch {
		case err == nil:
			pinged = false
		case errors.As(err, &ne) && ne.Timeout() && !pinged:
			pinged = true // quiet: ask whether Redis is still there
			_ = w.ps.Ping(w.ctx)
			continue
		default:
			// Lost (Redis down, or silent since the ping): wait, then a
			// fresh subscription. Nothing waits on the watch meanwhile.
			pinged = false
			w.mu.Lock()
			_ = w.ps.Close()
			w.mu.Unlock()
			select {
			case <-w.ctx.Done():
			case <-time.After(retryEvery):
			}
			if !w.subscribe() {
				return
			}
			continue
		}
		w.s.answered()
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				w.moved("", "")
			}
		case *redis.Message:
			if origin, model, ok := strings.Cut(m.Payload, "|"); ok && model != "" {
				w.moved(model, origin)
			}
		}
	}
	w.mu.Lock()
	_ = w.ps.Close()
	w.mu.Unlock()
}

// answered lets a degraded store try Redis at its next call rather than
// after retryEvery: the watch just heard from it, and the replica reads
// the moves it was told of at once.
func (s *Store) answered() {
	s.mu.Lock()
	s.retryAt = time.Time{}
	s.mu.Unlock()
}
