// Package metrics is what an operator's dashboard reads of a running expensebot, in Prometheus's
// format: expenses by outcome, ack latency, assessment latency, errors and tokens, outbox backlog
// and age per channel, Slack's 429s per method, and reconnects. Each instance has its own
// registry (no package-level state); Handler serves it at /metrics.
package metrics

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Backlog is the outbox's undelivered notices for one channel ("" for DMs and callbacks).
type Backlog struct {
	Channel string
	Count   int
	Oldest  time.Duration // age of the oldest
}

// BacklogFunc reads the outbox backlog, for [Metrics.Refresh].
type BacklogFunc func(ctx context.Context) ([]Backlog, error)

// Metrics holds one instance's metrics. Its methods are safe for concurrent use; a nil *Metrics
// records nothing, so code can record unconditionally.
type Metrics struct {
	reg         *prometheus.Registry
	outcomes    *prometheus.CounterVec
	ack         prometheus.Histogram
	assess      prometheus.Histogram
	assessErrs  prometheus.Counter
	tokens      *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	reconnects  prometheus.Counter

	// Read from the database by Refresh, off the request path: a scrape costs no query.
	backlog      BacklogFunc
	backlogCount *prometheus.GaugeVec
	backlogAge   *prometheus.GaugeVec
	backlogUp    prometheus.Gauge
}

// New returns metrics registered in a registry of their own, with Go's runtime and process
// metrics, and the outbox backlog read through backlog by [Metrics.Refresh] (nil: not reported).
func New(backlog BacklogFunc) *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "expensebot_expenses_total",
			Help: "Expenses by outcome: submitted, auto_approved, pending_review, approved, rejected (and the lifecycle's)."}, []string{"outcome"}),
		ack: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "expensebot_ack_seconds",
			Help:    "Time from reading a Socket Mode envelope to sending its ack (a submission's commit included).",
			Buckets: []float64{.00025, .0005, .001, .002, .003, .005, .0075, .01, .015, .025, .05, .1, .25, .5, 1, 2, 3}}),
		assess: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "expensebot_assessment_seconds",
			Help: "Time one AI assessment took, tries included.", Buckets: prometheus.ExponentialBuckets(.05, 2, 10)}),
		assessErrs: prometheus.NewCounter(prometheus.CounterOpts{Name: "expensebot_assessment_errors_total",
			Help: "AI assessments that failed (the expense went to a person)."}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "expensebot_ai_tokens_total",
			Help: "Tokens the AI check used, by kind (prompt, completion)."}, []string{"kind"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "expensebot_slack_rate_limited_total",
			Help: "Slack Web API calls answered 429, by method."}, []string{"method"}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{Name: "expensebot_socket_reconnects_total",
			Help: "Socket Mode connections opened after the first."}),
	}
	m.reg.MustRegister(m.outcomes, m.ack, m.assess, m.assessErrs, m.tokens, m.rateLimited, m.reconnects,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if backlog != nil {
		m.backlog = backlog
		m.backlogCount = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "expensebot_outbox_backlog",
			Help: "Notices not yet delivered, by channel (\"\" for DMs and callbacks), as of the last refresh."}, []string{"channel"})
		m.backlogAge = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "expensebot_outbox_oldest_seconds",
			Help: "Age of the oldest undelivered notice, by channel, as of the last refresh."}, []string{"channel"})
		m.backlogUp = prometheus.NewGauge(prometheus.GaugeOpts{Name: "expensebot_outbox_backlog_up",
			Help: "1 when the last refresh could read the backlog from the database."})
		m.reg.MustRegister(m.backlogCount, m.backlogAge, m.backlogUp)
	}
	return m
}

// Refresh reads what the gauges show from the database: the outbox backlog, which is the
// database's, shared by every instance, not one instance's guess. It is called on a ticker, so
// that a scrape only reads memory however often it comes.
func (m *Metrics) Refresh(ctx context.Context) {
	if m == nil || m.backlog == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	list, err := m.backlog(ctx)
	if err != nil {
		m.backlogUp.Set(0)
		return
	}
	m.backlogUp.Set(1)
	m.backlogCount.Reset()
	m.backlogAge.Reset()
	for _, b := range list {
		m.backlogCount.WithLabelValues(b.Channel).Set(float64(b.Count))
		m.backlogAge.WithLabelValues(b.Channel).Set(b.Oldest.Seconds())
	}
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Outcome counts an expense reaching outcome.
func (m *Metrics) Outcome(outcome string) {
	if m != nil {
		m.outcomes.WithLabelValues(outcome).Inc()
	}
}

// Ack records how long an envelope waited for its ack.
func (m *Metrics) Ack(d time.Duration) {
	if m != nil {
		m.ack.Observe(d.Seconds())
	}
}

// Assessed records one AI assessment: its latency, whether it failed, and the tokens it used.
func (m *Metrics) Assessed(d time.Duration, failed bool, prompt, completion int) {
	if m == nil {
		return
	}
	m.assess.Observe(d.Seconds())
	if failed {
		m.assessErrs.Inc()
	}
	m.tokens.WithLabelValues("prompt").Add(float64(prompt))
	m.tokens.WithLabelValues("completion").Add(float64(completion))
}

// RateLimited counts a 429 from Slack's method.
func (m *Metrics) RateLimited(method string) {
	if m != nil {
		m.rateLimited.WithLabelValues(method).Inc()
	}
}

// Reconnected counts a Socket Mode connection after the first.
func (m *Metrics) Reconnected() {
	if m != nil {
		m.reconnects.Inc()
	}
}
