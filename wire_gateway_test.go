package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// A gateway value naming an unset variable makes its provider fail with
// an auth error that names the variable, not the program.
func TestGatewayUnsetVariableFailsTheProvider(t *testing.T) {
	f, _ := providers.Lookup("openai-compatible")
	pc := config.ProviderConfig{Kind: "openai-compatible", BaseURL: "http://127.0.0.1:1/v1",
		Headers: map[string]string{"Helicone-Auth": "Bearer ${COUNCIL_TEST_SURELY_UNSET_VAR}"}}
	p, err := newProvider(context.Background(), f, "helicone", pc, providers.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Stream(context.Background(), providers.Request{Model: "m", Messages: []providers.Message{{Role: "user", Content: "hi"}}})
	var pe *providers.Error
	if !errors.As(err, &pe) || pe.Kind != providers.KindAuth || !strings.Contains(pe.Message, "COUNCIL_TEST_SURELY_UNSET_VAR") ||
		!strings.Contains(pe.Message, `"Helicone-Auth"`) {
		t.Errorf("err %v, want an auth error naming the header and the variable", err)
	}
}
