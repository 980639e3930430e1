package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// TestVersionPrintsBuildInfo: the version line carries the module version, the commit, whether
// the tree had local changes, and the commit's date; a build without them says so rather than
// "(devel)".
func TestVersionPrintsBuildInfo(t *testing.T) {
	full := buildInfo{Version: "v1.4.0", Revision: "0123456789abcdef0123456789abcdef01234567", Time: "2026-12-01T10:00:00Z", Modified: true, GoVersion: "go1.26.8"}.String()
	for _, want := range []string{"expensebot v1.4.0", "commit 0123456789abcdef0123456789abcdef01234567 with local changes", "committed 2026-12-01T10:00:00Z", "go1.26.8"} {
		if !strings.Contains(full, want) {
			t.Errorf("version %q lacks %q", full, want)
		}
	}
	bare := buildInfo{Version: "(devel)"}.String()
	if !strings.Contains(bare, "development build") || !strings.Contains(bare, "commit unknown") {
		t.Errorf("version without build information = %q", bare)
	}
	setenv(t)
	out, err := runCmd(t, "version")
	if err != nil || !strings.HasPrefix(out, "expensebot ") || !strings.Contains(out, "commit") || strings.TrimSpace(out) == "expensebot (devel)" {
		t.Errorf("version: %v %q", err, out)
	}
}

// TestDefaultDatabaseIsNotInTheWorkingDirectory: without DATABASE_URL the SQLite file goes to
// EXPENSEBOT_DATA_DIR, systemd's state directory, or the user's state directory, never where the
// command happens to run.
func TestDefaultDatabaseIsNotInTheWorkingDirectory(t *testing.T) {
	tests := []struct {
		name string
		env  func(home string) []string
		want func(home string) string
	}{
		{"user's state directory", func(string) []string { return nil }, func(h string) string { return filepath.Join(h, ".local", "state", "expensebot") }},
		{"XDG_STATE_HOME", func(h string) []string { return []string{"XDG_STATE_HOME", filepath.Join(h, "xdg")} }, func(h string) string { return filepath.Join(h, "xdg", "expensebot") }},
		{"systemd's StateDirectory", func(h string) []string { return []string{"STATE_DIRECTORY", filepath.Join(h, "svc")} }, func(h string) string { return filepath.Join(h, "svc") }},
		{"EXPENSEBOT_DATA_DIR", func(h string) []string {
			return []string{"EXPENSEBOT_DATA_DIR", filepath.Join(h, "data"), "STATE_DIRECTORY", filepath.Join(h, "svc")}
		}, func(h string) string { return filepath.Join(h, "data") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home, work := t.TempDir(), t.TempDir()
			t.Chdir(work)
			t.Setenv("HOME", home)
			t.Setenv("XDG_STATE_HOME", "")
			t.Setenv("STATE_DIRECTORY", "")
			setenv(t, tt.env(home)...)
			out, err := runCmd(t, "migrate")
			if err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			want := filepath.Join(tt.want(home), store.DefaultSQLiteFile)
			if _, err := os.Stat(want); err != nil {
				t.Errorf("no database at %s: %v", want, err)
			}
			if !strings.Contains(out, want) {
				t.Errorf("the log does not name the database %s:\n%s", want, out)
			}
			if entries, _ := os.ReadDir(work); len(entries) > 0 {
				t.Errorf("migrate wrote into the working directory: %v", entries)
			}
		})
	}
}

// TestEverySubcommandHelp: --help and -h print the command's usage and flags to stdout and
// succeed, whatever the environment holds, and create nothing: no database, no data directory.
func TestEverySubcommandHelp(t *testing.T) {
	commands := [][]string{{"run"}, {"migrate"}, {"export"}, {"expenses"}, {"report"}, {"policy"}, {"policy", "simulate"},
		{"sandbox"}, {"healthcheck"}, {"version"}, {"paid"}}
	for _, cmd := range commands {
		for _, help := range []string{"--help", "-h"} {
			t.Run(strings.Join(cmd, "_")+help, func(t *testing.T) {
				home, work := t.TempDir(), t.TempDir()
				t.Chdir(work)
				t.Setenv("HOME", home)
				t.Setenv("XDG_STATE_HOME", "")
				t.Setenv("STATE_DIRECTORY", "")
				// A mistake in the environment does not hide the help.
				setenv(t, "EXPENSEBOT_CURRENCY", "ZZZ")
				var stdout, stderr strings.Builder
				err := run(context.Background(), append(append([]string{"expensebot"}, cmd...), help), &stdout, &stderr)
				if err != nil {
					t.Fatalf("err = %v\n%s", err, stderr.String())
				}
				if !strings.Contains(stdout.String(), "Usage: expensebot "+cmd[0]) {
					t.Errorf("stdout lacks the usage line:\n%s", stdout.String())
				}
				for _, dir := range []string{home, work} {
					filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
						if p != dir {
							t.Errorf("%s %s created %s", strings.Join(cmd, " "), help, p)
						}
						return nil
					})
				}
			})
		}
	}
	// The flags are listed.
	setenv(t)
	out, err := runCmd(t, "export", "--help")
	if err != nil || !strings.Contains(out, "-since") || !strings.Contains(out, "-format") {
		t.Errorf("export --help: %v\n%s", err, out)
	}
}

