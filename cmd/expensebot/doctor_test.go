package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
)

// doctorEnv is the environment of a working setup against the fake workspace of runWorkspace,
// with the database migrated; pairs override it.
func doctorEnv(t *testing.T, sl *fakeslack.Server, aiURL string, pairs ...string) {
	t.Helper()
	dbURL := "sqlite://" + t.TempDir() + "/doctor.db"
	db, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	env := []string{"SLACK_APP_TOKEN", fakeslack.AppToken, "SLACK_BOT_TOKEN", fakeslack.BotToken, "SLACK_API_URL", sl.APIURL(),
		"DATABASE_URL", dbURL, "OPENAI_API_KEY", "sk-doctor-cmd-secret", "OPENAI_BASE_URL", aiURL,
		"EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV", "EXPENSEBOT_CURRENCY", "EUR"}
	setenv(t, append(env, pairs...)...)
}

func noSecrets(t *testing.T, out string) {
	t.Helper()
	for _, s := range []string{fakeslack.AppToken, fakeslack.BotToken, "sk-doctor-cmd-secret"} {
		if strings.Contains(out, s) {
			t.Errorf("a token or key is in the output:\n%s", out)
		}
	}
}

// TestDoctorReportsProblemsWithFixes is the administrator's view: a scope left out at install,
// an approvals channel the bot was never invited to and a reviewer id with a typo are each
// named with what to do, and the command fails so that a script notices.
func TestDoctorReportsProblemsWithFixes(t *testing.T) {
	sl, ai := runWorkspace(t)
	var scopes []string
	for _, s := range fakeslack.Scopes {
		if s != "files:write" {
			scopes = append(scopes, s)
		}
	}
	sl.SetScopes(scopes...)
	sl.AddChannel("COUT", "expenses", "UREV")
	doctorEnv(t, sl, ai.URL(), "EXPENSEBOT_APPROVALS_CHANNEL", "COUT", "EXPENSEBOT_REVIEWERS", "UREV,UTYPO")
	out, err := runCmd(t, "doctor")
	var u usageError
	if err == nil || errors.As(err, &u) {
		t.Errorf("doctor returned %v, want a failure (exit 1)", err)
	}
	for _, want := range []string{
		"! scope files:write: not granted: receipts are not copied into the approval card's thread",
		"    fix: add files:write under OAuth & Permissions",
		"✗ approvals channel COUT (EXPENSEBOT_APPROVALS_CHANNEL): the bot is not in #expenses",
		"    fix: type /invite @expensebot in #expenses",
		"✗ user UTYPO (EXPENSEBOT_REVIEWERS): no such user in this workspace",
		"    fix: replace or remove UTYPO in EXPENSEBOT_REVIEWERS",
		"✓ user UREV (EXPENSEBOT_REVIEWERS)",
		"2 problems, 1 warning.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	noSecrets(t, out)
}

// TestDoctorAllGood: a setup with nothing wrong exits 0, having called the model once.
func TestDoctorAllGood(t *testing.T) {
	sl, ai := runWorkspace(t)
	doctorEnv(t, sl, ai.URL())
	out, err := runCmd(t, "doctor")
	if err != nil || !strings.Contains(out, "All checks passed.") {
		t.Fatalf("doctor: %v\n%s", err, out)
	}
	for _, want := range []string{"✓ bot token", "✓ app-level token", "✓ scopes", "✓ approvals channel CAPP", "✓ database", "✓ model gpt-4o-mini", "· exchange rates"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if n := len(ai.Requests()); n != 1 {
		t.Errorf("%d model calls, want 1", n)
	}
	noSecrets(t, out)
}

// TestDoctorHelpAndBadConfig: --help works without any configuration and changes nothing; a
// configuration mistake is itself a problem reported.
func TestDoctorHelpAndBadConfig(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	setenv(t)
	out, err := runCmd(t, "doctor", "--help")
	if err != nil || !strings.Contains(out, "Usage: expensebot doctor") {
		t.Errorf("doctor --help: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("doctor --help created %v", entries)
	}
	setenv(t, "EXPENSEBOT_WORKERS", "lots", "SLACK_BOT_TOKEN", "xoxb-never-shown-123")
	out, err = runCmd(t, "doctor")
	if err == nil || !strings.Contains(out, "✗ configuration:") || !strings.Contains(out, "EXPENSEBOT_WORKERS") || strings.Contains(out, "xoxb-never-shown-123") {
		t.Errorf("doctor with a bad configuration: %v\n%s", err, out)
	}
}

// TestDoctorChecksThePolicyFile: the channels and reviewers of the policy file's routes are
// checked like those of the environment, each line saying where the id is configured; a policy
// file that cannot be read is a problem of its own.
func TestDoctorChecksThePolicyFile(t *testing.T) {
	sl, ai := runWorkspace(t)
	sl.AddChannel("CTRAVEL", "travel-approvals", fakeslack.BotUser)
	policy := t.TempDir() + "/policy.yaml"
	if err := os.WriteFile(policy, []byte("categories:\n  travel:\n    routes:\n      - over: 3000\n        channel: CTRAVEL\n        reviewers: [SLEADS]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	doctorEnv(t, sl, ai.URL(), "EXPENSEBOT_POLICY_FILE", policy)
	out, err := runCmd(t, "doctor")
	if err == nil || !strings.Contains(out, "✓ approvals channel CTRAVEL (the policy file, category travel): #travel-approvals") ||
		!strings.Contains(out, "✗ user group SLEADS (the policy file, category travel): no such user group") {
		t.Errorf("doctor: %v\n%s", err, out)
	}
	doctorEnv(t, sl, ai.URL(), "EXPENSEBOT_POLICY_FILE", t.TempDir()+"/missing.yaml")
	out, err = runCmd(t, "doctor")
	if err == nil || !strings.Contains(out, "✗ policy file (EXPENSEBOT_POLICY_FILE)") || !strings.Contains(out, "✓ approvals channel CAPP") {
		t.Errorf("doctor with a missing policy file: %v\n%s", err, out)
	}
}

// TestRunWarnsOfSetupProblems: the same checks run at start; a problem is logged with its fix,
// and the bot works regardless.
func TestRunWarnsOfSetupProblems(t *testing.T) {
	sl, ai := runWorkspace(t)
	doctorEnv(t, sl, ai.URL(), "EXPENSEBOT_REVIEWERS", "UREV,UTYPO")
	r := startRun(t)
	if err := sl.WaitConnected(1, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(r.logs.String(), "setup checked") {
		if time.Now().After(deadline) {
			t.Fatalf("no setup check at start:\n%s", r.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := r.stop(); err != nil {
		t.Errorf("run returned %v", err)
	}
	logs := r.logs.String()
	if !strings.Contains(logs, `level=WARN msg="setup check failed" check="user UTYPO (EXPENSEBOT_REVIEWERS)"`) ||
		!strings.Contains(logs, "replace or remove UTYPO in EXPENSEBOT_REVIEWERS") || !strings.Contains(logs, "problems=1 warnings=0") {
		t.Errorf("start logs lack the problem and its fix:\n%s", logs)
	}
	if n := len(ai.Requests()); n != 0 {
		t.Errorf("the start called the model %d times", n)
	}
	noSecrets(t, logs)
}
