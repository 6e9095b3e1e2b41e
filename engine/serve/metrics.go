package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/council-dev/council/engine"
)

// metrics are the server's Prometheus metrics, on a registry of its own
// (two servers in one process, as in tests, do not collide).
type metrics struct {
	reg        *prometheus.Registry
	handler    http.Handler
	requests   *prometheus.CounterVec   // path, code
	sessions   *prometheus.CounterVec   // strategy, status
	duration   *prometheus.HistogramVec // strategy: a chat completion, start to answer
	attempts   *prometheus.HistogramVec // model: an attempt that answered, start to end
	ttft       *prometheus.HistogramVec // model
	hedges     prometheus.Counter
	cancels    *prometheus.CounterVec // reason
	cost       *prometheus.CounterVec // model
	inFlight   prometheus.Gauge
	sseSubs    prometheus.Gauge
	sseDropped prometheus.Counter
	overloaded prometheus.Counter
}

func newMetrics(s *Server) *metrics {
	reg := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{reg: reg}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "council_http_requests_total",
		Help: "HTTP requests by endpoint and status code."}, []string{"path", "code"})
	m.sessions = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "council_sessions_total",
		Help: "Sessions by strategy and final status."}, []string{"strategy", "status"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "council_request_duration_seconds",
		Help: "Chat completion latency by strategy, request to answer.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)},
		[]string{"strategy"})
	m.attempts = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "council_model_latency_seconds",
		Help: "Latency of each model's answered calls.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}, []string{"model"})
	m.ttft = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "council_model_ttft_seconds",
		Help: "Time to first token of each model's answered calls.", Buckets: prometheus.ExponentialBuckets(0.01, 2, 14)}, []string{"model"})
	m.hedges = prometheus.NewCounter(prometheus.CounterOpts{Name: "council_hedges_fired_total", Help: "Hedge backups fired."})
	m.cancels = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "council_cancellations_total",
		Help: "Attempts cancelled, by reason (lost_race, decided, user, shutdown...)."}, []string{"reason"})
	m.cost = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "council_cost_usd_total",
		Help: "Cost in USD by model."}, []string{"model"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "council_sessions_in_flight", Help: "Sessions running."})
	m.sseSubs = prometheus.NewGauge(prometheus.GaugeOpts{Name: "council_event_subscribers", Help: "Event-stream clients connected."})
	m.sseDropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "council_event_subscribers_dropped_total",
		Help: "Event-stream clients dropped because they fell behind."})
	m.overloaded = prometheus.NewCounter(prometheus.CounterOpts{Name: "council_overloaded_total",
		Help: "Chat completions refused because max_sessions were in flight and the queue was full or too slow."})
	for _, c := range []prometheus.Collector{m.requests, m.sessions, m.duration, m.attempts, m.ttft, m.hedges, m.cancels,
		m.cost, m.inFlight, m.sseSubs, m.sseDropped, m.overloaded, breakerCollector{s},
		// The Go runtime's (goroutines, heap, GC) and the process's (CPU,
		// resident memory, open files) own metrics.
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	if s.eng.Shared() != nil {
		f(sharedGauge(s))
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// request counts one HTTP request.
func (m *metrics) request(r *http.Request, code int) {
	path := r.Pattern
	if path == "" {
		path = "other"
	}
	m.requests.WithLabelValues(path, strconv.Itoa(code)).Inc()
}

// event counts what an engine event says.
func (m *metrics) event(ev engine.Event) {
	switch ev.Type {
	case engine.HedgeFired:
		m.hedges.Inc()
	case engine.AttemptCancelled:
		m.cancels.WithLabelValues(string(ev.Reason)).Inc()
	}
}

// session records a finished session.
func (m *metrics) session(sum *engine.Summary, took time.Duration) {
	m.sessions.WithLabelValues(string(sum.Strategy), string(sum.Status)).Inc()
	m.duration.WithLabelValues(string(sum.Strategy)).Observe(took.Seconds())
	for _, r := range sum.Models {
		if r.CostUSD > 0 {
			m.cost.WithLabelValues(r.ID).Add(r.CostUSD)
		}
		if r.Status == engine.AttemptWon || r.Status == engine.AttemptDoneStatus {
			m.attempts.WithLabelValues(r.ID).Observe(r.ElapsedMS / 1000)
			if r.FirstTokenMS > 0 {
				m.ttft.WithLabelValues(r.ID).Observe((r.FirstTokenMS - r.StartedMS) / 1000)
			}
		}
	}
}

// breakerCollector reads every breaker at scrape time: state (0 closed,
// 1 half-open, 2 open), failure rate and forced.
type breakerCollector struct{ s *Server }

var (
	breakerStateDesc = prometheus.NewDesc("council_breaker_state",
		"Circuit breaker state per model: 0 closed, 1 half-open, 2 open.", []string{"model"}, nil)
	breakerRateDesc = prometheus.NewDesc("council_breaker_failure_rate",
		"Failure rate over the breaker's window per model.", []string{"model"}, nil)
	modelRunningDesc = prometheus.NewDesc("council_model_in_flight",
		"Calls running per model.", []string{"model"}, nil)
)

func (c breakerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- breakerStateDesc
	ch <- breakerRateDesc
	ch <- modelRunningDesc
}

func (c breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, h := range c.s.modelHealth() {
		st := 0.0
		switch h.Breaker.State {
		case engine.BreakerHalfOpen:
			st = 1
		case engine.BreakerOpen:
			st = 2
		}
		ch <- prometheus.MustNewConstMetric(breakerStateDesc, prometheus.GaugeValue, st, h.Model)
		ch <- prometheus.MustNewConstMetric(breakerRateDesc, prometheus.GaugeValue, h.Breaker.FailureRate, h.Model)
		ch <- prometheus.MustNewConstMetric(modelRunningDesc, prometheus.GaugeValue, float64(h.InFlight), h.Model)
	}
}

// sharedGauge is 1 while the fleet's shared state is degraded (Redis
// unreachable: this replica uses its own), 0 while shared; a server that
// shares nothing has none.
func sharedGauge(s *Server) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "council_shared_degraded",
		Help: "1 while the fleet's shared state (Redis) is unreachable and this replica uses its own."},
		func() float64 {
			if s.eng.SharedStatus() == "degraded" {
				return 1
			}
			return 0
		})
}