// TestBareCommandPrintsTheCommands: expensebot alone, without Slack tokens, lists the commands
// (exit 2) instead of a wall of missing variables.
func TestBareCommandPrintsTheCommands(t *testing.T) {
	t.Chdir(t.TempDir())
	setenv(t)
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"expensebot"}, &stdout, &stderr)
	if !errors.Is(err, errNoCommand) {
		t.Fatalf("err = %v, want errNoCommand", err)
	}
	for _, want := range []string{"expensebot run", "expensebot sandbox", "expensebot migrate", "expensebot help"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("bare expensebot lacks %q:\n%s", want, stdout.String())
		}
	}
	if strings.Contains(stdout.String()+stderr.String(), "is not set") {
		t.Errorf("bare expensebot printed the missing variables:\n%s%s", stdout.String(), stderr.String())
	}
}

// TestDurationsAcceptDays: days (d) as well as Go's units, in the environment and in flags.
func TestDurationsAcceptDays(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"14d", 14 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"90m", 90 * time.Minute, true},
		{"1h30m", 90 * time.Minute, true},
		{"10s", 10 * time.Second, true},
		{"0.5d", 12 * time.Hour, true},
		{"0", 0, true},
		{"-1h", -time.Hour, true},
		{"1 day", 0, false},
		{"14", 0, false},
		{"d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v (ok %v)", tt.in, got, err, tt.want, tt.ok)
		}
	}
	// The environment.
	setenv(t, "EXPENSEBOT_EXPIRE_AFTER", "14d", "EXPENSEBOT_REMIND_AFTER", "1d12h", "EXPENSEBOT_SPLIT_WINDOW", "90m")
	cfg, err := loadConfig()
	if err != nil || cfg.ExpireAfter != 14*24*time.Hour || cfg.RemindAfter != 36*time.Hour || cfg.SplitWindow != 90*time.Minute {
		t.Errorf("loadConfig: %v, expire %v remind %v split %v", err, cfg.ExpireAfter, cfg.RemindAfter, cfg.SplitWindow)
	}
	// Flags.
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var d Duration
	fs.TextVar(&d, "timeout", Duration(time.Second), "")
	if err := fs.Parse([]string{"--timeout", "1d12h"}); err != nil || time.Duration(d) != 36*time.Hour {
		t.Errorf("--timeout 1d12h = %v, %v", time.Duration(d), err)
	}
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	if since, err := parseSince("report", "1d12h", now); err != nil || !since.Equal(now.Add(-36*time.Hour)) {
		t.Errorf("--since 1d12h = %v, %v", since, err)
	}
	if got := Duration(14 * 24 * time.Hour).String(); got != "14d" {
		t.Errorf("14 days print as %q", got)
	}
}

// TestMigrateFalseRefusesABehindDatabase: with EXPENSEBOT_MIGRATE=false, run refuses a database
// that lacks a migration, names `expensebot migrate`, and leaves the database as it was; after
// `expensebot migrate` it opens it.
func TestMigrateFalseRefusesABehindDatabase(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			env := []string{"DATABASE_URL", url, "EXPENSEBOT_MIGRATE", "false", "SLACK_APP_TOKEN", "xapp-1", "SLACK_BOT_TOKEN", "xoxb-1",
				"SLACK_API_URL", "http://127.0.0.1:9/api/", "EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV"}
			setenv(t, env...)
			if engine == "sqlite" {
				// A database that is not there at all is not created.
				_, err := runCmd(t, "run")
				if err == nil || !strings.Contains(err.Error(), "expensebot migrate") {
					t.Fatalf("run on a missing database: %v", err)
				}
				if _, err := os.Stat(sqliteFile(url)); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("run with EXPENSEBOT_MIGRATE=false created the database: %v", err)
				}
			}
			if out, err := runCmd(t, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, out)
			}
			// Up to date: run opens it without changing it.
			cfg, err := loadConfig()
			if err != nil {
				t.Fatal(err)
			}
			var logs strings.Builder
			db, err := openDatabase(context.Background(), cfg, newLogger(cfg, &logs))
			if err != nil {
				t.Fatalf("after migrate: %v", err)
			}
			db.Close()
			// The database falls behind: this binary has a migration it lacks.
			dropLatestMigration(t, engine, url)
			_, err = runCmd(t, "run")
			if err == nil || !strings.Contains(err.Error(), "lacks migration") || !strings.Contains(err.Error(), "expensebot migrate") {
				t.Fatalf("run on a database that is behind: %v", err)
			}
			db, err = store.OpenExisting(context.Background(), url)
			if err == nil {
				db.Close()
				t.Errorf("run with EXPENSEBOT_MIGRATE=false applied the missing migration")
			}
		})
	}
}

