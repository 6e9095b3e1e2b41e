package bench

import (
	"encoding/csv"
	"io"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/council-dev/council/engine"
	"github.com/council-dev/council/engine/config"
)

// Report is a bench's result, the `council bench --json` object.
type Report struct {
	Seed int64 `json:"seed"`
	// Sessions is how many sessions each strategy (or each concurrency of
	// a sweep) was asked to run.
	Sessions int `json:"sessions"`
	// Clock is "virtual" when every model was simulated, else "real".
	Clock string `json:"clock"`
	// Partial is true when the bench was stopped before the end: the
	// numbers describe the sessions that ended.
	Partial bool `json:"partial"`
	// Stopped says why a bench ended before its end other than a cancel
	// (a spending cap reached); empty when it did not.
	Stopped    string     `json:"stopped,omitempty"`
	Strategies []Strategy `json:"strategies"`
	Sweep      *Sweep     `json:"sweep,omitempty"`
}

// note records how a batch ran: its clock, and whether it was cut short.
func (r *Report) note(res *result) {
	if res.virtual {
		r.Clock = "virtual"
	}
	if res.partial {
		r.Partial = true
	}
	if res.stopped != "" {
		r.Stopped = res.stopped
	}
}

// Strategy is one strategy's measurements.
type Strategy struct {
	Strategy  string `json:"strategy"`
	Sessions  int    `json:"sessions"`
	Successes int    `json:"successes"` // decided or degraded
	Degraded  int    `json:"degraded"`
	Failed    int    `json:"failed"`
	Cancelled int    `json:"cancelled"`
	// FailureRate is the share of sessions that ended without an answer
	// (failed or cancelled), beside the latencies that count them.
	FailureRate float64 `json:"failure_rate"`
	// Latency of every session, milliseconds (nearest rank): a session
	// that failed counts at the time it ended, so that a strategy that
	// fails more is not flattered by leaving its slowest sessions out.
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	P99MS  float64 `json:"p99_ms"`
	MeanMS float64 `json:"mean_ms"`
	// Time to the session's first answer token, successful sessions.
	TTFTP50MS float64 `json:"ttft_p50_ms"`
	TTFTP95MS float64 `json:"ttft_p95_ms"`
	// ExtraRequests is the fraction of sessions that fired calls beyond
	// the one that answered: a hedge, or stragglers cancelled.
	ExtraRequests float64 `json:"extra_requests"`
	// HedgesFired counts the sessions whose backup was launched, those
	// where it replaced the primary included (Hedge.Replaced).
	HedgesFired int `json:"hedges_fired"`
	// Attempts counts every call made; CancelledAttempts those cancelled.
	Attempts          int     `json:"attempts"`
	CancelledAttempts int     `json:"cancelled_attempts"`
	InputTokens       int     `json:"input_tokens"`
	OutputTokens      int     `json:"output_tokens"`
	CostUSD           float64 `json:"cost_usd"`
	// WastedCostUSD is what cancelled and failed attempts burnt.
	WastedCostUSD float64 `json:"wasted_cost_usd"`
	BreakerTrips  int     `json:"breaker_trips"`
	// ElapsedS is how long the batch took on its clock, seconds.
	ElapsedS float64 `json:"elapsed_s"`
	// Consensus, when every voter is simulated with `answers`: the share
	// of sessions decided on the right answer (the voters' most probable
	// one) and the mean number of votes cast before the decision.
	RightAnswer string   `json:"right_answer,omitempty"`
	Accuracy    *float64 `json:"accuracy,omitempty"`
	MeanVotes   *float64 `json:"mean_votes,omitempty"`
	Models      []Model  `json:"models"`
	// Hedge is what the hedge read from its primary's latencies at the
	// end of the batch (strategy hedge only).
	Hedge *Hedge `json:"hedge,omitempty"`

	latencies []float64 // sorted, ms, every session: for the charts
}

