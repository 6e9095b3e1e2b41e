package engine

import "sync/atomic"

// maxIdleWorkers bounds the attempt goroutines kept waiting for work.
const maxIdleWorkers = 32

// workers keeps the goroutines of finished attempts for the next ones: a
// new goroutine starts on a small stack, and an attempt's call (the
// SDK's request, the stream's JSON) grew it twice on every call, which
// cost more than the rest of the attempt's own work. A kept goroutine
// has its stack grown already. They are the engine's: counted in its
// WaitGroup and ended by Close.
type workers struct {
	work chan func() // unbuffered: a send succeeds only to an idle worker
	idle atomic.Int32
}

// goAttempt runs f on an idle worker, or on a new one.
func (e *Engine) goAttempt(f func()) {
	select {
	case e.workers.work <- f:
	default:
		e.wg.Add(1) // from a session goroutine, which is counted: never races Close's Wait
		go e.worker(f)
	}
}

// worker runs f, then waits for more work until the engine closes or
// enough others wait already.
func (e *Engine) worker(f func()) {
	defer e.wg.Done()
	w := &e.workers
	for {
		f()
		if w.idle.Add(1) > maxIdleWorkers {
			w.idle.Add(-1)
			return
		}
		select {
		case f = <-w.work:
			w.idle.Add(-1)
		case <-e.ctx.Done():
			w.idle.Add(-1)
			return
		}
	}
}
