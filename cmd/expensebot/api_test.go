package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
)

// TestAPIConfigErrorsNameTheVariable: a mistake in the approval API's variables is reported
// like any other, and a token or the webhook secret is never shown. To add a case, add a row
// with the exact line expected.
func TestAPIConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		env  []string
		want string
	}{
		{"not name=token", []string{"EXPENSEBOT_API_TOKENS", "billing:tok-hunter2-0123456789"}, "EXPENSEBOT_API_TOKENS: entry 1 is not name=token"},
		{"short token", []string{"EXPENSEBOT_API_TOKENS", "ci=tok-x, billing=hunter2"}, "EXPENSEBOT_API_TOKENS: entry 1 (ci): the token is shorter than 16 characters"},
		{"metrics on the API's address", []string{"EXPENSEBOT_HTTP_ADDR", "127.0.0.1:8080", "EXPENSEBOT_METRICS_ADDR", "127.0.0.1:8080"}, `EXPENSEBOT_METRICS_ADDR="127.0.0.1:8080": must differ from EXPENSEBOT_HTTP_ADDR (unset it to serve the metrics there)`},
		{"metrics port only", []string{"EXPENSEBOT_METRICS_ADDR", "9090"}, `EXPENSEBOT_METRICS_ADDR="9090": must be host:port, e.g. 127.0.0.1:9090`},
		{"port only", []string{"EXPENSEBOT_HTTP_ADDR", "8080", "EXPENSEBOT_API_TOKENS", "ci=tok-hunter2-0123456789"}, `EXPENSEBOT_HTTP_ADDR="8080": must be host:port, e.g. 127.0.0.1:8080`},
		{"allow with scheme", []string{"EXPENSEBOT_CALLBACK_ALLOW", "hooks.intranet, http://hooks.intranet"}, `EXPENSEBOT_CALLBACK_ALLOW="hooks.intranet, http://hooks.intranet": "http://hooks.intranet" is not a host name or IP address (no scheme, port or path)`},
		{"short secret", []string{"EXPENSEBOT_WEBHOOK_SECRET", "hunter2"}, "EXPENSEBOT_WEBHOOK_SECRET: shorter than 16 characters; use a long random one (openssl rand -hex 32)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, tt.env...)
			_, err := loadConfig()
			if err == nil || err.Error() != "configuration:\n  "+tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("a secret leaked: %v", err)
			}
		})
	}
}

// TestRunServesTheAPI: configured through its environment only, the program serves the approval
// API on EXPENSEBOT_HTTP_ADDR beside the Slack connection, and never logs a token.
func TestRunServesTheAPI(t *testing.T) {
	sl, err := fakeslack.New(fakeslack.User{ID: "UEMP", Name: "emp", RealName: "Em Ployee", Email: "em@example.com"}, fakeslack.User{ID: "UREV", Name: "rev", RealName: "Re Viewer"})
	if err != nil {
		t.Fatal(err)
	}
	defer sl.Close()
	sl.AddChannel("CAPP", "approvals", fakeslack.BotUser, "UREV")
	ai := fakeopenai.New()
	defer ai.Close()
	const token = "tok-ci-0123456789abcdef"
	setenv(t, "SLACK_APP_TOKEN", fakeslack.AppToken, "SLACK_BOT_TOKEN", fakeslack.BotToken, "SLACK_API_URL", sl.APIURL(),
		"DATABASE_URL", "sqlite://"+t.TempDir()+"/run.db", "OPENAI_API_KEY", "sk-run-test", "OPENAI_BASE_URL", ai.URL(),
		"EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV", "EXPENSEBOT_LOG_FORMAT", "json",
		"EXPENSEBOT_HTTP_ADDR", "127.0.0.1:0", "EXPENSEBOT_API_TOKENS", "ci="+token, "EXPENSEBOT_WEBHOOK_SECRET", "whsec-0123456789abcdef")
	r := startRun(t)
	logs := &r.logs
	var addr string
	deadline := time.Now().Add(10 * time.Second)
	for addr == "" {
		if m := regexp.MustCompile(`"msg":"approval API listening","addr":"([^"]+)"`).FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the API did not start; logs:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/expenses", strings.NewReader(`{"submitter_email":"em@example.com","amount":"30.00","description":"Train ticket"}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got map[string]any
	json.Unmarshal(b, &got)
	if resp.StatusCode != http.StatusAccepted || got["submitted_by"] != "api:ci" {
		t.Fatalf("submit = %d %s\n%s", resp.StatusCode, b, logs.String())
	}
	r.waitDM(sl, "UEMP", "(30.00 USD, Train ticket) was approved automatically")
	if err := r.stop(); err != nil {
		t.Errorf("run returned %v after SIGTERM", err)
	}
	if _, err := http.Get("http://" + addr + "/v1/openapi.json"); err == nil {
		t.Errorf("the API still answers after shutdown")
	}
	if out := logs.String(); strings.Contains(out, token) || strings.Contains(out, "whsec-0123456789abcdef") || !strings.Contains(out, `"client":"ci"`) {
		t.Errorf("logs leak a secret or lack the client:\n%s", out)
	}
}
