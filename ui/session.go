package ui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/engine/record"
)

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
	m.summary, m.sessionCost, m.heard = nil, 0, false
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

// markIdle says which idle panes the session does not use, from its first
// event or its end: a session_started that lists its models leaves theirs
// ready (to be called, one event at a time in a stepped replay); any other
// first event, or the end, marks every idle pane not in this session.
func (m *Model) markIdle(ev engine.Event) {
	var models []string
	if in := detail(ev).Info; ev.Type == engine.SessionStarted && in != nil {
		models = in.Models
	}
	for _, p := range m.panes {
		p.a.inSession = len(models) == 0 || !slices.Contains(models, p.ID)
	}
}

// apply routes one event to the areas it concerns.
func (m *Model) apply(ev engine.Event) {
	m.lastT = max(m.lastT, ev.T)
	if !m.heard || ev.Type == engine.SessionDone {
		m.heard = true
		m.markIdle(ev)
	}
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
			m.onRoute(r)
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
			m.onSummary(s)
		}
	}
	if ev.Model != "" && ev.Type != engine.HedgeFired {
		m.pane(ev.Model).Apply(ev)
	}
	for _, a := range m.areas {
		a.Apply(ev)
	}
}

// onRoute takes the router's choice: the session's strategy and, when the
// route runs on its own tier, the panes' scale.
func (m *Model) onRoute(r *engine.Route) {
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

// onSummary takes the session's summary: its strategy, route and cost as
// it ended, the conversation's turn, the verdict in the status.
func (m *Model) onSummary(s *engine.Summary) {
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
		for _, p := range m.panes { // watching, panes outlive a tier: rescale them to this one
			p.timeout = m.timeout()
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

// togglePause pauses auto-fire's hold, or resumes it.
func (m *Model) togglePause() tea.Cmd {
	if !m.auto {
		m.setStatus("auto-fire is off: a starts it", false)
		return nil
	}
	m.autoPaused = !m.autoPaused
	m.autoGen++ // a pending tick is void
	if m.autoPaused {
		m.setStatus("auto-fire paused: p resumes", false)
		return nil
	}
	m.setStatus(fmt.Sprintf("auto-fire resumed: next session in %s", fmtDur(m.opts.AutoFireEvery)), false)
	if !m.running {
		return m.autoNext()
	}
	return nil
}

// toggleAuto turns auto-fire on (starting a session unless one runs) or off.
func (m *Model) toggleAuto() tea.Cmd {
	m.auto, m.autoPaused = !m.auto, false
	m.autoGen++
	if !m.auto {
		m.setStatus("auto-fire off", false)
		return nil
	}
	m.setStatus(fmt.Sprintf("auto-fire on: a session every %s", fmtDur(m.opts.AutoFireEvery)), false)
	if !m.running {
		return m.startSession(m.sessionPrompt())
	}
	return nil
}
