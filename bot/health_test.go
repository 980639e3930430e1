package bot_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/expensebot/expensebot/api"
)

// TestHealthAndMetrics: /healthz tells a supervisor the process is alive, /readyz whether the bot
// is connected to Slack and the database answers; /metrics shows a dashboard what went through, in
// Prometheus's format, on the internal port to anyone and on the API's listener only to a client.
func TestHealthAndMetrics(t *testing.T) {
	const token = "tok-ops-0123456789abcdef"
	each(t, func(t *testing.T, h *harness) {
		h.api = &api.Config{Clients: []api.Client{{Name: "ops", Token: token}}}
		in := h.start()
		get := func(url, bearer string) (int, string) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if bearer != "" {
				req.Header.Set("Authorization", "Bearer "+bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		for _, base := range []string{in.internalURL, in.apiURL} {
			h.eventually("ready at "+base, func() bool {
				code, body := get(base+"/readyz", "")
				return code == 200 && strings.Contains(body, `"slack":"connected"`) && strings.Contains(body, `"database":"ok"`)
			})
			if code, body := get(base+"/healthz", ""); code != 200 || !strings.Contains(body, "alive") {
				t.Errorf("%s/healthz = %d %s", base, code, body)
			}
		}
		h.command(emp, "12.50 Lunch")
		h.dm(emp, "(12.50 USD, Lunch) was approved automatically")
		_, body := get(in.internalURL+"/metrics", "")
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
		// On the API's listener the metrics need a client's token.
		for _, bearer := range []string{"", "tok-wrong-0123456789abcdef"} {
			if code, body := get(in.apiURL+"/metrics", bearer); code != http.StatusUnauthorized || strings.Contains(body, "expensebot_") {
				t.Errorf("/metrics on the API's listener with token %q = %d, want 401 and no metrics", bearer, code)
			}
		}
		if code, body := get(in.apiURL+"/metrics", token); code != 200 || !strings.Contains(body, `expensebot_expenses_total{outcome="submitted"} 1`) {
			t.Errorf("/metrics with a client's token = %d:\n%s", code, body)
		}
		// Anonymous traffic on the API's listener still gets the API's description.
		if code, _ := get(in.apiURL+"/v1/openapi.json", ""); code != 200 {
			t.Errorf("openapi.json = %d, want 200", code)
		}
		// Without Slack the bot is not ready, and says why; it is still alive.
		h.slack.FailConnections("internal_error") // Slack down for a while: the bot keeps trying
		h.slack.Disconnect("refresh_requested")
		h.eventually("not ready while Slack is gone", func() bool {
			code, body := get(in.internalURL+"/readyz", "")
			return code == 503 && strings.Contains(body, `"slack":"not connected"`)
		})
		if code, _ := get(in.internalURL+"/healthz", ""); code != 200 {
			t.Errorf("/healthz while Slack is gone = %d, want 200 (alive)", code)
		}
	})
}
