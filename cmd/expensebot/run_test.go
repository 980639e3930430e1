package main

import (
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
)

// TestRunAgainstFakeSlack starts the real program as an operator would, configured only through
// its environment, and stops it as SIGTERM does. Not parallel: it sets the process environment.
func TestRunAgainstFakeSlack(t *testing.T) {
	sl, ai := runWorkspace(t)
	setenv(t, "SLACK_APP_TOKEN", fakeslack.AppToken, "SLACK_BOT_TOKEN", fakeslack.BotToken, "SLACK_API_URL", sl.APIURL(),
		"DATABASE_URL", "sqlite://"+t.TempDir()+"/run.db", "OPENAI_API_KEY", "sk-run-test", "OPENAI_BASE_URL", ai.URL(),
		"EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV", "EXPENSEBOT_CURRENCY", "EUR",
		"EXPENSEBOT_LOG_FORMAT", "json")
	r := startRun(t)
	if err := sl.WaitConnected(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.Command("UEMP", "CGEN", "/expense", "30 Train ticket"); err != nil {
		t.Fatal(err)
	}
	r.waitDM(sl, "UEMP", "(30.00 EUR, Train ticket) was approved automatically")
	if err := r.stop(); err != nil {
		t.Errorf("run returned %v after SIGTERM", err)
	}
	out := r.logs.String()
	if !strings.Contains(out, `"workspace":"Fake Workspace"`) || !strings.Contains(out, `"msg":"expense routed"`) {
		t.Errorf("JSON logs lack the workspace or the routing line:\n%s", out)
	}
	for _, secret := range []string{fakeslack.AppToken, fakeslack.BotToken, "sk-run-test"} {
		if strings.Contains(out, secret) {
			t.Errorf("a secret reached the log")
		}
	}
}

func visibleDMs(sl *fakeslack.Server, user string) string {
	var b strings.Builder
	for _, m := range sl.Messages(user, user) {
		b.WriteString(m.Text + "\n")
	}
	return b.String()
}
