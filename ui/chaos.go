package ui

import (
	"fmt"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
)

// chaosKey answers the keys that act on the focused model's chaos knobs
// and breaker.
func (m *Model) chaosKey(msg tea.KeyPressMsg, p *ModelPane) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.ErrorUp):
		return m.tune(p, "error_rate")
	case key.Matches(msg, k.StallUp):
		return m.tune(p, "stall_rate")
	case key.Matches(msg, k.SetError):
		m.openForm(p, "error_rate")
	case key.Matches(msg, k.SetStall):
		m.openForm(p, "stall_rate")
	case key.Matches(msg, k.Reset):
		return m.resetChaos(p)
	case key.Matches(msg, k.ForceOpen):
		return m.force(p, engine.ForceOpen)
	case key.Matches(msg, k.ForceClosed):
		return m.force(p, engine.ForceClosed)
	case key.Matches(msg, k.ForceAuto):
		return m.force(p, engine.ForceNone)
	case key.Matches(msg, k.ResetBreaker):
		return m.resetBreaker(p)
	}
	return nil
}

func (m *Model) tune(p *ModelPane, knob string) tea.Cmd {
	if p == nil {
		return nil
	}
	return m.tuneBy(p.ID, knob, chaosStep)
}

// tuneBy moves id's knob by delta through the backend, then reads the
// health again.
func (m *Model) tuneBy(id, knob string, delta float64) tea.Cmd {
	b := m.b
	return tea.Sequence(func() tea.Msg {
		v, err := b.Tune(id, knob, delta)
		if err != nil {
			return actionMsg{model: id, err: fmt.Errorf("%s: %s: %w", id, knob, err)}
		}
		return actionMsg{model: id, tuned: map[string]float64{knob: delta}, text: tunedText(id, knob, v, delta)}
	}, m.healthCmd())
}

// openForm asks for a chaos knob's exact value for p's model, in the
// prompt line's place.
func (m *Model) openForm(p *ModelPane, knob string) {
	if p == nil {
		return
	}
	if !p.hasH || p.health.Knobs == nil {
		m.setStatus(p.ID+" is not a simulated model: chaos knobs only apply to sim models", true)
		return
	}
	m.formModel, m.formKnob, m.formBack = p.ID, knob, m.mode
	cur := p.health.Knobs[knob]
	m.form = textinput.New()
	m.form.Prompt = fmt.Sprintf("%s %s (now %.2f, 0 to 1): ", p.ID, knob, cur)
	m.form.SetValue(strconv.FormatFloat(cur, 'f', -1, 64))
	m.form.CursorEnd()
	m.form.Focus()
	m.mode = modeForm
}

// formKey: enter sets the value (the backend moves the knob by the
// difference), esc leaves the form.
func (m *Model) formKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.formModel == "" {
		return m.settingsKey(msg)
	}
	k := &m.keys
	switch {
	case key.Matches(msg, k.FormCancel):
		m.mode = m.formBack
		return nil
	case key.Matches(msg, k.FormSet):
		v, err := strconv.ParseFloat(strings.TrimSpace(m.form.Value()), 64)
		if err != nil || v < 0 || v > 1 {
			m.setStatus(m.formKnob+" must be a number from 0 to 1", true)
			return nil
		}
		m.mode = m.formBack
		p := m.byID[m.formModel]
		if p == nil {
			return nil
		}
		return m.tuneBy(p.ID, m.formKnob, v-p.health.Knobs[m.formKnob])
	}
	var cmd tea.Cmd
	m.form, cmd = m.form.Update(msg)
	return cmd
}

func (m *Model) resetChaos(p *ModelPane) tea.Cmd {
	if p == nil {
		return nil
	}
	deltas := m.applied[p.ID]
	if len(deltas) == 0 {
		m.setStatus(p.ID+": no chaos to reset", false)
		return nil
	}
	b, id := m.b, p.ID
	undo := make(map[string]float64, len(deltas))
	for k, d := range deltas {
		undo[k] = -d
	}
	return tea.Sequence(func() tea.Msg {
		var errs []string
		for knob, d := range undo {
			if _, err := b.Tune(id, knob, d); err != nil {
				errs = append(errs, knob+": "+err.Error())
			}
		}
		if len(errs) > 0 {
			return actionMsg{model: id, err: fmt.Errorf("%s reset: %s", id, strings.Join(errs, "; "))}
		}
		return actionMsg{model: id, reset: true, text: id + " chaos reset to its configured rates"}
	}, m.healthCmd())
}

func (m *Model) force(p *ModelPane, f engine.Force) tea.Cmd {
	if p == nil {
		return nil
	}
	b, id := m.b, p.ID
	return tea.Sequence(func() tea.Msg {
		if err := b.ForceBreaker(id, f); err != nil {
			return actionMsg{model: id, err: fmt.Errorf("%s breaker: %w", id, err)}
		}
		t := id + " breaker forced " + f.String()
		if f == engine.ForceNone {
			t = id + " breaker back to automatic"
		}
		return actionMsg{model: id, forced: true, text: t}
	}, m.healthCmd())
}

func (m *Model) resetBreaker(p *ModelPane) tea.Cmd {
	if p == nil {
		return nil
	}
	b, id := m.b, p.ID
	return tea.Sequence(func() tea.Msg {
		from, err := b.ResetBreaker(id)
		if err != nil {
			return actionMsg{model: id, err: fmt.Errorf("%s breaker reset: %w", id, err)}
		}
		t := id + " breaker counts reset"
		if from != engine.BreakerClosed {
			t += fmt.Sprintf(" (%s → closed)", from)
		}
		return actionMsg{model: id, forced: true, text: t}
	}, m.healthCmd())
}

func (m *Model) onAction(a actionMsg) tea.Cmd {
	if a.err != nil {
		m.setStatus(a.err.Error(), true)
		m.actionModel, m.actionUntil = a.model, m.statusUntil // the refusal answers the key: no other model's news hides it
		return nil
	}
	switch {
	case a.reset:
		delete(m.applied, a.model)
	case a.tuned != nil:
		if m.applied[a.model] == nil {
			m.applied[a.model] = map[string]float64{}
		}
		for k, d := range a.tuned {
			m.applied[a.model][k] += d
		}
	}
	m.setStatus(a.text, false)
	m.actionModel, m.actionUntil = a.model, m.statusUntil
	return nil
}
