package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// setenv gives the test an environment of its own: every variable expensebot reads is unset, so
// that the developer's shell (an OPENAI_API_KEY, a DATABASE_URL) cannot reach the program, then
// pairs are set. Everything is restored when the test ends; like t.Setenv, it cannot be used in
// parallel tests.
func setenv(t *testing.T, pairs ...string) {
	t.Helper()
	for v := range (&environment{}).variables() {
		t.Setenv(v.key, "") // only to have the old value restored at the end
		if err := os.Unsetenv(v.key); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		t.Setenv(pairs[i], pairs[i+1])
	}
}

// runCmd runs the program with args in the environment the test has set.
func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), append([]string{"expensebot"}, args...), &out, &errOut)
	return out.String() + errOut.String(), err
}

func TestHelpAndVersion(t *testing.T) {
	setenv(t)
	out, err := runCmd(t, "help")
	if err != nil || !strings.Contains(out, "EXPENSEBOT_AUTO_APPROVE_MAX") || !strings.Contains(out, "expensebot export") {
		t.Errorf("help: %v\n%s", err, out)
	}
	out, err = runCmd(t, "version")
	if err != nil || !strings.HasPrefix(out, "expensebot ") {
		t.Errorf("version: %v %q", err, out)
	}
	if _, err := runCmd(t, "frobnicate"); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Errorf("unknown command: %v", err)
	}
}

func TestConfigErrorsNameTheVariable(t *testing.T) {
	tests := []struct {
		name string
		cmd  string // "run" when empty
		env  []string
		want string
	}{
		{"confidence not a number", "", []string{"EXPENSEBOT_MIN_CONFIDENCE", "high"}, `EXPENSEBOT_MIN_CONFIDENCE="high": not a number`},
		{"confidence out of range", "", []string{"EXPENSEBOT_MIN_CONFIDENCE", "1.5"}, "between 0 and 1"},
		{"unknown currency", "", []string{"EXPENSEBOT_CURRENCY", "ZZZ"}, `EXPENSEBOT_CURRENCY="ZZZ"`},
		{"bad amount", "", []string{"EXPENSEBOT_AUTO_APPROVE_MAX", "-5"}, "EXPENSEBOT_AUTO_APPROVE_MAX"},
		{"limits inverted", "", []string{"EXPENSEBOT_AUTO_APPROVE_MAX", "5000", "EXPENSEBOT_REVIEW_MAX", "100"}, "must not be below"},
		{"bad duration", "", []string{"EXPENSEBOT_AI_TIMEOUT", "ten"}, "EXPENSEBOT_AI_TIMEOUT"},
		{"bad log format", "", []string{"EXPENSEBOT_LOG_FORMAT", "xml"}, "text or json"},
		{"bad database", "migrate", []string{"DATABASE_URL", "mysql://u:hunter2@h/db"}, `scheme "mysql" is not supported`},
		{"missing slack", "", nil, "SLACK_APP_TOKEN is not set"},
		{"wrong token kind", "", []string{"SLACK_APP_TOKEN", "xoxb-very-secret", "SLACK_BOT_TOKEN", "xapp-also-secret"}, "should start with xapp-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setenv(t, append([]string{"DATABASE_URL", "sqlite://" + t.TempDir() + "/x.db"}, tt.env...)...)
			cmd := tt.cmd
			if cmd == "" {
				cmd = "run"
			}
			out, err := runCmd(t, cmd)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			for _, secret := range []string{"very-secret", "also-secret", "hunter2"} {
				if strings.Contains(err.Error()+out, secret) {
					t.Errorf("a secret leaked: %v %s", err, out)
				}
			}
		})
	}
}

