package config

import (
	"fmt"
	"os"
	"strings"
)

// Warnings returns problems that do not stop the program: an inline api_key
// in a file others can read, timeouts that cannot take effect, simulated
// answers outside the consensus categories.
func (c *Config) Warnings() []string {
	var w []string
	var inline []string
	for _, name := range sortedKeys(c.Providers) {
		if c.Providers[name].APIKey != "" {
			inline = append(inline, name)
		}
	}
	if len(inline) > 0 {
		if fi, err := os.Stat(c.Source); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o077 != 0 {
			w = append(w, fmt.Sprintf("%s holds an API key (providers %s) and is readable by others: chmod 600 %s",
				c.Source, strings.Join(inline, ", "), c.Source))
		}
	}
	for _, name := range c.TierOrder() {
		t, _ := c.Tier(name)
		if t.PerModelTimeout.Duration > t.Timeout.Duration {
			w = append(w, fmt.Sprintf("tier %s: per_model_timeout %s is longer than its timeout %s, so the session ends first",
				name, t.PerModelTimeout, t.Timeout))
		}
		if t.StallTimeout.Duration >= t.PerModelTimeout.Duration {
			w = append(w, fmt.Sprintf("tier %s: stall_timeout %s is not shorter than per_model_timeout %s, so it never fires",
				name, t.StallTimeout, t.PerModelTimeout))
		}
	}
	if cats := c.Consensus.Categories; len(cats) > 0 {
		for _, m := range c.Models {
			if m.Sim == nil {
				continue
			}
			for _, a := range sortedKeys(m.Sim.Answers) {
				if !containsFold(cats, a) {
					w = append(w, fmt.Sprintf("model %s: simulated answer %q is not among consensus.categories, so those votes are invalid", m.ID, a))
				}
			}
		}
	}
	return w
}
