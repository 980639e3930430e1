package bot_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/expensebot/expensebot/api"
)

// TestHealthAndMetrics: /healthz tells a supervisor whether the bot is connected to Slack and the
// database answers; /metrics shows a dashboard what went through, in Prometheus's format.
func TestHealthAndMetrics(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.api = &api.Config{}
		in := h.start()
		get := func(path string) (int, string) {
			resp, err := http.Get(in.apiURL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		h.eventually("healthy", func() bool {
			code, body := get("/healthz")
			return code == 200 && strings.Contains(body, `"slack":"connected"`) && strings.Contains(body, `"database":"ok"`)
		})
		h.command(emp, "12.50 Lunch")
		h.dm(emp, "(12.50 USD, Lunch) was approved automatically")
		_, body := get("/metrics")
		for _, want := range []string{
			`expensebot_expenses_total{outcome="submitted"} 1`,
			`expensebot_expenses_total{outcome="auto_approved"} 1`,
			"expensebot_ack_seconds_count 1",
			"expensebot_assessment_seconds_count 1",
			`expensebot_ai_tokens_total{kind="prompt"}`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		// Without Slack the bot is not healthy, and says why.
		h.slack.FailConnections("internal_error") // Slack down for a while: the bot keeps trying
		h.slack.Disconnect("refresh_requested")
		h.eventually("unhealthy while Slack is gone", func() bool {
			code, body := get("/healthz")
			return code == 503 && strings.Contains(body, `"slack":"not connected"`)
		})
	})
}
