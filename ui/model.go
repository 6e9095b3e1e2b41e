package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"github.com/atotto/clipboard"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
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

// Model is the dashboard's root Bubble Tea model.
type Model struct {
	b     Backend
	cfg   *config.Config
	opts  Options
	clock func() time.Time

	ctx   *Context
	keys  KeyMap // every binding; ctx.Keys is the enabled view for help
	help  help.Model
	input textinput.Model
	mode  mode
	back  mode // the mode under the help screen
	// helpOff is the full help's scroll offset.
	helpOff int
	// The chaos form (E, S): the model and knob it sets, the mode under it.
	form      textinput.Model
	formModel string
	formKnob  string
	formBack  mode
	// The compare view (x, x): the two models and the scroll offset.
	cmpA, cmpB string
	cmpOff     int

	history []string
	histIdx int

	panes []*ModelPane
	byID  map[string]*ModelPane
	focus int
	// userFocus: the user has moved the focus, so the compact layout shows
	// the focused model rather than following the winner.
	userFocus bool
	timeline  *Timeline
	votes     *VoteTally
	board     *BreakerBoard
	zoom      viewport.Model
	// The council's areas, and the router's choice.
	stages *StageBar
	rank   *RankingTable
	synth  *SynthesisPane
	route  *engine.Route
	// The section strategy's list and merge (sections.go).
	sections *SectionList
	// areas are the ones above in one list (areas.go), as apply and a
	// reset read them.
	areas []area

	strategies []config.Strategy
	strategy   config.Strategy
	tiers      []string
	tier       string // the next session's tier
	excluded   map[string]bool
	applied    map[string]map[string]float64 // chaos deltas per model, for reset

	// sessTier is the tier of the session on screen: t changes the next
	// session's, never the finished one's panes, scale or header.
	sessTier string

	// The session.
	running     bool
	sessionN    int
	gen         int
	cancel      context.CancelFunc
	events      <-chan engine.Event
	startWall   time.Time
	lastT       time.Duration
	summary     *engine.Summary
	sessionCost float64
	runCost     float64 // finished sessions
	// sessStrategy is the strategy the session runs: the one asked for,
	// the route's once auto has chosen, the summary's at the end.
	sessStrategy config.Strategy
	lastPrompt   string
	// sessInfo is the session on screen as its session_started describes
	// it (as it was asked, until that event arrives or when a backend's
	// events do not say): the header draws it, never the next session's
	// strategy, tier or settings, which the prompt line shows apart.
	sessInfo engine.SessionInfo

	// The conversation (convo.go): its turns so far, whether the next
	// prompt continues it (C), and the turns the running session continues.
	convo     []engine.Turn
	cont      bool
	sessTurns []engine.Turn

	// The request settings (options.go): what the next session is asked
	// with, and the settings form's answers so far.
	settings    engine.Settings
	formPending engine.Settings

	auto    bool
	autoGen int

	autoPaused bool      // p: the result stays until p again
	autoNextAt time.Time // when the held result gives way to the next session

	ticking       bool
	healthPending bool
	lastHealth    time.Time

	status      string
	statusErr   bool
	statusUntil time.Time
	// actionModel is the model of the user's last chaos or breaker action;
	// its status is not overwritten by another model's news until
	// actionUntil.
	actionModel string
	actionUntil time.Time

	width, height int
	quitting      bool

	// The history (H): this run's finished sessions, the one running, the
	// selected row; restart: a replay's 0 is waiting for the running
	// session to end before it plays it again.
	past           []pastSession
	cur            *pastSession
	histSel        int
	restart        bool
	loadedRecorded bool
	opened         time.Time // when the dashboard opened: logs before it are earlier runs'

	// watch is the watch mode's state (council watch), nil otherwise.
	watch *watchState

	// sysClipboard writes the system clipboard (y's fallback to OSC 52).
	sysClipboard func(string) error

	// For the mouse: the last frame's lines, where each pane's box was,
	// and the row the panes start on.
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
		keys:       DefaultKeyMap(),
		byID:       map[string]*ModelPane{},
		excluded:   map[string]bool{},
		applied:    map[string]map[string]float64{},
		strategies: strategyCycle(false),
	}
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

