package ui

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
)

// The request settings: how the next sessions' models are asked (a system
// prompt, a token limit, a temperature; --system, --max-tokens,
// --temperature), shown in the header and the help, edited with O in the
// small form E and S use, one setting after another.

// settingSteps are the settings form's steps, in order.
var settingSteps = []string{"system", "max_tokens", "temperature"}

// openSettings opens the settings form on its first step.
func (m *Model) openSettings() {
	m.formPending, m.formBack = m.settings, m.mode
	m.settingsStep(0)
}

// settingsStep shows step i of the settings form, its current value in
// the line to edit.
func (m *Model) settingsStep(i int) {
	m.formModel, m.formKnob = "", settingSteps[i]
	m.form = textinput.New()
	p := m.formPending
	var label, value string
	switch m.formKnob {
	case "system":
		label, value = "system prompt (empty: the config's)", p.System
	case "max_tokens":
		label = "max tokens (0: the config's)"
		value = strconv.Itoa(p.MaxTokens)
	case "temperature":
		label = "temperature, 0 to 2 (empty: the config's)"
		if p.Temperature != nil {
			value = strconv.FormatFloat(*p.Temperature, 'f', -1, 64)
		}
	}
	m.form.Prompt = fmt.Sprintf("settings %d/%d · %s: ", i+1, len(settingSteps), label)
	m.form.SetValue(value)
	m.form.CursorEnd()
	m.form.Focus()
	if m.width > 0 {
		m.form.SetWidth(max(m.width-len([]rune(m.form.Prompt))-2, 10))
	}
	m.mode = modeForm
}

// settingsKey handles the settings form: enter takes the step's value and
// goes on (the last step applies them all), esc leaves every setting as
// it was.
func (m *Model) settingsKey(msg tea.KeyPressMsg) tea.Cmd {
	k := &m.keys
	switch {
	case key.Matches(msg, k.FormCancel):
		m.mode = m.formBack
		m.setStatus("settings unchanged", false)
		return nil
	case key.Matches(msg, k.FormSet):
		v := strings.TrimSpace(m.form.Value())
		p := &m.formPending
		switch m.formKnob {
		case "system":
			p.System = v
		case "max_tokens":
			n, err := strconv.Atoi(orZero(v))
			if err != nil || n < 0 {
				m.setStatus("max tokens must be a whole number, 0 or more", true)
				return nil
			}
			p.MaxTokens = n
		case "temperature":
			if v == "" {
				p.Temperature = nil
				break
			}
			t, err := strconv.ParseFloat(v, 64)
			if err != nil || t < 0 || t > 2 || math.IsNaN(t) {
				m.setStatus("temperature must be a number from 0 to 2, or empty", true)
				return nil
			}
			p.Temperature = &t
		}
		for i, s := range settingSteps {
			if s == m.formKnob && i+1 < len(settingSteps) {
				m.settingsStep(i + 1)
				return nil
			}
		}
		m.settings, m.mode = m.formPending, m.formBack
		m.setStatus("next sessions: "+settingsText(m.settings), false)
		return nil
	}
	var cmd tea.Cmd
	m.form, cmd = m.form.Update(msg)
	return cmd
}

func orZero(s string) string {
	if s == "" {
		return "0"
	}
	return s
}

// settingsText is the settings in a line: `system "You are…" · max
// tokens 300 · temperature 0.7`, or "the config's" when none is set.
func settingsText(s engine.Settings) string {
	var parts []string
	if s.System != "" {
		parts = append(parts, fmt.Sprintf("system %q", truncate(oneLine(s.System), 24)))
	}
	if s.MaxTokens > 0 {
		parts = append(parts, fmt.Sprintf("max tokens %d", s.MaxTokens))
	}
	if s.Temperature != nil {
		parts = append(parts, "temperature "+strconv.FormatFloat(*s.Temperature, 'f', -1, 64))
	}
	if len(parts) == 0 {
		return "the config's settings"
	}
	return strings.Join(parts, " · ")
}

// settingsShort is the settings for the header's right side: "⚙ sys ·
// 300 tok · t 0.7"; "" when none is set.
func settingsShort(s engine.Settings) string {
	var parts []string
	if s.System != "" {
		parts = append(parts, "sys")
	}
	if s.MaxTokens > 0 {
		parts = append(parts, fmt.Sprintf("%d tok", s.MaxTokens))
	}
	if s.Temperature != nil {
		parts = append(parts, "t "+strconv.FormatFloat(*s.Temperature, 'f', -1, 64))
	}
	if len(parts) == 0 {
		return ""
	}
	return "⚙ " + strings.Join(parts, " · ")
}

// oneLine is s with its line breaks as spaces.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
