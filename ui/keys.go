package ui

import (
	"reflect"
	"slices"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// KeyMap is every key binding of the dashboard. Which ones apply depends on
// the focused area (the prompt, the panes, a zoomed pane); bindings that do
// not apply right now are disabled and so hidden from help.
type KeyMap struct {
	// Prompt (typing mode).
	Run, HistoryUp, HistoryDown, Leave key.Binding
	// Session.
	Rerun, Cancel, Strategy, Tier, Auto, Pause, Prompt, Continue, Settings key.Binding
	// Panes.
	Next, Prev, Left, Down, Up, Right, Zoom, Toggle, Reasoning, Copy, Compare key.Binding
	// Zoomed pane.
	ScrollUp, ScrollDown, PageUp, PageDown, Top, Bottom, Unzoom key.Binding
	// Chaos on the focused model.
	ErrorUp, StallUp, SetError, SetStall, Reset, ForceOpen, ForceClosed, ForceAuto, ResetBreaker key.Binding
	// The form.
	FormSet, FormCancel key.Binding
	// History and export; a replay's playback.
	History, Export, ReplayPause, StepEvent, Restart key.Binding
	// Watching servers (council watch): older / newer session, follow the
	// latest, the list of sessions.
	WatchOlder, WatchNewer, WatchFollow, WatchList key.Binding
	// A list (the history, the watched sessions): show the selected row,
	// leave the list.
	ListShow, ListBack key.Binding
	// General.
	Help, CloseHelp, Quit, Theme key.Binding
}

// DefaultKeyMap returns the dashboard's keys: lazygit/k9s habits, vim keys
// paired with arrows.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Run:         b([]string{"enter"}, "enter", "run prompt"),
		HistoryUp:   b([]string{"up", "ctrl+p"}, "↑", "older prompt"),
		HistoryDown: b([]string{"down", "ctrl+n"}, "↓", "newer prompt"),
		Leave:       b([]string{"esc"}, "esc", "to panes"),

		Rerun:    b([]string{"r"}, "r", "run again"),
		Cancel:   b([]string{"esc", "ctrl+c"}, "esc/ctrl+c", "cancel session"),
		Strategy: b([]string{"m"}, "m", "strategy"),
		Tier:     b([]string{"t"}, "t", "tier"),
		Auto:     b([]string{"a"}, "a", "auto-fire"),
		Pause:    b([]string{"p"}, "p", "pause auto-fire"),
		Prompt:   b([]string{"/", "i"}, "/", "edit prompt"),
		// C: c is taken by force breaker closed.
		Continue: b([]string{"C"}, "C", "follow-up: continue / new conversation"),
		// O (options): o is taken by force breaker open.
		Settings: b([]string{"O"}, "O", "request settings…"),

		Next:   b([]string{"tab"}, "tab", "next pane"),
		Prev:   b([]string{"shift+tab"}, "shift+tab", "previous pane"),
		Left:   b([]string{"h", "left"}, "←/h", "left"),
		Down:   b([]string{"j", "down"}, "↓/j", "down"),
		Up:     b([]string{"k", "up"}, "↑/k", "up"),
		Right:  b([]string{"l", "right"}, "→/l", "right"),
		Zoom:   b([]string{"enter", "z"}, "enter", "zoom"),
		Toggle: b([]string{"space"}, "space", "model in/out"),
		// R: r is taken by run again.
		Reasoning: b([]string{"R"}, "R", "reasoning shown/folded"),

		Copy:    b([]string{"y"}, "y", "copy answer"),
		Compare: b([]string{"d"}, "d", "compare two answers (diff)"),

		ScrollUp:   b([]string{"k", "up"}, "↑/k", "scroll up"),
		ScrollDown: b([]string{"j", "down"}, "↓/j", "scroll down"),
		PageUp:     b([]string{"pgup", "b", "ctrl+u"}, "pgup/b", "page up"),
		PageDown:   b([]string{"pgdown", "space", "ctrl+d"}, "pgdn/space", "page down"),
		Top:        b([]string{"g", "home"}, "g", "top"),
		Bottom:     b([]string{"G", "end"}, "G", "bottom"),
		Unzoom:     b([]string{"esc", "enter", "z"}, "esc", "back"),

		ErrorUp:     b([]string{"e"}, "e", "error rate +25%"),
		StallUp:     b([]string{"s"}, "s", "stall rate +25%"),
		Reset:       b([]string{"0"}, "0", "reset chaos"),
		ForceOpen:   b([]string{"o"}, "o", "force breaker open"),
		ForceClosed: b([]string{"c"}, "c", "force breaker closed"),
		ForceAuto:   b([]string{"f"}, "f", "breaker auto (unforce)"),

		SetError:     b([]string{"E"}, "E", "set error rate…"),
		SetStall:     b([]string{"S"}, "S", "set stall rate…"),
		ResetBreaker: b([]string{"B"}, "B", "reset breaker counts"),
		FormSet:      b([]string{"enter"}, "enter", "set"),
		FormCancel:   b([]string{"esc"}, "esc", "cancel"),

		History:     b([]string{"H"}, "H", "history"),
		Export:      b([]string{"x", "X"}, "x/X", "export Markdown/log"),
		ReplayPause: b([]string{"space"}, "space", "pause replay"),
		StepEvent:   b([]string{"n"}, "n", "next event"),
		Restart:     b([]string{"0"}, "0", "replay from the start"),

		WatchOlder:  b([]string{"["}, "[", "older session"),
		WatchNewer:  b([]string{"]"}, "]", "newer session"),
		WatchFollow: b([]string{"F"}, "F", "follow the latest"),
		WatchList:   b([]string{"L"}, "L", "sessions list"),

		ListShow: b([]string{"enter"}, "enter", "show"),
		ListBack: b([]string{"esc", "q"}, "esc", "back"),

		Help:      b([]string{"?"}, "?", "help"),
		CloseHelp: b([]string{"esc", "?"}, "esc/?", "close help"),
		Quit:      b([]string{"q"}, "q", "quit"),
		Theme:     b([]string{"T"}, "T", "next theme"),
	}
}

