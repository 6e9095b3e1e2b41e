package ui

import (
	"context"
	"slices"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/atotto/clipboard"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/themes"
)

// Backend is what the dashboard drives; *engine.Engine implements it.
type Backend interface {
	// Start runs a session; its events arrive on the channel, which is
	// closed after session_done. Cancelling ctx cancels the session (reason
	// "user"); the channel is drained until it closes.
	Start(ctx context.Context, req engine.SessionRequest) (<-chan engine.Event, error)
	// Health is per model: breaker, latency, recent outcomes, sim knobs.
	Health() []engine.ModelHealth
	// ForceBreaker overrides a model's breaker (ForceNone gives it back).
	ForceBreaker(model string, f engine.Force) error
	// ResetBreaker clears a model's breaker counts and closes it; it
	// returns the state it left.
	ResetBreaker(model string) (engine.BreakerState, error)
	// Tune moves a simulated model's chaos knob ("error_rate",
	// "stall_rate"...) by delta and returns the new value; it fails for
	// real models.
	Tune(model, knob string, delta float64) (float64, error)
	// Config is the setup in use.
	Config() *config.Config
}

// Options configure the dashboard. The zero value works.
type Options struct {
	// Theme colours the dashboard; the zero Theme means [themes.Default].
	Theme themes.Theme
	// AutoFireEvery is how long auto-fire holds a finished session's result
	// before the next one (dashboard.auto_fire_hold; default 3s).
	AutoFireEvery time.Duration
	// Prompt is put in the prompt line at start.
	Prompt string
	// Why says which council is in use and why; shown once at start.
	Why string
	// Clock is the time source (default time.Now); tests pin it so that
	// nothing in a frame depends on the wall clock.
	Clock func() time.Time
	// AutoRun starts a session with Prompt as soon as the dashboard opens
	// (a replay plays its recorded session).
	AutoRun bool
	// ExportDir is where x and X write a session (default: the current
	// directory); Version names the program in an exported log.
	ExportDir, Version string
	// HistoryDir holds the session logs of earlier runs, which the history
	// lists before this run's; empty: this run's only.
	HistoryDir string
	// Document is what strategy section splits (--input); with one, the
	// m key's cycle includes section, and the dashboard starts on it.
	// DocumentName names it (the --input argument).
	Document, DocumentName string
	// Strategy and Tier, when set, replace the config's defaults; Models,
	// when set, replaces the tiers' models (council --models).
	Strategy config.Strategy
	Tier     string
	Models   []string
	// NoMouse leaves the mouse to the terminal (council --no-mouse): text
	// can be selected as usual, clicks and the wheel do nothing here.
	NoMouse bool
	// Settings are how the models are asked (--system, --max-tokens,
	// --temperature; O edits them); MaxCostUSD caps each session (--max-cost).
	Settings   engine.Settings
	MaxCostUSD float64
}

// Timing of the dashboard's own loops.
const (
	frameInterval  = time.Second / 60       // at most one event batch per frame
	tickInterval   = 100 * time.Millisecond // spinner and clocks
	healthInterval = 250 * time.Millisecond // breaker board refresh while hot
	statusTTL      = 4 * time.Second
	chaosStep      = 0.25
	demoPrompt     = "In one paragraph: why do circuit breakers make distributed systems more reliable?"
)

// Messages. Each carries what a command read; Update applies it.
type (
	startedMsg struct {
		gen int
		ch  <-chan engine.Event
		err error
	}
	eventsMsg struct {
		gen    int
		events []engine.Event
		closed bool
	}
	tickMsg   struct{}
	healthMsg struct {
		health []engine.ModelHealth
		at     time.Time
	}
	actionMsg struct {
		text   string
		err    error
		model  string
		tuned  map[string]float64 // knob -> delta applied
		reset  bool
		forced bool
	}
	autoFireMsg struct{ gen int }
)