// setTheme colours the dashboard with t, live: every area draws with the
// context's styles; the help and the prompt line keep copies.
func (m *Model) setTheme(t themes.Theme) {
	m.ctx.Theme, m.ctx.S = t, NewStyles(t)
	m.help.Styles.ShortKey = m.ctx.S.Accent
	m.help.Styles.ShortDesc = m.ctx.S.Subtle
	m.help.Styles.ShortSeparator = m.ctx.S.Muted
	m.help.Styles.FullKey = m.ctx.S.Accent
	m.help.Styles.FullDesc = m.ctx.S.Text
	m.help.Styles.Ellipsis = m.ctx.S.Muted
	in := newPromptInput(t, &m.ctx.S)
	m.input.SetStyles(in.Styles())
}

// themeNames are the themes T cycles through: the built-in ones, then none.
func themeNames() []string { return append(themes.Names(), "none") }

// nextTheme switches to the theme after the current one.
func (m *Model) nextTheme() {
	names := themeNames()
	cur := m.ctx.Theme.Name
	if m.ctx.Theme.NoColor {
		cur = "none"
	}
	next := names[(slices.Index(names, cur)+1)%len(names)]
	t, err := themes.Load(next)
	if err != nil {
		m.setStatus("theme: "+err.Error(), true)
		return
	}
	m.setTheme(t)
	m.setStatus("theme: "+next, false)
}

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

