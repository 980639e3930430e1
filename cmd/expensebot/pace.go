package main

import (
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/metrics"
	"github.com/expensebot/expensebot/pace"
	"github.com/expensebot/expensebot/policy/openai"
)

// newPace returns the limiter that paces every call to the AI provider, the assessor's and the
// receipt reader's alike: they share the provider's budget.
func newPace(cfg Config) *pace.Limiter {
	return pace.New(pace.Config{MaxInFlight: cfg.AIMaxInFlight, RPM: cfg.AIRPM, TPM: cfg.AITPM})
}

// watchAI shows the pacing of an AI assessor's calls on m's /metrics, and returns m. /healthz
// does not read it: a provider that throttles slows expenses down, it does not make the bot
// unhealthy.
func watchAI(m *metrics.Metrics, assessor approval.Assessor) *metrics.Metrics {
	a, ok := assessor.(*openai.Assessor)
	if !ok {
		return m
	}
	lim := a.Limiter()
	observe := m.WatchAI(func() metrics.AIStats {
		s := lim.Stats()
		waiting := make(map[string]int, len(pace.Priorities))
		for _, p := range pace.Priorities {
			waiting[p.String()] = s.Waiting[p]
		}
		return metrics.AIStats{InFlight: s.InFlight, Waiting: waiting, Limit: s.Limit, RateLimited: s.Throttled}
	})
	lim.Observe(observe)
	return m
}