// mode is the focused area, which decides the keys that apply.
type mode uint8

const (
	modePanes     mode = iota // navigation: panes focused
	modePrompt                // typing: the prompt has focus
	modeZoom                  // one pane fills the screen
	modeHelp                  // the full help
	modeForm                  // a small form: set a chaos rate exactly
	modeCompare               // two answers side by side
	modeHistory               // the list of this run's sessions
	modeWatchList             // the list of the watched servers' sessions
)

// A screen's keymap is the dashboard's [KeyMap] with the bindings that do
// not apply on it disabled ([KeyMap.enabled] of the screen's [keyState]):
// the live dashboard idle, running or done, the prompt, a zoomed pane, the
// compare view, a form, the history, a replay, the watch and its list,
// the section screen, the help, the too-small screen. Its footer
// (ShortHelp), its help (FullHelp) and its handling read that one keymap,
// so a key a screen names is one it answers (TestEveryNamedKeyAnswers
// walks them all).

// String names the mode for tests and the footer.
func (m mode) String() string {
	return [...]string{"panes", "prompt", "zoom", "help", "form", "compare", "history", "sessions"}[m]
}

// keyState is what decides which bindings are enabled.
type keyState struct {
	mode      mode
	running   bool // a session is in flight
	canRun    bool // there is a prompt to run
	sim       bool // the focused model has chaos knobs
	hasModels bool // there is a pane to act on
	onModel   bool // the focus is on a model's pane (not the synthesis, a section or the merge)
	chaos     bool // chaos applied that can be reset
	auto      bool // auto-fire is on
	replay    bool // the backend plays a recorded log
	replayOne bool // of one session: r plays it again, there is no next
	past      bool // a session has finished (history, export)
	watching  bool // the sessions are servers' (council watch)
	sections  bool // the section strategy's screen: its list and merge, no model's pane
	admin     bool // watching with the admin token: breaker actions go to the servers
	tooSmall  bool // the terminal is below the minimum: the screen says so and q quits
}