// Hedge is a hedge's primary as its latency window showed it at the end
// of the batch, and what that asks of max_extra.
type Hedge struct {
	Primary string `json:"primary"`
	Samples int    `json:"samples"`
	// KneeMS is the fast mode's slowest call, when the primary has a slow
	// mode (null when it has none); SlowShare the share of its calls
	// beyond it.
	KneeMS    *float64 `json:"knee_ms"`
	SlowShare float64  `json:"slow_share"`
	// DelayMS is the delay the hedge had come to.
	DelayMS float64 `json:"delay_ms"`
	// MaxExtra is the hedge budget the batch ran with; NeedsMaxExtra the
	// one that lets every slow call of the primary hedge at the knee (the
	// slow share with room for its swings, see [engine.HedgeTail]; 0
	// without a slow mode).
	MaxExtra      float64 `json:"max_extra"`
	NeedsMaxExtra float64 `json:"needs_max_extra"`
	// Replace is hedge.replace as the batch ran; Replaced counts the
	// sessions whose primary the hedge cancelled at the knee, max_extra
	// being spent, and whose backup it asked in its place (counted in
	// hedges_fired and extra_requests too: a request made).
	Replace  bool `json:"replace"`
	Replaced int  `json:"replaced"`
}

// hedgeOf reports t for a batch run with the hedge settings h.
func hedgeOf(t *engine.HedgeTail, hc config.HedgeConfig) *Hedge {
	if t == nil {
		return nil
	}
	h := &Hedge{Primary: t.Model, Samples: t.Samples, SlowShare: round3(t.SlowShare),
		DelayMS: round3(float64(t.Delay) / float64(time.Millisecond)), MaxExtra: hc.MaxExtra, Replace: hc.Replace}
	if t.Knee > 0 {
		k := round3(float64(t.Knee) / float64(time.Millisecond))
		h.KneeMS = &k
		h.NeedsMaxExtra = t.NeedsMaxExtra
	}
	return h
}

// Model is one model's calls within a strategy.
type Model struct {
	ID        string `json:"id"`
	Calls     int    `json:"calls"`
	Won       int    `json:"won"`
	Done      int    `json:"done"`
	Failed    int    `json:"failed"`
	Cancelled int    `json:"cancelled"`
	Skipped   int    `json:"skipped"`
	// Latency of its completed calls, milliseconds; null when none
	// completed (a model cancelled every time has no latency to give).
	P50MS         *float64 `json:"p50_ms"`
	P95MS         *float64 `json:"p95_ms"`
	P99MS         *float64 `json:"p99_ms"`
	TTFTP50MS     *float64 `json:"ttft_p50_ms"`
	CostUSD       float64  `json:"cost_usd"`
	WastedCostUSD float64  `json:"wasted_cost_usd"`

	lat, ttft []float64
}

func newReport(w *Workload) *Report {
	return &Report{Seed: w.Seed, Sessions: w.Sessions, Clock: "real", Strategies: []Strategy{}}
}

// quantileOf is quantile rounded, or nil when xs is empty.
func quantileOf(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	q := round3(engine.Quantile(xs, p))
	return &q
}

