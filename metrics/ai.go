package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// AIStats is the state of the pacing of calls to the model provider, read when Prometheus
// scrapes.
type AIStats struct {
	InFlight    int            // calls to the provider under way
	Waiting     map[string]int // calls waiting their turn, by priority ("interactive", "bulk")
	Limit       float64        // calls allowed at once, as learned from the provider
	RateLimited uint64         // calls the provider answered 429, since start
}

// AIStatsFunc reads the pacing's state.
type AIStatsFunc func() AIStats

var (
	aiInFlight    = prometheus.NewDesc("expensebot_ai_in_flight", "Calls to the AI provider under way (assessments and receipt reads).", nil, nil)
	aiWaiting     = prometheus.NewDesc("expensebot_ai_waiting", "Calls waiting for the AI provider's pace, by priority.", []string{"priority"}, nil)
	aiLimit       = prometheus.NewDesc("expensebot_ai_limit", "Calls to the AI provider allowed at once, as learned from its answers, its headers and its 429s.", nil, nil)
	aiRateLimited = prometheus.NewDesc("expensebot_ai_rate_limited_total", "Calls the AI provider answered 429 (retried after its wait; not failures).", nil, nil)
)

// aiCollector reads the pacing's state at scrape time.
type aiCollector struct{ fn AIStatsFunc }

func (c aiCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- aiInFlight
	ch <- aiWaiting
	ch <- aiLimit
	ch <- aiRateLimited
}

func (c aiCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.fn()
	ch <- prometheus.MustNewConstMetric(aiInFlight, prometheus.GaugeValue, float64(s.InFlight))
	for p, n := range s.Waiting {
		ch <- prometheus.MustNewConstMetric(aiWaiting, prometheus.GaugeValue, float64(n), p)
	}
	ch <- prometheus.MustNewConstMetric(aiLimit, prometheus.GaugeValue, s.Limit)
	ch <- prometheus.MustNewConstMetric(aiRateLimited, prometheus.CounterValue, float64(s.RateLimited))
}

// WatchAI reports the pacing of calls to the model provider, read through stats at each scrape,
// and returns the function to tell of each call's latency and HTTP status (0: no answer), which
// feeds the histogram expensebot_ai_call_seconds by status class (2xx, 4xx, 429, 5xx, error).
// Call it once per Metrics. On a nil *Metrics it records nothing.
func (m *Metrics) WatchAI(stats AIStatsFunc) func(latency time.Duration, status int) {
	if m == nil {
		return func(time.Duration, int) {}
	}
	calls := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "expensebot_ai_call_seconds",
		Help:    "Time one call to the AI provider took to answer, by status class (2xx, 4xx, 429, 5xx, error).",
		Buckets: []float64{.05, .1, .25, .5, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 30}}, []string{"status"})
	m.reg.MustRegister(calls, aiCollector{fn: stats})
	return func(latency time.Duration, status int) {
		calls.WithLabelValues(statusClass(status)).Observe(latency.Seconds())
	}
}

func statusClass(status int) string {
	switch {
	case status == 0:
		return "error"
	case status == 429:
		return "429"
	}
	return strconv.Itoa(status/100) + "xx"
}