// Model is the dashboard's root Bubble Tea model. Its state is grouped by
// concern: the areas, then the structs it embeds (their fields are the
// model's): paneSet (the panes and the focus), sessionView (the session on
// screen), nextSession (what the next session is asked with), liveSession
// (the running session's plumbing), screenModes (the mode and what each
// mode keeps), promptState, autoFire, statusLine, loops, historyState and
// mouseState.
type Model struct {
	b     Backend
	cfg   *config.Config
	opts  Options
	clock func() time.Time

	ctx  *Context
	keys KeyMap // every binding; ctx.Keys is the enabled view for help
	help help.Model

	width, height int
	quitting      bool

	// The areas of the screen other than the panes, each created once in
	// newAreas (areas.go) and listed in areas, as apply, a reset and the
	// layouts read them.
	timeline *Timeline
	votes    *VoteTally
	board    *BreakerBoard
	stages   *StageBar // the council's
	rank     *RankingTable
	synth    *SynthesisPane
	sections *SectionList // the section strategy's list and merge
	areas    []area

	paneSet
	sessionView
	nextSession
	liveSession
	screenModes
	promptState
	autoFire
	statusLine
	loops
	historyState
	mouseState

	// runCost is what this run's finished sessions cost.
	runCost float64
	// applied are the chaos deltas per model, for reset.
	applied map[string]map[string]float64

	// watch is the watch mode's state (council watch), nil otherwise.
	watch *watchState

	// sysClipboard writes the system clipboard (y's fallback to OSC 52).
	sysClipboard func(string) error
}

// paneSet are the panes, one per model, and the focus.
type paneSet struct {
	panes []*ModelPane
	byID  map[string]*ModelPane
	focus int
	// userFocus: the user has moved the focus, so the compact layout shows
	// the focused model rather than following the winner.
	userFocus bool
}

// sessionView is the session on screen: the header, the panes' turn, the
// history rows and the layout read it, never the next session's settings.
type sessionView struct {
	sessionN int
	// sessInfo is the session on screen as its session_started describes
	// it (as it was asked, until that event arrives or when a backend's
	// events do not say): the header draws it, never the next session's
	// strategy, tier or settings, which the prompt line shows apart.
	sessInfo engine.SessionInfo
	// sessStrategy is the strategy the session runs: the one asked for,
	// the route's once auto has chosen, the summary's at the end.
	sessStrategy config.Strategy
	// sessTier is the tier of the session on screen: t changes the next
	// session's, never the finished one's panes, scale or header.
	sessTier string
	// route is the router's choice.
	route       *engine.Route
	startWall   time.Time
	lastT       time.Duration
	summary     *engine.Summary
	sessionCost float64
	// sessTurns are the turns the session continues.
	sessTurns []engine.Turn
	// heard: an event of the session on screen has arrived (or been
	// played), so an idle pane is one the session does not use.
	heard bool
}

// nextSession is what the next session is asked with (m, t, O, C and
// space change it); the prompt line's next: shows it once a session is on
// screen.
type nextSession struct {
	strategies []config.Strategy
	strategy   config.Strategy
	tiers      []string
	tier       string
	excluded   map[string]bool
	// settings are the request settings (options.go).
	settings engine.Settings
	// The conversation (convo.go): its turns so far and whether the next
	// prompt continues it (C).
	convo []engine.Turn
	cont  bool
}

// liveSession is the running session's plumbing: gen tells its messages
// from a cancelled one's.
type liveSession struct {
	running bool
	gen     int
	cancel  context.CancelFunc
	events  <-chan engine.Event
}

// screenModes is the screen's mode and what each mode keeps.
type screenModes struct {
	mode mode
	back mode // the mode under the help screen
	// helpOff is the full help's scroll offset.
	helpOff int
	// The chaos form (E, S): the model and knob it sets, the mode under it.
	form      textinput.Model
	formModel string
	formKnob  string
	formBack  mode
	// formPending is the settings form's answers so far.
	formPending engine.Settings
	// The compare view (x, x): the two models and the scroll offset.
	cmpA, cmpB string
	cmpOff     int
	// zoom is the zoomed pane's viewport.
	zoom viewport.Model
}