// TestHealthWithoutAPITokens: EXPENSEBOT_HTTP_ADDR alone serves the health checks and the
// metrics, without a token, and no API.
func TestHealthWithoutAPITokens(t *testing.T) {
	sl, ai := runWorkspace(t)
	setenv(t, "SLACK_APP_TOKEN", fakeslack.AppToken, "SLACK_BOT_TOKEN", fakeslack.BotToken, "SLACK_API_URL", sl.APIURL(),
		"DATABASE_URL", "sqlite://"+t.TempDir()+"/run.db", "OPENAI_API_KEY", "sk-run-test", "OPENAI_BASE_URL", ai.URL(),
		"EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV", "EXPENSEBOT_LOG_FORMAT", "json",
		"EXPENSEBOT_HTTP_ADDR", "127.0.0.1:0")
	r := startRun(t)
	defer r.stop()
	base := "http://" + listening(t, r, "health and metrics listening")
	waitFor(t, r, "ready", func() bool { code, _ := get(t, base+"/readyz", ""); return code == 200 })
	for path, want := range map[string]string{"/healthz": `"status":"alive"`, "/metrics": "expensebot_outbox_backlog_up 1"} {
		if code, body := get(t, base+path, ""); code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s = %d, lacks %q:\n%s", path, code, want, body)
		}
	}
	if code, _ := get(t, base+"/v1/openapi.json", ""); code != http.StatusNotFound {
		t.Errorf("the API is served without clients: openapi.json = %d", code)
	}
}

// TestMetricsAddrIsAListenerOfItsOwn: with EXPENSEBOT_METRICS_ADDR the metrics are open there,
// while on the API's listener they need a client's token.
func TestMetricsAddrIsAListenerOfItsOwn(t *testing.T) {
	const token = "tok-ci-0123456789abcdef"
	sl, ai := runWorkspace(t)
	setenv(t, "SLACK_APP_TOKEN", fakeslack.AppToken, "SLACK_BOT_TOKEN", fakeslack.BotToken, "SLACK_API_URL", sl.APIURL(),
		"DATABASE_URL", "sqlite://"+t.TempDir()+"/run.db", "OPENAI_API_KEY", "sk-run-test", "OPENAI_BASE_URL", ai.URL(),
		"EXPENSEBOT_APPROVALS_CHANNEL", "CAPP", "EXPENSEBOT_REVIEWERS", "UREV", "EXPENSEBOT_LOG_FORMAT", "json",
		"EXPENSEBOT_HTTP_ADDR", "127.0.0.1:0", "EXPENSEBOT_API_TOKENS", "ci="+token, "EXPENSEBOT_METRICS_ADDR", "127.0.0.1:0")
	r := startRun(t)
	defer r.stop()
	apiBase := "http://" + listening(t, r, "approval API listening")
	opsBase := "http://" + listening(t, r, "health and metrics listening")
	waitFor(t, r, "ready", func() bool { code, _ := get(t, opsBase+"/readyz", ""); return code == 200 })
	if code, body := get(t, opsBase+"/metrics", ""); code != 200 || !strings.Contains(body, "expensebot_ack_seconds") {
		t.Errorf("metrics listener /metrics = %d", code)
	}
	if code, body := get(t, apiBase+"/metrics", ""); code != http.StatusUnauthorized || strings.Contains(body, "expensebot_ack_seconds") {
		t.Errorf("API listener /metrics without a token = %d, want 401", code)
	}
	if code, _ := get(t, apiBase+"/metrics", token); code != 200 {
		t.Errorf("API listener /metrics with a client's token = %d, want 200", code)
	}
	for _, path := range []string{"/healthz", "/readyz", "/v1/openapi.json"} {
		if code, _ := get(t, apiBase+path, ""); code != 200 {
			t.Errorf("anonymous %s on the API's listener = %d, want 200", path, code)
		}
	}
	if code, _ := get(t, apiBase+"/v1/expenses", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous /v1/expenses = %d, want 401", code)
	}
}

// listening waits for the log line msg and returns its address.
func listening(t *testing.T, r *running, msg string) string {
	t.Helper()
	re := regexp.MustCompile(`"msg":"` + regexp.QuoteMeta(msg) + `","addr":"([^"]+)"`)
	var addr string
	waitFor(t, r, msg, func() bool {
		if m := re.FindStringSubmatch(r.logs.String()); m != nil {
			addr = m[1]
		}
		return addr != ""
	})
	return addr
}

func waitFor(t *testing.T, r *running, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		select {
		case err := <-r.done:
			t.Fatalf("run ended with %v while waiting for %s; logs:\n%s", err, what, r.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; logs:\n%s", what, r.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
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

// dropLatestMigration makes the database at url look as if this binary's newest migration had
// never been applied.
func dropLatestMigration(t *testing.T, engine, url string) {
	t.Helper()
	driver, dsn := "postgres", url
	if engine == "sqlite" {
		driver, dsn = "sqlite", sqliteFile(url)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)"); err != nil {
		t.Fatal(err)
	}
}