// round3 keeps JSON numbers short and stable.
func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// summarise turns a batch's samples into a [Strategy].
func summarise(w *Workload, name string, res *result) Strategy {
	st := Strategy{Strategy: name, Sessions: len(res.samples), ElapsedS: round3(res.elapsed.Seconds()),
		Hedge: hedgeOf(res.tail, w.Config.Hedge)}
	var lat, ttft []float64
	models := map[string]*Model{}
	right := rightAnswer(w)
	var correct, votes, decided int
	extra := 0
	for _, s := range res.samples {
		sum := s.sum
		lat = append(lat, sum.ElapsedMS)
		switch sum.Status {
		case engine.StatusDecided, engine.StatusDegraded:
			st.Successes++
			if sum.Status == engine.StatusDegraded {
				st.Degraded++
			}
		case engine.StatusFailed:
			st.Failed++
		case engine.StatusCancelled:
			st.Cancelled++
		}
		if sum.HedgeFired {
			st.HedgesFired++
		}
		if sum.HedgeReplaced && st.Hedge != nil {
			st.Hedge.Replaced++
		}
		st.BreakerTrips += s.trips
		st.CostUSD += sum.CostUSD
		first := math.Inf(1)
		fired := sum.HedgeFired
		for _, r := range sum.Models {
			m := models[r.ID]
			if m == nil {
				m = &Model{ID: r.ID}
				models[r.ID] = m
			}
			switch r.Status {
			case engine.AttemptSkippedStatus:
				m.Skipped++
				continue
			case engine.AttemptWon:
				m.Won++
			case engine.AttemptDoneStatus:
				m.Done++
			case engine.AttemptFailedStatus, engine.AttemptTimeout:
				m.Failed++
				m.WastedCostUSD += r.CostUSD
				st.WastedCostUSD += r.CostUSD
			case engine.AttemptCancelledStatus:
				m.Cancelled++
				st.CancelledAttempts++
				m.WastedCostUSD += r.CostUSD
				st.WastedCostUSD += r.CostUSD
				switch engine.Reason(r.Reason) {
				case engine.ReasonLostRace, engine.ReasonDecided, engine.ReasonHedgeWon, engine.ReasonPrimaryWon, engine.ReasonReplaced:
					fired = true
				}
			}
			m.Calls++
			st.Attempts++
			st.InputTokens += r.InputTokens
			st.OutputTokens += r.OutputTokens
			m.CostUSD += r.CostUSD
			if r.Status == engine.AttemptWon || r.Status == engine.AttemptDoneStatus {
				m.lat = append(m.lat, r.ElapsedMS) // a row's elapsed is its own
				if r.FirstTokenMS > 0 {
					m.ttft = append(m.ttft, r.FirstTokenMS-r.StartedMS)
				}
			}
			if r.FirstTokenMS > 0 && r.FirstTokenMS < first {
				first = r.FirstTokenMS
			}
		}
		if fired {
			extra++
		}
		if (sum.Status == engine.StatusDecided || sum.Status == engine.StatusDegraded) && !math.IsInf(first, 1) {
			ttft = append(ttft, first)
		}
		if sum.Strategy == config.Consensus {
			if s.decidedV {
				decided++
				votes += s.votes
			}
			if right != "" && sum.Answer == right && st.statusOK(sum) {
				correct++
			}
		}
	}
	slices.Sort(lat)
	slices.Sort(ttft)
	st.latencies = lat
	st.P50MS, st.P95MS, st.P99MS = round3(engine.Quantile(lat, .50)), round3(engine.Quantile(lat, .95)), round3(engine.Quantile(lat, .99))
	if len(lat) > 0 {
		var total float64
		for _, x := range lat {
			total += x
		}
		st.MeanMS = round3(total / float64(len(lat)))
	}
	st.TTFTP50MS, st.TTFTP95MS = round3(engine.Quantile(ttft, .50)), round3(engine.Quantile(ttft, .95))
	if st.Sessions > 0 {
		st.ExtraRequests = round3(float64(extra) / float64(st.Sessions))
		st.FailureRate = round3(float64(st.Failed+st.Cancelled) / float64(st.Sessions))
	}
	st.CostUSD, st.WastedCostUSD = roundCost(st.CostUSD), roundCost(st.WastedCostUSD)
	if name == string(config.Consensus) && st.Sessions > 0 {
		if right != "" {
			a := round3(float64(correct) / float64(st.Sessions))
			st.Accuracy, st.RightAnswer = &a, right
		}
		if decided > 0 {
			mv := round3(float64(votes) / float64(decided))
			st.MeanVotes = &mv
		}
	}
	for _, id := range slices.Sorted(maps.Keys(models)) {
		m := models[id]
		slices.Sort(m.lat)
		slices.Sort(m.ttft)
		m.P50MS, m.P95MS, m.P99MS = quantileOf(m.lat, .50), quantileOf(m.lat, .95), quantileOf(m.lat, .99)
		m.TTFTP50MS = quantileOf(m.ttft, .50)
		m.CostUSD, m.WastedCostUSD = roundCost(m.CostUSD), roundCost(m.WastedCostUSD)
		st.Models = append(st.Models, *m)
	}
	if st.Models == nil {
		st.Models = []Model{}
	}
	return st
}