// enabled returns a copy of the keymap with the bindings that do not apply
// to s disabled.
func (k KeyMap) enabled(s keyState) KeyMap {
	set := func(on bool, bs ...*key.Binding) {
		for _, b := range bs {
			b.SetEnabled(on)
		}
	}
	typing, panes, zoom := s.mode == modePrompt, s.mode == modePanes, s.mode == modeZoom
	form, list := s.mode == modeForm, s.mode == modeHistory || s.mode == modeWatchList
	set(typing, &k.Run, &k.HistoryUp, &k.HistoryDown, &k.Leave)
	set(panes && s.canRun && !s.running, &k.Rerun)
	set(s.running && s.mode != modeHelp, &k.Cancel)
	if !panes { // esc is the prompt's, the zoom's, the form's or the list's: ctrl+c cancels
		k.Cancel.SetKeys("ctrl+c")
		k.Cancel.SetHelp("ctrl+c", "cancel session")
	}
	set(panes, &k.Strategy, &k.Tier, &k.Prompt)
	set(panes && !s.replay, &k.Continue, &k.Settings)
	set(panes || zoom, &k.Auto)
	set((panes || zoom) && s.auto, &k.Pause)
	set((panes || zoom) && s.hasModels, &k.Reasoning)
	set((panes || zoom) && s.hasModels, &k.Copy, &k.Next, &k.Prev, &k.ForceOpen, &k.ForceClosed, &k.ForceAuto, &k.ResetBreaker)
	set(panes && s.hasModels, &k.Left, &k.Down, &k.Up, &k.Right, &k.Zoom, &k.Toggle, &k.Compare)
	set(list, &k.Up, &k.Down, &k.ListShow, &k.ListBack)
	cmp := s.mode == modeCompare
	set(zoom || cmp || s.mode == modeHelp, &k.ScrollUp, &k.ScrollDown, &k.PageUp, &k.PageDown, &k.Top, &k.Bottom)
	set(zoom || cmp, &k.Unzoom)
	set((panes || zoom) && s.sim, &k.ErrorUp, &k.StallUp, &k.SetError, &k.SetStall)
	set(form, &k.FormSet, &k.FormCancel)
	set((panes || zoom) && s.chaos, &k.Reset)
	set(!typing && !form && s.mode != modeHelp, &k.Help) // in a form, ? and q are typed; in the help, ? closes it
	set(!typing && !form && !list, &k.Quit)
	set(panes || zoom, &k.Theme)
	set(s.mode == modeHelp, &k.CloseHelp)
	set((panes || zoom) && s.past || s.mode == modeHistory, &k.History, &k.Export)
	if s.mode == modeHistory { // H leaves the list it opened
		k.History.SetHelp("H", "close history")
	}
	set((panes || zoom) && s.replay, &k.ReplayPause, &k.StepEvent, &k.Restart)
	if s.replay { // a replay is read-only: its space and 0 are the playback's
		k.Rerun.SetHelp("r", "play the next session")
		if s.replayOne {
			k.Rerun.SetHelp("r", "play it again")
		}
		set(false, &k.Toggle, &k.Reset, &k.ErrorUp, &k.StallUp, &k.ForceOpen, &k.ForceClosed, &k.ForceAuto,
			&k.Strategy, &k.Tier, &k.Prompt, &k.Auto, &k.Pause, &k.SetError, &k.SetStall, &k.ResetBreaker)
	}
	if s.sections { // tab goes between the list and the merge; no model's pane is drawn
		k.Next.SetHelp("tab", "list ⇄ merge")
		k.Prev.SetHelp("shift+tab", "list ⇄ merge")
		k.Zoom.SetHelp("enter", "zoom section/merge")
		k.Copy.SetHelp("y", "copy section/merge")
		set(false, &k.Toggle, &k.Compare)
	}
	set(s.watching && (panes || zoom), &k.WatchOlder, &k.WatchNewer, &k.WatchFollow, &k.WatchList)
	if s.watching { // nothing is run or changed from here; breakers only with the admin token
		set(false, &k.Rerun, &k.Cancel, &k.Strategy, &k.Tier, &k.Prompt, &k.Continue, &k.Settings, &k.Toggle,
			&k.Auto, &k.Pause, &k.SetError, &k.SetStall)
		set(s.admin && (panes || zoom) && s.hasModels, &k.ErrorUp, &k.StallUp, &k.ForceOpen, &k.ForceClosed, &k.ForceAuto, &k.ResetBreaker)
	}
	if s.mode == modeWatchList {
		set(true, &k.WatchFollow)
		k.ListBack.SetKeys("esc", "L", "q")
	}
	if s.tooSmall { // the screen says only that it is too small, and that q quits
		k.each(func(b *key.Binding) { b.SetEnabled(false) })
		set(true, &k.Quit)
	}
	if !s.onModel { // what acts on one model needs a model's pane in focus
		set(false, &k.Toggle, &k.Compare, &k.ForceOpen, &k.ForceClosed, &k.ForceAuto, &k.ResetBreaker)
	}
	return k
}

// each calls f with every binding of k, in declaration order.
func (k *KeyMap) each(f func(*key.Binding)) {
	v := reflect.ValueOf(k).Elem()
	for i := range v.NumField() {
		if b, ok := v.Field(i).Addr().Interface().(*key.Binding); ok {
			f(b)
		}
	}
}

