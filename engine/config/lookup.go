package config

import (
	"slices"
	"sort"
	"strings"
)

// Model returns the model config by id.
func (c *Config) Model(id string) (ModelConfig, bool) {
	for _, m := range c.Models {
		if m.ID == id {
			return m, true
		}
	}
	return ModelConfig{}, false
}

// Tier returns the tier config by name, with the defaults applied to any
// zero timeout (a hand-built Config may leave them out).
func (c *Config) Tier(name string) (TierConfig, bool) {
	t, ok := c.Tiers[name]
	if !ok {
		return TierConfig{}, false
	}
	t.fill(name, nil)
	if t.Models == nil {
		t.Models = c.modelIDs()
	}
	return t, true
}

// TierOrder lists the tier names: the standard ones (quick, balanced, high,
// reasoning) first in that order, then the others sorted.
func (c *Config) TierOrder() []string {
	var names, others []string
	for _, n := range TierNames {
		if _, ok := c.Tiers[n]; ok {
			names = append(names, n)
		}
	}
	for n := range c.Tiers {
		if !slices.Contains(TierNames, n) {
			others = append(others, n)
		}
	}
	sort.Strings(others)
	return append(names, others...)
}

func (c *Config) modelIDs() []string {
	ids := make([]string, len(c.Models))
	for i, m := range c.Models {
		ids[i] = m.ID
	}
	return ids
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