// promptState is the prompt's input and its history.
type promptState struct {
	input      textinput.Model
	history    []string
	histIdx    int
	lastPrompt string
}

// autoFire is the auto-fire's state (a, p).
type autoFire struct {
	auto    bool
	autoGen int

	autoPaused bool      // p: the result stays until p again
	autoNextAt time.Time // when the held result gives way to the next session
}

// statusLine is the transient status on the prompt line's right.
type statusLine struct {
	status      string
	statusErr   bool
	statusUntil time.Time
	// actionModel is the model of the user's last chaos or breaker action;
	// its status is not overwritten by another model's news until
	// actionUntil.
	actionModel string
	actionUntil time.Time
}

// loops are the dashboard's own timers: the tick and the health reading.
type loops struct {
	ticking       bool
	healthPending bool
	lastHealth    time.Time
}

// historyState is the history (H): this run's finished sessions, the one
// running, the selected row; restart: a replay's 0 is waiting for the
// running session to end before it plays it again.
type historyState struct {
	past           []pastSession
	cur            *pastSession
	histSel        int
	restart        bool
	loadedRecorded bool
	opened         time.Time // when the dashboard opened: logs before it are earlier runs'
}

// mouseState is what the mouse reads: the last frame's lines, where each
// pane's box was, and the row the panes start on.
type mouseState struct {
	frame     []string
	paneRects []rect
	panesY    int
}

// rect is a pane's place on the screen.
type rect struct{ x, y, w, h, pane int }

var _ tea.Model = (*Model)(nil)

// New returns the dashboard for b.
func New(b Backend, o Options) *Model {
	if o.Theme.Name == "" && !o.Theme.NoColor {
		o.Theme, _ = themes.Load(themes.Default)
	}
	if o.AutoFireEvery <= 0 {
		o.AutoFireEvery = 3 * time.Second
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	cfg := b.Config()
	if cfg == nil {
		cfg = &config.Config{}
	}
	m := &Model{
		b: b, cfg: cfg, opts: o, clock: o.Clock,
		keys:    DefaultKeyMap(),
		applied: map[string]map[string]float64{},
	}
	m.byID = map[string]*ModelPane{}
	m.excluded = map[string]bool{}
	m.strategies = strategyCycle(false)
	m.sysClipboard = clipboard.WriteAll
	m.ctx = &Context{Keys: m.keys, Now: o.Clock()}
	m.opened = o.Clock()
	m.help = help.New()
	m.input = newPromptInput(o.Theme, &m.ctx.S)
	m.setTheme(o.Theme)
	m.setPrompt(o.Prompt)
	m.settings = o.Settings

	m.strategy = cfg.DefaultStrategy
	if o.Document != "" {
		m.strategies = strategyCycle(true)
		m.strategy = firstNeedingDocument(m.strategies)
	}
	if o.Strategy != "" {
		m.strategy = o.Strategy
	}
	if !slices.Contains(m.strategies, m.strategy) && len(m.strategies) > 0 {
		m.strategy = m.strategies[0]
	}
	m.tiers = tierNames(cfg)
	m.tier = cfg.DefaultTier
	if o.Tier != "" {
		m.tier = o.Tier
	}
	if _, ok := cfg.Tiers[m.tier]; !ok && len(m.tiers) > 0 {
		m.tier = m.tiers[0]
	}
	m.sessTier = m.tier
	m.newAreas()
	if o.Document != "" {
		titles, err := engine.SectionTitles(o.Document, cfg.Section, cfg.Limits.MaxPromptBytes)
		m.sections.SetDocument(o.DocumentName, titles, err)
	}
	m.synth.timeout = m.timeout()
	m.zoom = viewport.New()
	m.rebuildPanes()
	if w, ok := b.(Watcher); ok {
		m.watch = newWatchState(w)
		m.blurPrompt()
	} else if o.Prompt == "" && !isStepper(b) {
		m.focusPrompt()
	} else {
		m.blurPrompt()
	}
	if o.Why != "" {
		m.setStatus(o.Why, false)
		m.statusUntil = m.clock().Add(3 * statusTTL)
	}
	m.syncKeys()
	return m
}

// Init starts the first health reading and the clock.
func (m *Model) Init() tea.Cmd {
	var run tea.Cmd
	if m.opts.AutoRun {
		run = m.startSession(m.sessionPrompt())
	}
	if m.watch != nil {
		run = readUpdates(m.watch.src.Updates())
	}
	return tea.Batch(m.healthCmd(), m.ensureTick(), run)
}

// Commands: the only places that call the backend or block.

func (m *Model) healthCmd() tea.Cmd {
	m.healthPending = true
	b, clock := m.b, m.clock
	return func() tea.Msg { return healthMsg{health: b.Health(), at: clock()} }
}

// ensureTick keeps one tick in flight while something on screen moves.
func (m *Model) ensureTick() tea.Cmd {
	if m.ticking || !m.hot() {
		return nil
	}
	m.ticking = true
	return tea.Tick(tickInterval, func(time.Time) tea.Msg { return tickMsg{} })
}

// hot reports whether the screen changes with time: a session runs,
// auto-fire is on, a breaker is open (its countdown), a status is shown.
func (m *Model) hot() bool {
	return m.running || m.auto || m.board.anyOpen() || m.status != "" || m.watch != nil && m.watch.reconnecting()
}

// userStatus reports whether the status answers the user's last action
// and is still fresh.
func (m *Model) userStatus() bool {
	return m.actionModel != "" && m.status != "" && m.clock().Before(m.actionUntil)
}

func (m *Model) setStatus(s string, isErr bool) {
	m.status, m.statusErr, m.statusUntil = s, isErr, m.clock().Add(statusTTL)
}

// Update applies one message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := m.update(msg)
	m.followAnswer()
	m.syncKeys()
	m.layoutPrompt()
	return m, tea.Batch(cmd, m.ensureTick())
}

