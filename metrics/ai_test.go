package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/metrics"
)

// TestWatchAI: /metrics shows the pacing's state as read at the scrape, and the calls' latency by
// status class.
func TestWatchAI(t *testing.T) {
	m := metrics.New(nil)
	waiting := 3
	observe := m.WatchAI(func() metrics.AIStats {
		return metrics.AIStats{InFlight: 97, Waiting: map[string]int{"interactive": 1, "bulk": waiting}, Limit: 120.5, RateLimited: 4}
	})
	observe(time.Second, 200)
	observe(2*time.Millisecond, 429)
	waiting = 1800
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"expensebot_ai_in_flight 97", `expensebot_ai_waiting{priority="bulk"} 1800`, `expensebot_ai_waiting{priority="interactive"} 1`,
		"expensebot_ai_limit 120.5", "expensebot_ai_rate_limited_total 4",
		`expensebot_ai_call_seconds_count{status="2xx"} 1`, `expensebot_ai_call_seconds_count{status="429"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
