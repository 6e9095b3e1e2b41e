package ui

import (
	"slices"
	"sort"
	"time"

	"github.com/council-dev/council/engine/config"
)

// tierNames lists the config's tiers: the standard ones in order, then the
// others sorted.
func tierNames(cfg *config.Config) []string {
	var names, extra []string
	for _, n := range config.TierNames {
		if _, ok := cfg.Tiers[n]; ok {
			names = append(names, n)
		}
	}
	for n := range cfg.Tiers {
		if !slices.Contains(config.TierNames, n) {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	return append(names, extra...)
}

// timeout is the shown session's tier's per-model timeout, the latency
// bars' scale.
func (m *Model) timeout() time.Duration { return m.tierTimeout(m.sessTier) }

// tierTimeout is a tier's per-model timeout.
func (m *Model) tierTimeout(tier string) time.Duration {
	if d := m.cfg.Tiers[tier].PerModelTimeout.Duration; d > 0 {
		return d
	}
	return 20 * time.Second
}

// rebuildPanes makes one pane per model of the tier, keeping the panes
// (and their state) of models already shown; models of the current
// session outside the tier stay too.
func (m *Model) rebuildPanes() {
	ids := slices.Clone(m.tierModels(m.sessTier))
	for _, p := range m.panes {
		if p.a.phase != phaseIdle && !slices.Contains(ids, p.ID) {
			ids = append(ids, p.ID)
		}
	}
	var focused string
	if m.focus < len(m.panes) {
		focused = m.panes[m.focus].ID
	}
	panes := make([]*ModelPane, 0, len(ids))
	byID := make(map[string]*ModelPane, len(ids))
	for _, id := range ids {
		p := m.byID[id]
		if p == nil {
			p = NewModelPane(m.ctx, id, m.timeout())
		}
		p.timeout = m.timeout()
		panes = append(panes, p)
		byID[id] = p
	}
	m.panes, m.byID = panes, byID
	m.syncOrder()
	m.setFocus(max(slices.IndexFunc(panes, func(p *ModelPane) bool { return p.ID == focused }), 0))
	for _, h := range m.board.health {
		if p := m.byID[h.ID]; p != nil {
			p.SetHealth(h, m.board.at)
		}
	}
}

// tierModels is the models a session of tier runs: --models, else the
// tier's.
func (m *Model) tierModels(tier string) []string {
	if len(m.opts.Models) > 0 {
		return m.opts.Models
	}
	return m.cfg.Tiers[tier].Models
}

// pane returns the pane of model id, adding one for a model outside the
// tier (an escalation, a configured hedge backup).
func (m *Model) pane(id string) *ModelPane {
	if p := m.byID[id]; p != nil {
		return p
	}
	p := NewModelPane(m.ctx, id, m.timeout())
	m.panes = append(m.panes, p)
	m.byID[id] = p
	m.syncOrder()
	return p
}

// syncOrder lists models in the timeline and the breaker board in the
// panes' order, so that each model keeps its place across the screen.
func (m *Model) syncOrder() {
	ids := make([]string, len(m.panes))
	for i, p := range m.panes {
		ids[i] = p.ID
	}
	m.timeline.SetOrder(ids)
	m.board.SetOrder(ids)
}

// synthFocused reports whether the focus is on the synthesis, which comes
// after the panes in a council.
func (m *Model) synthFocused() bool {
	return m.focus == len(m.panes) && m.council()
}

func (m *Model) focused() *ModelPane {
	if m.focus >= 0 && m.focus < len(m.panes) {
		return m.panes[m.focus]
	}
	return nil
}
