package fakeopenai_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeopenai"
)

func post(t *testing.T, srv *fakeopenai.Server) (*http.Response, map[string]map[string]any) {
	t.Helper()
	resp, err := http.Post(srv.URL()+"/chat/completions", "application/json",
		strings.NewReader(`{"model":"gpt-4o-mini","max_completion_tokens":400,"messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

// TestLimitsAnswerAsOpenAI: under a limit, every answer carries OpenAI's rate-limit headers, and
// the request past the limit gets its 429 body with retry-after-ms; NoHeaders drops the headers
// and keeps the 429.
func TestLimitsAnswerAsOpenAI(t *testing.T) {
	srv := fakeopenai.NewWith(fakeopenai.Limits{RPM: 120, Burst: 2})
	defer srv.Close()
	resp, _ := post(t, srv)
	h := resp.Header
	if resp.StatusCode != 200 || h.Get("x-ratelimit-limit-requests") != "120" || h.Get("x-ratelimit-remaining-requests") != "1" {
		t.Fatalf("first answer %d with headers %v", resp.StatusCode, h)
	}
	if d, err := time.ParseDuration(h.Get("x-ratelimit-reset-requests")); err != nil || d <= 0 || d > 500*time.Millisecond {
		t.Errorf("reset-requests %q, want up to 500ms", h.Get("x-ratelimit-reset-requests"))
	}
	post(t, srv)
	resp, body := post(t, srv)
	ms, _ := strconv.Atoi(resp.Header.Get("retry-after-ms"))
	if resp.StatusCode != 429 || ms <= 0 || ms > 500 || resp.Header.Get("x-ratelimit-remaining-requests") != "0" {
		t.Fatalf("third answer %d, headers %v: want 429 with retry-after-ms", resp.StatusCode, resp.Header)
	}
	e := body["error"]
	if e["code"] != "rate_limit_exceeded" || e["type"] != "requests" || !strings.HasPrefix(e["message"].(string), "Rate limit reached for gpt-4o-mini") {
		t.Errorf("429 body %v", body)
	}
	if c := srv.Counts(); c.Requests != 3 || c.Throttled != 1 {
		t.Errorf("counts %+v", c)
	}

	quiet := fakeopenai.NewWith(fakeopenai.Limits{RPM: 60, NoHeaders: true})
	defer quiet.Close()
	first, _ := post(t, quiet)
	second, _ := post(t, quiet)
	if first.StatusCode != 200 || second.StatusCode != 429 || first.Header.Get("x-ratelimit-limit-requests") != "" || second.Header.Get("retry-after-ms") != "" {
		t.Errorf("no-headers mode: %d %v, then %d %v", first.StatusCode, first.Header, second.StatusCode, second.Header)
	}
}

// TestLatency: answers take the fixed latency, or one from the range.
func TestLatency(t *testing.T) {
	srv := fakeopenai.NewWith(fakeopenai.Limits{Latency: 100 * time.Millisecond, LatencyMax: 200 * time.Millisecond})
	defer srv.Close()
	for range 3 {
		start := time.Now()
		post(t, srv)
		if took := time.Since(start); took < 100*time.Millisecond || took > time.Second {
			t.Errorf("answer took %s, want 100ms to 200ms", took)
		}
	}
}