func (*Strategy) statusOK(sum *engine.Summary) bool {
	return sum.Status == engine.StatusDecided || sum.Status == engine.StatusDegraded
}

// roundCost keeps a dollar amount to a billionth: sums of float costs
// otherwise differ in their last digits with the order they were added.
func roundCost(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// rightAnswer is the category the workload's voters most probably give,
// summing their simulated `answers` weights (each normalised); "" when a
// voter has none (its answer then depends on the prompt: no known truth).
func rightAnswer(w *Workload) string {
	weights := map[string]float64{}
	for _, id := range w.models() {
		mc, ok := w.Config.Model(id)
		if !ok || mc.Sim == nil || len(mc.Sim.Answers) == 0 {
			return ""
		}
		var total float64
		for _, v := range mc.Sim.Answers {
			total += v
		}
		for k, v := range mc.Sim.Answers {
			weights[engine.Normalize(k)] += v / total
		}
	}
	keys := slices.Sorted(maps.Keys(weights))
	sort.SliceStable(keys, func(i, j int) bool { return weights[keys[i]] > weights[keys[j]] })
	if len(keys) == 0 {
		return ""
	}
	return keys[0]
}

// WriteCSV writes the report as CSV: one row per strategy (model empty)
// and one per strategy and model; or, for a sweep, one row per
// concurrency.
func (r *Report) WriteCSV(out io.Writer) error {
	w := csv.NewWriter(out)
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	i := strconv.Itoa
	if r.Sweep != nil {
		w.Write([]string{"strategy", "concurrency", "sessions", "throughput_per_s", "p50_ms", "p95_ms", "p99_ms", "ceiling"})
		for _, p := range r.Sweep.Points {
			w.Write([]string{r.Sweep.Strategy, i(p.Concurrency), i(p.Sessions), f(p.Throughput), f(p.P50MS), f(p.P95MS), f(p.P99MS),
				strconv.FormatBool(p.Concurrency == r.Sweep.Ceiling)})
		}
		w.Flush()
		return w.Error()
	}
	opt := func(p *float64) string {
		if p == nil {
			return ""
		}
		return f(*p)
	}
	w.Write([]string{"strategy", "model", "sessions", "successes", "degraded", "failed", "p50_ms", "p95_ms", "p99_ms",
		"ttft_p50_ms", "extra_requests", "attempts", "cancelled_attempts", "cost_usd", "wasted_cost_usd", "breaker_trips",
		"accuracy", "mean_votes"})
	for _, s := range r.Strategies {
		w.Write([]string{s.Strategy, "", i(s.Sessions), i(s.Successes), i(s.Degraded), i(s.Failed), f(s.P50MS), f(s.P95MS),
			f(s.P99MS), f(s.TTFTP50MS), f(s.ExtraRequests), i(s.Attempts), i(s.CancelledAttempts), f(s.CostUSD),
			f(s.WastedCostUSD), i(s.BreakerTrips), opt(s.Accuracy), opt(s.MeanVotes)})
		for _, m := range s.Models {
			w.Write([]string{s.Strategy, m.ID, i(m.Calls), i(m.Won + m.Done), "", i(m.Failed), opt(m.P50MS), opt(m.P95MS),
				opt(m.P99MS), opt(m.TTFTP50MS), "", i(m.Calls), i(m.Cancelled), f(m.CostUSD), f(m.WastedCostUSD), "", "", ""})
		}
	}
	w.Flush()
	return w.Error()
}

// msOr formats *x as ms does, or "-" when there is no figure.
func msOr(x *float64) string {
	if x == nil {
		return "-"
	}
	return ms(*x)
}

// ms formats milliseconds for a table: "812ms", "1.52s".
func ms(x float64) string {
	d := time.Duration(x * float64(time.Millisecond))
	if d < time.Second {
		return strconv.FormatFloat(x, 'f', 0, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}
