package record

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
	"github.com/council-dev/council/providers"
)

// ErrReadOnly is what a [Player] answers to forcing a breaker or tuning a
// model: a replay shows what happened, it changes nothing.
var ErrReadOnly = errors.New("a replay is read-only")

// Player plays recorded sessions back as the dashboard's backend, in place
// of an engine: the same panes, timeline, votes, rankings and breaker
// board draw them. Each Start plays the next recorded session at its
// recorded pace divided by the speed; the breaker board shows each
// session's health snapshot, moved on by the breaker changes it replays.
type Player struct {
	sessions []Session
	cfg      *config.Config
	speed    float64
	clock    providers.Clock
	name     string // the log's, for the dashboard's header

	mu     sync.Mutex
	next   int
	health []engine.ModelHealth
	// paused holds the playback; steps are events released one at a time
	// while paused (n); resumed wakes a paused playback.
	paused  bool
	stepped bool // n was pressed since the pause
	steps   chan struct{}
	resumed chan struct{}
}

// NewPlayer returns a player of sessions at speed (1: as recorded; 10:
// ten times faster). The config comes from the first session's header.
func NewPlayer(sessions []Session, speed float64) (*Player, error) {
	if len(sessions) == 0 {
		return nil, errors.New("the log holds no session")
	}
	if !(speed > 0) {
		speed = 1
	}
	cfg, err := sessions[0].Header.ConfigOf()
	if err != nil {
		return nil, fmt.Errorf("the recorded config: %w", err)
	}
	return &Player{sessions: sessions, cfg: cfg, speed: speed, clock: providers.RealClock,
		health: sessions[0].Header.Health, steps: make(chan struct{}, 1), resumed: make(chan struct{}, 1)}, nil
}

// TogglePause pauses the playback, or resumes it at its recorded pace from
// where it stands; it reports whether it is now paused.
func (p *Player) TogglePause() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.paused, p.stepped = !p.paused, false
	if !p.paused {
		select {
		case p.resumed <- struct{}{}:
		default:
		}
	}
	return p.paused
}

// Paused reports whether the playback is paused.
func (p *Player) Paused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.paused
}

// Step releases the next event of a paused playback (pausing it first).
func (p *Player) Step() {
	p.mu.Lock()
	p.paused, p.stepped = true, true
	p.mu.Unlock()
	select {
	case p.steps <- struct{}{}:
	default:
	}
}

// Rewind makes the next Start play the session just played again, from
// its start.
func (p *Player) Rewind() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next > 0 {
		p.next--
	}
}

// Playing is what a [Player] plays, as the dashboard's header says it:
// "replay s.jsonl · 10× · 2 of 3".
type Playing struct {
	Name              string  // the log's file name
	Speed             float64 // times faster than recorded
	Session, Sessions int     // the session playing (from 1), of how many
	Paused            bool
	// Stepped: paused, and n has released an event since.
	Stepped bool
	// Strategy, Tier and Prompt are the playing session's, as its log
	// header recorded them: what it is before its first event is played.
	Strategy, Tier, Prompt string
}

// SetName names the log played (its path; the header shows its base).
func (p *Player) SetName(name string) { p.name = name }

// Playing says what is played: the log, the speed, which session of how
// many, paused or stepping.
func (p *Player) Playing() Playing {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.sessions)
	cur := 1
	if p.next > 0 {
		cur = (p.next-1)%n + 1
	}
	h := p.sessions[cur-1].Header
	return Playing{Name: p.name, Speed: p.speed, Session: cur, Sessions: n, Paused: p.paused, Stepped: p.paused && p.stepped,
		Strategy: h.Strategy, Tier: h.Tier, Prompt: h.Prompt}
}

// SetClock makes the player wait on c (tests use a virtual clock).
func (p *Player) SetClock(c providers.Clock) { p.clock = c }

// Sessions is how many sessions the log holds.
func (p *Player) Sessions() int { return len(p.sessions) }

// Prompt is the prompt of the session the next Start plays.
func (p *Player) Prompt() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sessions[p.next%len(p.sessions)].Header.Prompt
}

// Start plays the next recorded session (after the last, the first
// again); req is ignored. Cancelling ctx stops the playback: the channel
// is closed at once.
func (p *Player) Start(ctx context.Context, _ engine.SessionRequest) (<-chan engine.Event, error) {
	p.mu.Lock()
	s := p.sessions[p.next%len(p.sessions)]
	p.next++
	p.health = cloneHealth(s.Header.Health)
	p.mu.Unlock()
	ch := make(chan engine.Event)
	go p.play(ctx, s, ch)
	return ch, nil
}

func (p *Player) play(ctx context.Context, s Session, ch chan<- engine.Event) {
	defer close(ch)
	start := p.clock.Now()
	for _, ev := range s.Events {
		due := time.Duration(float64(ev.T) / p.speed)
		if p.Paused() {
			select { // one event per step, or all once resumed
			case <-p.steps:
			case <-p.resumed:
			case <-ctx.Done():
				return
			}
			start = p.clock.Now().Add(-due) // the pace goes on from here
		} else if wait := due - p.clock.Since(start); wait > 0 {
			t := p.clock.NewTimer(wait)
			select {
			case <-t.C():
			case <-p.steps: // paused and stepped meanwhile
				t.Stop()
				start = p.clock.Now().Add(-due)
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		switch {
		case ev.Type == engine.BreakerChanged:
			p.moveBreaker(ev.Model, ev.To)
		case ev.Type == engine.SessionDone && s.EndHealth != nil:
			p.mu.Lock()
			p.health = cloneHealth(s.EndHealth)
			p.mu.Unlock()
		case ev.Type == engine.SessionDone && ev.Summary != nil:
			p.settle(ev.Summary.Breakers)
		}
		select {
		case ch <- ev:
		case <-ctx.Done():
			return
		}
	}
}

func (p *Player) moveBreaker(model string, to engine.BreakerState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.health {
		if p.health[i].ID == model {
			p.health[i].Breaker.State = to
		}
	}
}

// settle takes the breakers as the session left them (its summary's).
func (p *Player) settle(breakers map[string]engine.BreakerSnapshot) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.health {
		if b, ok := breakers[p.health[i].ID]; ok {
			p.health[i].Breaker = b
		}
	}
}

// Health is the breaker board as the session being played saw it.
func (p *Player) Health() []engine.ModelHealth {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneHealth(p.health)
}

// ForceBreaker refuses: a replay is read-only.
func (p *Player) ForceBreaker(string, engine.Force) error { return ErrReadOnly }

// ResetBreaker refuses: a replay is read-only.
func (p *Player) ResetBreaker(string) (engine.BreakerState, error) { return 0, ErrReadOnly }

// Tune refuses: a replay is read-only.
func (p *Player) Tune(string, string, float64) (float64, error) { return 0, ErrReadOnly }

// Config is the recording council's configuration.
func (p *Player) Config() *config.Config { return p.cfg }

func cloneHealth(h []engine.ModelHealth) []engine.ModelHealth {
	return append([]engine.ModelHealth(nil), h...)
}
