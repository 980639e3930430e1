package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
)

// TestRatesConfigErrors: a rates setting that cannot work stops the start, naming the variable;
// the two that need no file are reported with every other problem by loadConfig.
func TestRatesConfigErrors(t *testing.T) {
	setenv(t, "EXPENSEBOT_RATES_URL", "ftp://ecb.example/rates.xml", "EXPENSEBOT_RATES_MAX_AGE", "7 days")
	_, err := loadConfig()
	want := "configuration:\n  " + `EXPENSEBOT_RATES_URL="ftp://ecb.example/rates.xml": must be an http(s) URL` +
		"\n  " + `EXPENSEBOT_RATES_MAX_AGE="7 days": not a duration such as 10s, 90m, 1d12h or 14d`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
	setenv(t, "EXPENSEBOT_RATES_MAX_AGE", "0s")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), `EXPENSEBOT_RATES_MAX_AGE="0s": must be positive`) {
		t.Errorf("max age 0s: %v", err)
	}

	dir := t.TempDir()
	bad := filepath.Join(dir, "rates.csv")
	os.WriteFile(bad, []byte("from,to,rate,date\nEUR,USD,1.08.5,2026-11-24\n"), 0o644)
	slack := []string{"SLACK_APP_TOKEN", "xapp-1", "SLACK_BOT_TOKEN", "xoxb-1", "EXPENSEBOT_APPROVALS_CHANNEL", "C1", "EXPENSEBOT_REVIEWERS", "U1",
		"DATABASE_URL", "sqlite://" + filepath.Join(dir, "x.db")}
	for file, want := range map[string]string{
		bad:                             `EXPENSEBOT_RATES_FILE: rates file rates.csv: line 2: EUR: rate "1.08.5" is not a decimal number`,
		filepath.Join(dir, "nope.yaml"): "EXPENSEBOT_RATES_FILE: rates file: open",
	} {
		setenv(t, append(slack, "EXPENSEBOT_RATES_FILE", file)...)
		if _, err := runCmd(t, "run"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
}

// TestRunWithRatesFile: with EXPENSEBOT_RATES_FILE set, a small expense in another currency is
// converted and approved automatically, as one in the home currency is. Not parallel: it sets
// the process environment.
func TestRunWithRatesFile(t *testing.T) {
	sl, ai := runWorkspace(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "rates.yaml")
	today := time.Now().UTC().Format(time.DateOnly)
	os.WriteFile(file, []byte("to: EUR\ndate: "+today+"\nsource: Treasury\nrates:\n  USD: 0.9217\n"), 0o644)

	setenv(t, "SLACK_APP_TOKEN", fakeslack.AppToken, "SLACK_BOT_TOKEN", fakeslack.BotToken, "SLACK_API_URL", sl.APIURL(),
		"DATABASE_URL", "sqlite://"+filepath.Join(dir, "run.db"), "OPENAI_API_KEY", "sk-run-test", "OPENAI_BASE_URL", ai.URL(),
		"EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV", "EXPENSEBOT_CURRENCY", "EUR",
		"EXPENSEBOT_RATES_FILE", file)
	r := startRun(t)
	if err := sl.WaitConnected(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := sl.Command("UEMP", "CGEN", "/expense", "30 USD Train ticket"); err != nil {
		t.Fatal(err)
	}
	r.waitDM(sl, "UEMP", "(30.00 USD, Train ticket) was approved automatically")
	if err := r.stop(); err != nil {
		t.Errorf("run returned %v", err)
	}
	if !strings.Contains(r.logs.String(), "exchange rates read from file") {
		t.Errorf("the rates file was not reported:\n%s", r.logs.String())
	}
}