func TestMigrateAndExport(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			setenv(t, "DATABASE_URL", url)
			out, err := runCmd(t, "migrate")
			if err != nil || !strings.Contains(out, "up to date") {
				t.Fatalf("migrate: %v %s", err, out)
			}
			db, err := store.Open(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			e, _, err := db.Submit(context.Background(), expensebot.Expense{SubmitterID: "U1", IdempotencyKey: "k",
				Amount: expensebot.Money{Minor: 250000, Currency: "USD"}, Description: "=HYPERLINK(\"x\")", Category: "travel"})
			if err != nil {
				t.Fatal(err)
			}
			db.Route(context.Background(), e.ID, nil, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"AI check is off"}})

			out, err = runCmd(t, "export")
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) != 4 {
				t.Fatalf("csv: %v, %d rows:\n%s", err, len(rows), out)
			}
			if rows[0][0] != "event_id" || rows[1][2] != "submitted" || rows[1][7] != "2500.00" || rows[3][2] != "routed" {
				t.Errorf("csv rows = %q", rows)
			}
			if rows[1][11] != `'=HYPERLINK("x")` {
				t.Errorf("description not defused for spreadsheets: %q", rows[1][11])
			}

			out, err = runCmd(t, "export", "--format", "jsonl", "--since", "2000-01-01")
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var first map[string]any
			if err != nil || len(lines) != 3 || json.Unmarshal([]byte(lines[0]), &first) != nil || first["amount_minor"] != "250000" {
				t.Errorf("jsonl: %v %q", err, out)
			}
			out, _ = runCmd(t, "export", "--since", "2999-01-01")
			if strings.Count(out, "\n") != 1 {
				t.Errorf("export since the future: %q", out)
			}
			if _, err := runCmd(t, "export", "--since", "yesterday"); err == nil || !strings.Contains(err.Error(), "not a date") {
				t.Errorf("bad --since: %v", err)
			}
		})
	}
}

// syncWriter collects output written from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestPolicyCommand: `expensebot policy` prints the rules and a version that changes with them.
func TestPolicyCommand(t *testing.T) {
	file := filepath.Join(t.TempDir(), "policy.yaml")
	os.WriteFile(file, []byte("categories:\n  travel:\n    routes:\n      - over: 3000\n        channel: CTRAVEL\n        reviewers: [S0TRAVEL]\n"), 0o644)
	print := func(env ...string) string {
		setenv(t, append([]string{"EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV"}, env...)...)
		var out bytes.Buffer
		if err := run(context.Background(), []string{"expensebot", "policy"}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	plain, withFile := print(), print("EXPENSEBOT_POLICY_FILE", file)
	if !strings.Contains(withFile, "travel: over 3,000.00 USD to channel CTRAVEL, reviewers S0TRAVEL") || !strings.Contains(plain, "auto-approve below 1,000.00 USD") {
		t.Errorf("policy output:\n%s\n%s", plain, withFile)
	}
	version := func(s string) string { return strings.Fields(s)[2] }
	if version(plain) == version(withFile) || version(plain) != version(print()) {
		t.Errorf("versions %s, %s: want equal for equal rules, different otherwise", version(plain), version(withFile))
	}
}

// runWorkspace is a fake workspace (Em the employee, Rev the reviewer, #approvals and #general)
// and a fake AI for tests that start the real program through run, as an operator does.
func runWorkspace(t *testing.T) (*fakeslack.Server, *fakeopenai.Server) {
	t.Helper()
	sl, err := fakeslack.New(fakeslack.User{ID: "UEMP", Name: "emp", RealName: "Em Ployee"}, fakeslack.User{ID: "UREV", Name: "rev", RealName: "Re Viewer"})
	if err != nil {
		t.Fatal(err)
	}
	sl.AddChannel("CAPP", "approvals", fakeslack.BotUser, "UREV")
	sl.AddChannel("CGEN", "general", fakeslack.BotUser, "UEMP", "UREV")
	ai := fakeopenai.New()
	t.Cleanup(func() { sl.Close(); ai.Close() })
	return sl, ai
}

// running is the program started by run with the environment the test set.
type running struct {
	t      *testing.T
	cancel context.CancelFunc
	done   chan error
	logs   syncWriter
}

func startRun(t *testing.T) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{t: t, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- run(ctx, []string{"expensebot"}, &r.logs, &r.logs) }()
	return r
}

// waitDM waits until user's DMs contain want.
func (r *running) waitDM(sl *fakeslack.Server, user, want string) {
	r.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(visibleDMs(sl, user), want) {
		if time.Now().After(deadline) {
			r.t.Fatalf("no DM %q; logs:\n%s", want, r.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop stops the program as SIGTERM does and returns what run returned.
func (r *running) stop() error {
	r.t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		return err
	case <-time.After(15 * time.Second):
		r.t.Fatal("run did not stop")
		return nil
	}
}
