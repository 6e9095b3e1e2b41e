package providers

import (
	"context"
	"slices"
	"testing"
)

func TestRegistry(t *testing.T) {
	newFake := func(context.Context, Settings) (Provider, error) { return Failing(Errorf(KindAuth, "fake")), nil }
	Register("zz-test-b", Factory{New: newFake, KeyEnvs: []string{"B_KEY"}})
	Register("zz-test-a", Factory{New: newFake, NeedsBaseURL: true})
	t.Cleanup(func() { Unregister("zz-test-a"); Unregister("zz-test-b") })

	kinds := Kinds()
	if !slices.IsSorted(kinds) || !slices.Contains(kinds, "zz-test-a") || !slices.Contains(kinds, "zz-test-b") {
		t.Errorf("Kinds() = %v; want both, sorted", kinds)
	}
	if f, ok := Lookup("zz-test-b"); !ok || !slices.Equal(f.KeyEnvs, []string{"B_KEY"}) {
		t.Errorf("Lookup(zz-test-b) = %+v, %v", f, ok)
	}
	if f, ok := Lookup("zz-test-a"); !ok || !f.NeedsBaseURL {
		t.Errorf("Lookup(zz-test-a) = %+v, %v", f, ok)
	}
	if _, ok := Lookup("zz-test-none"); ok {
		t.Error("Lookup of an unregistered kind succeeded")
	}
	for name, reg := range map[string]func(){
		"twice":  func() { Register("zz-test-a", Factory{New: newFake}) },
		"no New": func() { Register("zz-test-c", Factory{}) },
		"empty":  func() { Register("", Factory{New: newFake}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register %s did not panic", name)
				}
			}()
			reg()
		}()
	}
}
