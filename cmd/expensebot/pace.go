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

// workersAbove is how many assessment workers there are beyond the most calls the provider may
// take at once: enough that the limiter, not a worker count, is what holds assessments back, and
// that the next one is ready the moment a call ends.
const workersAbove = 16

// assessWorkers is how many expenses the workflow assesses at once. With a model, the provider's
// pace decides how many of them call it at once (EXPENSEBOT_AI_MAX_IN_FLIGHT bounds it): the
// others wait their turn in its limiter, where a person's submission goes before a batch. Without
// one, an assessment is quick work on the database, and EXPENSEBOT_WORKERS is plenty.
func assessWorkers(cfg Config, ai bool) int {
	if !ai {
		return cfg.Workers
	}
	return max(cfg.Workers, cfg.AIMaxInFlight+workersAbove)
}

// watchAI shows the pacing of an AI assessor's calls on m's /metrics, and returns m: the calls in
// flight and the learned limit from the limiter; waiting, by priority, the calls in the limiter
// and the expenses queued in the workflow for a worker (both wait for the provider's pace).
// /healthz does not read it: a provider that throttles slows expenses down, it does not make the
// bot unhealthy.
func watchAI(m *metrics.Metrics, assessor approval.Assessor, queue *approval.Queue) *metrics.Metrics {
	a, ok := assessor.(*openai.Assessor)
	if !ok {
		return m
	}
	lim := a.Limiter()
	observe := m.WatchAI(func() metrics.AIStats {
		s := lim.Stats()
		var queued [2]int
		queued[pace.Interactive], queued[pace.Bulk] = queue.Lengths()
		waiting := make(map[string]int, len(pace.Priorities))
		for _, p := range pace.Priorities {
			waiting[p.String()] = s.Waiting[p] + queued[p]
		}
		return metrics.AIStats{InFlight: s.InFlight, Waiting: waiting, Limit: s.Limit, RateLimited: s.Throttled}
	})
	lim.Observe(observe)
	return m
}