// readEvents blocks for the session's next event, then gathers whatever
// else arrives within the same frame into one batch, so the screen is
// redrawn at most once a frame however fast tokens stream.
func readEvents(ch <-chan engine.Event, gen int) tea.Cmd {
	return func() tea.Msg {
		issued := time.Now()
		ev, ok := <-ch
		if !ok {
			return eventsMsg{gen: gen, closed: true}
		}
		batch := []engine.Event{ev}
		wait := frameInterval - time.Since(issued)
		if wait <= 0 {
			for { // late in the frame already: take only what is ready
				select {
				case ev, ok := <-ch:
					if !ok {
						return eventsMsg{gen: gen, events: batch, closed: true}
					}
					batch = append(batch, ev)
				default:
					return eventsMsg{gen: gen, events: batch}
				}
			}
		}
		timer := time.NewTimer(wait)
		defer timer.Stop()
		for {
			select {
			case ev, ok := <-ch:
				if !ok {
					return eventsMsg{gen: gen, events: batch, closed: true}
				}
				batch = append(batch, ev)
			case <-timer.C:
				return eventsMsg{gen: gen, events: batch}
			}
		}
	}
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

// sessionPrompt is what r and auto-fire run: the prompt line, else the
// last prompt, else the built-in demo prompt.
func (m *Model) sessionPrompt() string {
	if p := strings.TrimSpace(m.input.Value()); p != "" {
		return p
	}
	if m.lastPrompt != "" {
		return m.lastPrompt
	}
	return demoPrompt
}

// request is the next session's request.
func (m *Model) request(prompt string) (engine.SessionRequest, error) {
	req := engine.SessionRequest{Prompt: prompt, Strategy: m.strategy, Tier: m.tier, Turns: m.turnsFor(),
		Settings: m.settings, MaxCostUSD: m.opts.MaxCostUSD}
	if info, ok := engine.LookupStrategy(m.strategy); ok && !info.PromptAlone {
		req.Document, req.DocumentName = m.opts.Document, m.opts.DocumentName
	}
	if len(m.opts.Models) > 0 && len(m.excluded) == 0 {
		req.Models = slices.Clone(m.opts.Models)
	}
	if len(m.excluded) > 0 {
		for _, p := range m.panes {
			if !m.excluded[p.ID] && slices.Contains(m.tierModels(m.tier), p.ID) {
				req.Models = append(req.Models, p.ID)
			}
		}
		if len(req.Models) == 0 {
			return req, errors.New("every model is toggled out: space on a pane brings it back")
		}
	}
	if m.cfg != nil {
		// What the engine would refuse before calling a model (a quorum
		// the models can never give), refused here without a round trip.
		return req, engine.Check(m.cfg, req)
	}
	return req, nil
}

// startSession starts a session; the backend call runs in a command.
func (m *Model) startSession(prompt string) tea.Cmd {
	if m.running {
		m.setStatus("a session is running: esc cancels it", true)
		return nil
	}
	req, err := m.request(prompt)
	if err != nil {
		m.setStatus(err.Error(), true)
		return nil
	}
	if len(m.history) == 0 || m.history[len(m.history)-1] != prompt {
		m.history = append(m.history, prompt)
	}
	m.histIdx = len(m.history)
	m.lastPrompt = prompt
	if strings.TrimSpace(m.input.Value()) == "" && m.mode != modePrompt {
		m.setPrompt(prompt) // r or auto-fire on an empty line: show what is asked
		m.input.CursorStart()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.gen++
	m.running, m.cancel = true, cancel
	m.sessionN++
	m.startWall, m.lastT = m.clock(), 0
	m.summary, m.sessionCost = nil, 0
	for _, p := range m.panes {
		p.Reset()
	}
	if m.sessTier != m.tier {
		m.sessTier = m.tier
		m.rebuildPanes() // t was pressed since the last session
	}
	m.sessTurns = req.Turns
	m.sessInfo = m.askedInfo(req)
	m.setTurns(req.Turns)
	if !m.userStatus() {
		m.status = "" // the last session's verdict is not this one's
	}
	m.route, m.sessStrategy = nil, m.strategy
	m.userFocus = false // the focus follows this session's answer until the user moves it
	if m.focus >= len(m.panes) && m.strategy != config.Council && m.strategy != config.Auto {
		m.setFocus(0) // the synthesis was focused; this session has none
	}
	m.ctx.Labels, m.ctx.AttemptModel = map[string]string{}, map[string]string{}
	m.synth.timeout = m.timeout()
	m.resetAreas()
	m.refreshZoom(true)
	m.cur = &pastSession{n: m.sessionN, req: req, header: record.NewHeader(m.cfg, req, m.board.health, m.opts.Version, m.clock())}
	b, gen := m.b, m.gen
	return func() tea.Msg {
		ch, err := b.Start(ctx, req)
		return startedMsg{gen: gen, ch: ch, err: err}
	}
}

func (m *Model) onStarted(msg startedMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	if msg.err != nil {
		m.running = false
		m.cancel()
		m.setStatus("cannot start: "+msg.err.Error(), true)
		return m.autoNext()
	}
	m.events = msg.ch
	m.describePlaying()
	return readEvents(msg.ch, msg.gen)
}

// cancelSession cancels the running session; its final events still
// arrive and are drawn.
func (m *Model) cancelSession() {
	if m.running && m.cancel != nil {
		m.cancel()
		m.setStatus("cancelling the session…", false)
	}
}

func (m *Model) onEvents(msg eventsMsg) tea.Cmd {
	if msg.gen != m.gen {
		return nil
	}
	for _, ev := range msg.events {
		m.apply(ev)
	}
	m.refreshZoom(false)
	if !msg.closed {
		return readEvents(m.events, m.gen)
	}
	m.running, m.events = false, nil
	m.cancel()
	if !isStepper(m.b) { // a replay spends nothing, however often it plays
		m.runCost += m.sessionCost
	}
	m.keep()
	if m.restart { // a replay's 0: play it again from the start
		m.restart = false
		return tea.Batch(m.healthCmd(), m.startSession(m.lastPrompt))
	}
	return tea.Batch(m.healthCmd(), m.autoNext())
}

// autoNext schedules the next auto-fired session.
func (m *Model) autoNext() tea.Cmd {
	if !m.auto || m.autoPaused {
		return nil
	}
	gen := m.autoGen
	m.autoNextAt = m.clock().Add(m.opts.AutoFireEvery)
	return tea.Tick(m.opts.AutoFireEvery, func(time.Time) tea.Msg { return autoFireMsg{gen: gen} })
}

// apply routes one event to the areas it concerns.
func (m *Model) apply(ev engine.Event) {
	m.lastT = max(m.lastT, ev.T)
	if m.cur != nil {
		m.cur.events = append(m.cur.events, ev)
	}
	if ev.Attempt != "" && ev.Model != "" && m.ctx.AttemptModel != nil {
		if _, ok := m.ctx.AttemptModel[ev.Attempt]; !ok {
			m.ctx.AttemptModel[ev.Attempt] = ev.Model
			if ev.Stage == engine.StageAnswers {
				m.ctx.Labels[ev.Attempt] = answerLabel(len(m.ctx.Labels))
			}
		}
	}
	switch ev.Type {
	case engine.SessionStarted:
		m.startWall = m.clock().Add(-ev.T)
		if in := detail(ev).Info; in != nil {
			m.describe(*in, ev.Text)
		}
	case engine.StageStarted:
		if s, ok := m.screenOf(ev.Stage); ok {
			m.sessStrategy = s
		}
	case engine.RouteChosen:
		if r := detail(ev).Route; r != nil {
			m.route = r
			if r.Strategy != "" {
				m.sessStrategy = r.Strategy
			}
			if r.Tier != "" && r.Tier != m.sessTier { // the route runs on its own tier
				m.sessTier = r.Tier
				m.synth.timeout = m.timeout()
				for _, p := range m.panes {
					p.timeout = m.timeout()
				}
			}
			m.setStatus(routeText(r), false)
		}
	case engine.AttemptDone, engine.AttemptFailed, engine.AttemptCancelled:
		m.sessionCost += ev.Cost
	case engine.Decided:
		defer m.focusDecided(ev) // once the panes know the winner
	case engine.HedgeFired:
		for _, p := range m.panes {
			p.Apply(ev)
		}
	case engine.BreakerChanged:
		if m.userStatus() && ev.Model != m.actionModel {
			break // the board shows it; the status answers the user's key
		}
		m.setStatus(fmt.Sprintf("%s breaker %s → %s", ev.Model, ev.From, ev.To), ev.To == engine.BreakerOpen)
	case engine.SessionDone:
		if s := ev.Summary; s != nil {
			m.summary = s
			if s.Strategy != "" {
				m.sessStrategy = s.Strategy
			}
			if s.Route != nil {
				m.route = s.Route
			}
			if s.CostUSD > 0 {
				m.sessionCost = s.CostUSD
			}
			if m.cur != nil && !isStepper(m.b) {
				m.endTurn(m.sessTurns, m.cur.req.Prompt, s)
			}
			if m.watch == nil || !m.userStatus() { // watching, the user's last key keeps its answer
				m.setStatus(doneText(s), s.Status == engine.StatusFailed)
			}
		}
	}
	if ev.Model != "" && ev.Type != engine.HedgeFired {
		m.pane(ev.Model).Apply(ev)
	}
	for _, a := range m.areas {
		a.Apply(ev)
	}
}

// askedInfo describes a session as req asks it, the config's defaults
// filled in: the header's until the session's own session_started says.
func (m *Model) askedInfo(req engine.SessionRequest) engine.SessionInfo {
	in := engine.SessionInfo{Strategy: req.Strategy, Tier: req.Tier, Models: req.Models, Settings: req.Settings,
		CostCapUSD: req.MaxCostUSD, Turn: len(req.Turns) + 1, Input: req.DocumentName}
	if in.Strategy == "" {
		in.Strategy = m.cfg.DefaultStrategy
	}
	if in.Tier == "" {
		in.Tier = m.cfg.DefaultTier
	}
	if len(in.Models) == 0 {
		in.Models = m.tierModels(in.Tier)
	}
	if in.CostCapUSD == 0 {
		in.CostCapUSD = m.cfg.MaxCostUSD
	}
	return in
}

// describe takes the session on screen as its session_started describes
// it: its strategy, tier (and the panes' scale), settings, turn and
// prompt, in the header, the panes, the prompt line and the history.
func (m *Model) describe(in engine.SessionInfo, prompt string) {
	m.sessInfo = in
	if in.Strategy != "" {
		m.sessStrategy = in.Strategy
	}
	if in.Tier != "" && in.Tier != m.sessTier {
		m.sessTier = in.Tier
		if m.watch == nil { // watching, the panes are the session's models, not a local tier's
			m.rebuildPanes()
		}
		m.synth.timeout = m.timeout()
	}
	if m.watch != nil {
		for _, id := range in.Models { // its session message may have been missed
			m.pane(id)
		}
	}
	for _, p := range m.panes {
		p.turn = max(in.Turn, 1)
		if p.turn == 1 {
			p.earlier = nil
		}
	}
	if prompt == "" {
		return
	}
	if m.cur != nil { // a replay's request was the dashboard's, not the session's
		r := &m.cur.req
		r.Prompt, r.Strategy, r.Tier, r.Models, r.Settings, r.MaxCostUSD = prompt, in.Strategy, in.Tier, in.Models, in.Settings, in.CostCapUSD
		m.cur.header.Prompt, m.cur.header.Strategy, m.cur.header.Tier = prompt, string(in.Strategy), in.Tier
	}
	if m.mode != modePrompt { // never under the user's typing
		m.setPrompt(prompt)
		m.input.CursorStart()
	}
}

// setTurns sets the panes' conversation: the turns the session on screen
// continued.
func (m *Model) setTurns(turns []engine.Turn) {
	followUp := ""
	if m.cfg != nil {
		followUp = m.cfg.FollowUp
	}
	for _, p := range m.panes {
		p.turn, p.earlier = len(turns)+1, nil
		for _, t := range turns {
			p.earlier = append(p.earlier, earlierTurn{prompt: t.Prompt, reply: t.ReplyOf(p.ID, followUp)})
		}
	}
}

// shownStrategy is the strategy of the session on screen (the one it
// asked for: auto stays auto), or before any session the next one's.
func (m *Model) shownStrategy() config.Strategy {
	if m.sessionN == 0 || m.sessInfo.Strategy == "" {
		return m.strategy
	}
	return m.sessInfo.Strategy
}

// shownSettings are the settings of the session on screen, or before any
// session the next one's.
func (m *Model) shownSettings() engine.Settings {
	if m.sessionN == 0 {
		return m.settings
	}
	return m.sessInfo.Settings
}

// sectioning reports whether the screen is the section strategy's: the
// session runs one, or before any session, section is the strategy chosen.
func (m *Model) sectioning() bool {
	if m.sessionN == 0 {
		return m.strategy == config.Section
	}
	return m.sessStrategy == config.Section || m.sections.Active()
}

// council reports whether the screen is the council's: the session runs
// one, or before any session, council is the strategy chosen.
func (m *Model) council() bool {
	if m.sectioning() {
		return false
	}
	if m.sessionN == 0 {
		return m.strategy == config.Council
	}
	return m.sessStrategy == config.Council || m.stages.Active()
}

// routeText is the router's choice in a few words: "auto → code (race) 0.82".
func routeText(r *engine.Route) string {
	t := "auto → " + r.Name
	if r.Strategy != "" {
		t += " (" + string(r.Strategy) + ")"
	}
	return t + fmt.Sprintf(" %.2f", r.Confidence)
}

// doneText sums a finished session up in one line.
func doneText(s *engine.Summary) string {
	switch s.Status {
	case engine.StatusCancelled:
		return "■ cancelled"
	case engine.StatusFailed:
		if s.Error != "" {
			return "✗ failed: " + s.Error
		}
		return "✗ failed"
	}
	t := "✓ " + string(s.Status)
	switch {
	case s.Chairman != "":
		t += ": synthesis by " + s.Chairman
	case s.Winner != "":
		t += ": " + s.Winner + " won"
	case s.Answer != "" && len(s.Votes) > 0:
		t += ": " + s.Answer
	}
	if s.Route != nil {
		t += " (auto → " + s.Route.Name + ")"
	}
	return t + " in " + fmtDur(s.Elapsed)
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
	return keyState{
		mode: md, running: m.running, canRun: true, sim: sim, watching: m.watch != nil, admin: m.watch != nil && m.watch.src.Admin(),
		hasModels: len(m.panes) > 0, onModel: p != nil && !m.synthFocused(), chaos: chaos, auto: m.auto, past: len(m.past) > 0 || m.opts.HistoryDir != "",
		replay: isStepper(m.b), tooSmall: m.tooSmall(), sections: m.sectioning(),
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