func (m *Model) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.ctx.Width, m.ctx.Height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		m.refreshZoom(false)
		return nil
	case tea.KeyPressMsg:
		return m.handleKey(msg)
	case tea.MouseClickMsg:
		return m.onClick(msg.Mouse())
	case tea.MouseWheelMsg:
		return m.onWheel(msg.Mouse())
	case startedMsg:
		return m.onStarted(msg)
	case eventsMsg:
		return m.onEvents(msg)
	case watchMsg:
		return m.onWatch(msg)
	case tickMsg:
		m.ticking = false
		if !m.replayPaused() { // a paused replay shows nothing turning
			m.ctx.Frame++
		}
		now := m.clock()
		if m.status != "" && !now.Before(m.statusUntil) {
			m.status = ""
		}
		if !m.healthPending && (m.running || m.auto || m.board.anyOpen()) && now.Sub(m.lastHealth) >= healthInterval {
			return m.healthCmd()
		}
		return nil
	case healthMsg:
		m.healthPending = false
		m.lastHealth = msg.at
		m.board.SetHealth(msg.health, msg.at)
		for _, h := range msg.health {
			if p := m.byID[h.ID]; p != nil {
				p.SetHealth(h, msg.at)
			}
		}
		return nil
	case actionMsg:
		return m.onAction(msg)
	case recordedMsg:
		m.onRecorded(msg)
		return nil
	case exportedMsg:
		if msg.err != nil {
			m.setStatus("export failed: "+msg.err.Error(), true)
		} else {
			m.setStatus("exported to "+msg.path, false)
		}
		return nil
	case autoFireMsg:
		if m.auto && !m.autoPaused && msg.gen == m.autoGen && !m.running {
			return m.startSession(m.sessionPrompt())
		}
		return nil
	}
	if m.mode == modePrompt {
		return m.updatePrompt(msg) // pastes, and the input's clipboard results
	}
	return nil
}
