package sim

import (
	"context"
	"reflect"
	"testing"

	"github.com/council-dev/council/providers"
)

// TestDrawKey: a call made under a draw key draws the same whatever
// calls came before it; without one, the call count decides.
func TestDrawKey(t *testing.T) {
	req := textReq("How do database indexes work?")
	keyed := func(k uint64) context.Context {
		return context.WithValue(context.Background(), providers.DrawKey{}, k)
	}
	script := func(m *Model, ctx context.Context) script {
		st, err := m.Stream(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return st.(*stream).sc
	}
	a, b := New("m", Params{}, 1), New("m", Params{}, 1)
	a1, a2 := script(a, keyed(1)), script(a, keyed(2))
	b2, b1 := script(b, keyed(2)), script(b, keyed(1)) // the other order
	if !reflect.DeepEqual(a1, b1) || !reflect.DeepEqual(a2, b2) {
		t.Error("keyed calls drew differently in another order")
	}
	if reflect.DeepEqual(a1, a2) {
		t.Error("two keys drew the same call")
	}
	// A second call under the same key is a new draw, the same in both.
	if again, bAgain := script(a, keyed(1)), script(b, keyed(1)); reflect.DeepEqual(again, a1) || !reflect.DeepEqual(again, bAgain) {
		t.Error("a second call under key 1: want a new draw, the same for both models")
	}
	c, d := New("m", Params{}, 1), New("m", Params{}, 1)
	script(c, context.Background())
	if reflect.DeepEqual(script(c, context.Background()), script(d, context.Background())) {
		t.Error("unkeyed: the second call drew like the first")
	}
}
