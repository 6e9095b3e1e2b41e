package bench

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// drive runs work on its own goroutine under v and returns Drive's error.
func drive(t *testing.T, v *Virtual, work func()) error {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		work()
	}()
	return v.Drive(context.Background(), done, nil)
}

// sleep waits d on v.
func sleep(v *Virtual, d time.Duration) {
	t := v.NewTimer(d)
	<-t.C()
}

func TestVirtualFiresInOrder(t *testing.T) {
	v := NewVirtual(epoch)
	var mu sync.Mutex
	var got []string
	note := func(s string) {
		mu.Lock()
		got = append(got, s+"@"+v.Since(epoch).String())
		mu.Unlock()
	}
	err := drive(t, v, func() {
		var wg sync.WaitGroup
		for _, w := range []struct {
			name string
			d    time.Duration
		}{{"c", 3 * time.Second}, {"a", time.Second}, {"b", 2 * time.Second}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sleep(v, w.d)
				note(w.name)
			}()
		}
		wg.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a@1s", "b@2s", "c@3s"}
	if len(got) != 3 || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestVirtualSimultaneousTimersFireInTheOrderSet(t *testing.T) {
	for range 20 {
		v := NewVirtual(epoch)
		var order []int
		err := drive(t, v, func() {
			var mu sync.Mutex
			var wg sync.WaitGroup
			for i := range 5 {
				wg.Add(1)
				v.AfterFunc(time.Second, func() {
					mu.Lock()
					order = append(order, i)
					mu.Unlock()
					wg.Done()
				})
			}
			wg.Wait()
		})
		if err != nil {
			t.Fatal(err)
		}
		for i, got := range order {
			if got != i {
				t.Fatalf("AfterFuncs due at the same time fired in order %v, want 0 1 2 3 4", order)
			}
		}
	}
}

// TestVirtualWaitsForWork: time does not move while a goroutine works,
// however long the work takes in real time.
func TestVirtualWaitsForWork(t *testing.T) {
	v := NewVirtual(epoch)
	var first string
	var once sync.Once
	err := drive(t, v, func() {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { // due at 10ms
			defer wg.Done()
			sleep(v, 10*time.Millisecond)
			once.Do(func() { first = "early timer" })
		}()
		go func() { // 30ms of real work, then a 1ms wait: due at 1ms
			defer wg.Done()
			for end := time.Now().Add(30 * time.Millisecond); time.Now().Before(end); {
			}
			sleep(v, time.Millisecond)
			once.Do(func() { first = "worker" })
		}()
		wg.Wait()
	})
	if err != nil {
		t.Fatal(err)
	}
	if first != "worker" {
		t.Fatalf("first to wake: %s, want the worker (the clock moved while it worked)", first)
	}
	if got := v.Since(epoch); got != 10*time.Millisecond {
		t.Fatalf("virtual time at the end %v, want 10ms", got)
	}
}

func TestVirtualStopAndReset(t *testing.T) {
	v := NewVirtual(epoch)
	err := drive(t, v, func() {
		a := v.NewTimer(time.Second)
		if !a.Stop() {
			t.Error("Stop of a pending timer: false, want true")
		}
		if a.Stop() {
			t.Error("second Stop: true, want false")
		}
		b := v.NewTimer(5 * time.Second)
		if !b.Reset(2 * time.Second) {
			t.Error("Reset of a pending timer: false, want true")
		}
		at := <-b.C()
		if got := at.Sub(epoch); got != 2*time.Second {
			t.Errorf("reset timer fired at %v, want 2s", got)
		}
		// A fired timer's unread time is discarded by Reset.
		c := v.NewTimer(time.Second)
		sleep(v, 2*time.Second)
		c.Reset(time.Second)
		at = <-c.C()
		if got := at.Sub(epoch); got != 5*time.Second {
			t.Errorf("re-armed timer fired at %v, want 5s (2s + 2s + 1s)", got)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestVirtualStuck(t *testing.T) {
	v := NewVirtual(epoch)
	block := make(chan struct{})
	err := drive(t, v, func() { <-block })
	close(block)
	if !errors.Is(err, ErrStuck) {
		t.Fatalf("Drive over a goroutine blocked for good: %v, want ErrStuck", err)
	}
}
