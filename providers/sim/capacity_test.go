package sim

import (
	"context"
	"testing"
	"time"
)

// TestCapacity: a call started beyond the model's capacity waits
// proportionally longer; once calls end, the next is at full speed again.
func TestCapacity(t *testing.T) {
	ctx := context.Background()
	req := textReq("How do database indexes work?")
	limited := New("m", Params{Capacity: 2}, 1)
	free := New("m", Params{}, 1) // same name and seed: the same draws, call by call
	delays := func(m *Model) ([]time.Duration, *stream) {
		st, err := m.Stream(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		s := st.(*stream)
		var out []time.Duration
		for _, step := range s.sc.steps {
			out = append(out, step.delay)
		}
		return out, s
	}
	var open []*stream
	for call, want := range []float64{1, 1, 1.5, 2} { // 1, 2, then 3 and 4 in flight on capacity 2
		got, s := delays(limited)
		base, _ := delays(free)
		open = append(open, s)
		for i := range got {
			if w := time.Duration(float64(base[i]) * want); got[i] != w {
				t.Fatalf("call %d, step %d: waits %v, want %v (%.1fx of %v)", call+1, i, got[i], w, want, base[i])
			}
		}
	}
	for _, s := range open {
		s.Close()
	}
	got, _ := delays(limited)
	base, _ := delays(free)
	if got[0] != base[0] {
		t.Errorf("after every call ended: first wait %v, want %v (full speed)", got[0], base[0])
	}
}