// ShortHelp is the footer's hints for the focused area.
func (k KeyMap) ShortHelp() []key.Binding {
	return []key.Binding{
		k.Run, k.HistoryUp, k.Leave, k.FormSet, k.FormCancel, k.ListShow, k.ListBack,
		k.ScrollDown, k.PageDown, k.Unzoom,
		k.WatchOlder, k.WatchNewer, k.WatchFollow, k.WatchList,
		k.Cancel, k.Rerun, k.Prompt, k.Next, k.Zoom, k.Copy, k.Toggle, k.Strategy, k.Tier, k.Auto, k.Pause,
		k.ReplayPause, k.StepEvent, k.ErrorUp, k.ForceOpen, k.History, k.CloseHelp, k.Quit,
	}
}

// FullHelp groups every binding by purpose, for `?`.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Prompt, k.Run, k.HistoryUp, k.HistoryDown, k.Leave, k.Rerun, k.Continue, k.Cancel},
		{k.Next, k.Prev, k.Left, k.Down, k.Up, k.Right, k.Zoom, k.Toggle, k.Reasoning, k.Copy, k.Compare},
		{k.Strategy, k.Tier, k.Settings, k.Auto, k.Pause},
		{k.ErrorUp, k.StallUp, k.SetError, k.SetStall, k.Reset, k.ForceOpen, k.ForceClosed, k.ForceAuto, k.ResetBreaker},
		{k.ScrollUp, k.ScrollDown, k.PageUp, k.PageDown, k.Top, k.Bottom, k.Unzoom},
		{k.ListShow, k.ListBack, k.History, k.Export, k.ReplayPause, k.StepEvent, k.Restart, k.WatchOlder, k.WatchNewer, k.WatchFollow, k.WatchList, k.Theme, k.Help, k.Quit},
	}
}

// fullHelpTitles names the FullHelp groups, in order.
var fullHelpTitles = []string{"Prompt & session", "Panes", "Demo", "Chaos (focused model)", "Zoomed pane", "General"}

// fullHelpView renders the grouped help with a title over each group.
func fullHelpView(h help.Model, k KeyMap, width int, title lipgloss.Style) string {
	groups := k.FullHelp()
	var cols []string
	used := 0
	var rows []string
	for i, g := range groups {
		if !slices.ContainsFunc(g, key.Binding.Enabled) {
			continue // nothing of this group applies on the screen
		}
		col := title.Render(fullHelpTitles[i]) + "\n" + h.FullHelpView([][]key.Binding{g})
		w := lipgloss.Width(col) + 4
		if used > 0 && used+w > width {
			rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, cols...))
			cols, used = nil, 0
		}
		if used > 0 {
			col = lipgloss.NewStyle().PaddingLeft(4).Render(col)
		}
		cols = append(cols, col)
		used += w
	}
	if len(cols) > 0 {
		rows = append(rows, lipgloss.JoinHorizontal(lipgloss.Top, cols...))
	}
	return strings.Join(rows, "\n\n")
}

// syncKeys enables the bindings that apply now: the screen's keymap,
// which its footer shows and its handling reads.
func (m *Model) syncKeys() {
	m.ctx.Keys = m.keys.enabled(m.keyState(m.mode))
}

// keyState is what decides the keymap of the screen in mode md.
func (m *Model) keyState(md mode) keyState {
	p := m.focused()
	sim := p != nil && p.hasH && p.health.Knobs != nil
	chaos := p != nil && len(m.applied[p.ID]) > 0
	st, replay := m.b.(Stepper)
	return keyState{
		replayOne: replay && st.Playing().Sessions == 1,
		mode:      md, running: m.running, canRun: true, sim: sim, watching: m.watch != nil, admin: m.watch != nil && m.watch.src.Admin(),
		hasModels: len(m.panes) > 0, onModel: p != nil && !m.synthFocused(), chaos: chaos, auto: m.auto, past: len(m.past) > 0 || m.opts.HistoryDir != "",
		replay: replay, tooSmall: m.tooSmall(), sections: m.sectioning(),
	}
}

// helpKeys is the keymap the help lists: the keys of the screen it was
// opened from (on any other screen, that screen's own).
func (m *Model) helpKeys() KeyMap {
	if m.mode == modeHelp {
		return m.keys.enabled(m.keyState(m.back))
	}
	return m.ctx.Keys
}
