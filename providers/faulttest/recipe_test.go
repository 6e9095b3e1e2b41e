package faulttest_test

import (
	"testing"

	"github.com/council-dev/council/providers/providertest"
)

// TestSuiteRunsEveryDialect: the fault suite has a vendor for every
// dialect a built-in kind speaks (providertest.Dialects), so a kind added
// with a dialect is put through every fault.
func TestSuiteRunsEveryDialect(t *testing.T) {
	for kind, d := range providertest.Dialects {
		found := false
		for _, v := range vendors {
			found = found || v.d.Name == d.Name
		}
		if !found {
			t.Errorf("kind %s speaks dialect %s, which the fault suite's vendors do not run", kind, d.Name)
		}
	}
}
