package doctor_test

import (
	"bytes"
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/doctor"
	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

const apiKey = "sk-doctor-test-key-0123456789"

// workspace is a fake Slack workspace, a fake model, a migrated database and a rates file that
// pass every check; a test breaks one thing and looks at what the checkup says.
type workspace struct {
	slack *fakeslack.Server
	ai    *fakeopenai.Server
	dbURL string
	setup doctor.Setup
}

func newWorkspace(t *testing.T, dialect string) *workspace {
	t.Helper()
	sl, err := fakeslack.New(
		fakeslack.User{ID: "UREV", Name: "rev", RealName: "Re Viewer"},
		fakeslack.User{ID: "UFIN", Name: "fin", RealName: "Fi Nance"},
		fakeslack.User{ID: "UGONE", Name: "gone", RealName: "Long Gone", Deleted: true},
		fakeslack.User{ID: "UAPP", Name: "otherbot", RealName: "Other Bot", IsBot: true})
	if err != nil {
		t.Fatal(err)
	}
	sl.AddChannel("CAPP", "approvals", fakeslack.BotUser, "UREV")
	sl.AddChannel("COUT", "outside", "UREV")
	sl.AddChannel("COLD", "old-approvals", fakeslack.BotUser)
	sl.Archive("COLD")
	sl.AddUserGroup("SREV", "UREV", "UFIN")
	sl.AddUserGroup("SEMPTY")
	ai := fakeopenai.New()
	t.Cleanup(func() { sl.Close(); ai.Close() })
	w := &workspace{slack: sl, ai: ai, dbURL: storetest.URL(t, dialect)}
	db, err := store.Open(context.Background(), w.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	w.setup = doctor.Setup{
		Slack:    doctor.Slack{APIURL: sl.APIURL(), BotToken: fakeslack.BotToken, AppToken: fakeslack.AppToken},
		Manifest: expensebot.Manifest,
		Channels: []doctor.Use{{ID: "CAPP", Where: "EXPENSEBOT_APPROVALS_CHANNEL"}},
		People: []doctor.Use{{ID: "UREV", Where: "EXPENSEBOT_REVIEWERS"}, {ID: "SREV", Where: "EXPENSEBOT_REVIEWERS"},
			{ID: "UFIN", Where: "EXPENSEBOT_FINANCE"}},
		Database: func(ctx context.Context) (store.MigrationStatus, error) { return store.InspectMigrations(ctx, w.dbURL) },
		Model:    doctor.Model{APIKey: apiKey, BaseURL: ai.URL(), Models: []string{"gpt-4o-mini"}},
		Rates: doctor.Rates{File: "../rates/testdata/rates.csv", MaxAge: 7 * 24 * time.Hour,
			Now: func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }},
	}
	return w
}

// run runs the checkup and returns its report and printed text, failing the test if a token or
// the key appears in the text.
func (w *workspace) run(t *testing.T) (doctor.Report, string) {
	t.Helper()
	r := doctor.Run(context.Background(), w.setup)
	var b bytes.Buffer
	if err := r.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, secret := range []string{fakeslack.BotToken, fakeslack.AppToken, w.setup.Slack.BotToken, w.setup.Slack.AppToken, apiKey} {
		if secret != "" && strings.Contains(out, secret) {
			t.Errorf("the report shows a secret:\n%s", out)
		}
	}
	return r, out
}

func find(r doctor.Report, check string) (doctor.Finding, bool) {
	i := slices.IndexFunc(r, func(f doctor.Finding) bool { return strings.HasPrefix(f.Check, check) })
	if i < 0 {
		return doctor.Finding{}, false
	}
	return r[i], true
}

// TestAllGood guards against a checkup that cries wolf: a setup with nothing wrong has no
// problem and no warning, and every part of it was looked at.
func TestAllGood(t *testing.T) {
	w := newWorkspace(t, store.SQLite)
	r, out := w.run(t)
	if r.Count(doctor.Problem) != 0 || r.Count(doctor.Warning) != 0 {
		t.Fatalf("problems or warnings in a good setup:\n%s", out)
	}
	for _, check := range []string{"bot token", "app-level token", "scopes", "approvals channel CAPP", "user UREV",
		"user group SREV", "user UFIN", "database", "model gpt-4o-mini", "exchange rates file"} {
		if f, ok := find(r, check); !ok || f.Status != doctor.OK {
			t.Errorf("%s: got %+v, want a ✓ finding\n%s", check, f, out)
		}
	}
	if !strings.Contains(out, "✓ approvals channel CAPP (EXPENSEBOT_APPROVALS_CHANNEL): #approvals") || !strings.HasSuffix(out, "All checks passed.\n") {
		t.Errorf("printed report:\n%s", out)
	}
	if n := len(w.ai.Requests()); n != 1 {
		t.Errorf("%d model calls, want 1", n)
	}
}

// TestFindings breaks one thing at a time and checks that the checkup names it, judges it and
// says how to fix it. Add a case for every new check or every new way a check can fail.
func TestFindings(t *testing.T) {
	without := func(scope string) []string {
		return slices.DeleteFunc(slices.Clone(fakeslack.Scopes), func(s string) bool { return s == scope })
	}
	staleNow := func() time.Time { return time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name        string
		change      func(t *testing.T, w *workspace)
		check       string
		status      doctor.Status
		detail, fix string
	}{
		{name: "optional scope missing", change: func(t *testing.T, w *workspace) { w.slack.SetScopes(without("files:write")...) },
			check: "scope files:write", status: doctor.Warning, detail: "reviewers do not see them",
			fix: "add files:write under OAuth & Permissions → Bot Token Scopes"},
		{name: "required scope missing", change: func(t *testing.T, w *workspace) { w.slack.SetScopes(without("chat:write")...) },
			check: "scope chat:write", status: doctor.Problem, detail: "cannot post approval cards", fix: "reinstall the app"},
		{name: "user groups need usergroups:read", change: func(t *testing.T, w *workspace) { w.slack.SetScopes(without("usergroups:read")...) },
			check: "scope usergroups:read", status: doctor.Problem, detail: "members cannot decide", fix: "add usergroups:read"},
		{name: "bot not in the channel", change: func(t *testing.T, w *workspace) { w.setup.Channels[0].ID = "COUT" },
			check: "approvals channel COUT (EXPENSEBOT_APPROVALS_CHANNEL)", status: doctor.Problem,
			detail: "the bot is not in #outside", fix: "type /invite @expensebot in #outside"},
		{name: "archived channel", change: func(t *testing.T, w *workspace) {
			w.setup.Channels = append(w.setup.Channels, doctor.Use{ID: "COLD", Where: "the policy file, category travel"})
		},
			check: "approvals channel COLD (the policy file, category travel)", status: doctor.Problem,
			detail: "#old-approvals is archived", fix: "unarchive #old-approvals, or set the policy file, category travel to another channel"},
		{name: "no such channel", change: func(t *testing.T, w *workspace) { w.setup.Channels[0].ID = "CNOPE" },
			check: "approvals channel CNOPE", status: doctor.Problem, detail: "no such channel", fix: "check the id in EXPENSEBOT_APPROVALS_CHANNEL"},
		{name: "unknown reviewer", change: func(t *testing.T, w *workspace) {
			w.setup.People = append(w.setup.People, doctor.Use{ID: "UNOPE", Where: "EXPENSEBOT_REVIEWERS"})
		},
			check: "user UNOPE (EXPENSEBOT_REVIEWERS)", status: doctor.Problem, detail: "no such user in this workspace",
			fix: "replace or remove UNOPE in EXPENSEBOT_REVIEWERS"},
		{name: "deactivated reviewer", change: func(t *testing.T, w *workspace) {
			w.setup.People = append(w.setup.People, doctor.Use{ID: "UGONE", Where: "EXPENSEBOT_ESCALATE_TO"})
		},
			check: "user UGONE", status: doctor.Problem, detail: "Long Gone (@gone) is deactivated", fix: "replace or remove UGONE in EXPENSEBOT_ESCALATE_TO"},
		{name: "a bot as reviewer", change: func(t *testing.T, w *workspace) {
			w.setup.People = append(w.setup.People, doctor.Use{ID: "UAPP", Where: "EXPENSEBOT_REVIEWERS"})
		},
			check: "user UAPP", status: doctor.Problem, detail: "is a bot, not a person", fix: "replace or remove UAPP"},
		{name: "unknown group", change: func(t *testing.T, w *workspace) {
			w.setup.People = append(w.setup.People, doctor.Use{ID: "SNOPE", Where: "EXPENSEBOT_REVIEWERS"})
		},
			check: "user group SNOPE", status: doctor.Problem, detail: "no such user group", fix: "Copy group ID"},
		{name: "empty group", change: func(t *testing.T, w *workspace) {
			w.setup.People = append(w.setup.People, doctor.Use{ID: "SEMPTY", Where: "EXPENSEBOT_REVIEWERS"})
		},
			check: "user group SEMPTY", status: doctor.Warning, detail: "no members", fix: "add people to the group"},
		{name: "bot token refused", change: func(t *testing.T, w *workspace) { w.setup.Slack.BotToken = "xoxb-revoked-0123456789" },
			check: "bot token", status: doctor.Problem, detail: "Slack does not accept SLACK_BOT_TOKEN (invalid_auth)",
			fix: "copy the Bot User OAuth Token again"},
		{name: "user token as bot token", change: func(t *testing.T, w *workspace) { w.setup.Slack.BotToken = "xoxp-user-0123456789" },
			check: "bot token", status: doctor.Problem, detail: "should start with xoxb-", fix: "not a user token"},
		{name: "app token refused", change: func(t *testing.T, w *workspace) { w.setup.Slack.AppToken = "xapp-revoked-0123456789" },
			check: "app-level token", status: doctor.Problem, detail: "Slack does not accept SLACK_APP_TOKEN",
			fix: "generate an App-Level Token with the connections:write scope"},
		{name: "app token missing", change: func(t *testing.T, w *workspace) { w.setup.Slack.AppToken = "" },
			check: "app-level token", status: doctor.Problem, detail: "not set", fix: "App-Level Tokens"},
		{name: "database lacks a migration", change: func(t *testing.T, w *workspace) { dropLastMigration(t, w.dbURL) },
			check: "database", status: doctor.Problem, detail: "lacks 1 migration", fix: "run 'expensebot migrate'"},
		{name: "no database", change: func(t *testing.T, w *workspace) { w.dbURL = "sqlite://" + t.TempDir() + "/nope.db" },
			check: "database", status: doctor.Problem, detail: "there is no SQLite database", fix: "check DATABASE_URL"},
		{name: "model refuses the key", change: func(t *testing.T, w *workspace) {
			w.ai.Reply(fakeopenai.Error(http.StatusUnauthorized, "Incorrect API key provided: "+apiKey))
		},
			check: "model gpt-4o-mini", status: doctor.Problem, detail: "refuses OPENAI_API_KEY (HTTP 401)", fix: "set OPENAI_API_KEY"},
		{name: "unknown model", change: func(t *testing.T, w *workspace) {
			w.ai.Reply(fakeopenai.Error(http.StatusNotFound, "The model does not exist"))
		},
			check: "model gpt-4o-mini", status: doctor.Problem, detail: "does not know this model", fix: "set OPENAI_MODEL"},
		{name: "model offline", change: func(t *testing.T, w *workspace) { w.setup.Model.APIKey = "" },
			check: "model", status: doctor.Info, detail: "offline: no OPENAI_API_KEY", fix: "set OPENAI_API_KEY"},
		{name: "stale rates", change: func(t *testing.T, w *workspace) { w.setup.Rates.Now = staleNow },
			check: "exchange rates file", status: doctor.Warning, detail: "older than EXPENSEBOT_RATES_MAX_AGE", fix: "update the file"},
		{name: "unreadable rates file", change: func(t *testing.T, w *workspace) { w.setup.Rates.File = t.TempDir() + "/rates.csv" },
			check: "exchange rates file", status: doctor.Problem, detail: "cannot be used", fix: "correct the file"},
		{name: "rates URL unreachable", change: func(t *testing.T, w *workspace) {
			srv := httptest.NewServer(http.NotFoundHandler())
			t.Cleanup(srv.Close)
			w.setup.Rates.URL = srv.URL + "/eurofxref-daily.xml"
		},
			check: "exchange rates from", status: doctor.Warning, detail: "cannot be fetched: HTTP 404", fix: "check the URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorkspace(t, store.SQLite)
			tt.change(t, w)
			r, out := w.run(t)
			f, ok := find(r, tt.check)
			if !ok {
				t.Fatalf("no finding %q:\n%s", tt.check, out)
			}
			if f.Status != tt.status || !strings.Contains(f.Detail, tt.detail) || !strings.Contains(f.Fix, tt.fix) {
				t.Errorf("got %s %q / fix %q; want %s with %q / fix with %q", f.Status, f.Detail, f.Fix, tt.status, tt.detail, tt.fix)
			}
			if !strings.Contains(out, "\n    fix: "+f.Fix+"\n") && f.Fix != "" {
				t.Errorf("the fix is not printed beneath the finding:\n%s", out)
			}
			if want := tt.status == doctor.Problem; (r.Count(doctor.Problem) > 0) != want {
				t.Errorf("problems: %d, want some: %v\n%s", r.Count(doctor.Problem), want, out)
			}
		})
	}
}

// TestRefusedBotTokenStopsTheSlackChecks guards against a wall of errors that all say the same:
// without a bot token Slack accepts, the scopes, channels and people are not asked about.
func TestRefusedBotTokenStopsTheSlackChecks(t *testing.T) {
	w := newWorkspace(t, store.SQLite)
	w.setup.Slack.BotToken = "xoxb-revoked-0123456789"
	r, out := w.run(t)
	if _, ok := find(r, "user UREV"); ok {
		t.Errorf("reviewers checked with a refused token:\n%s", out)
	}
	if f, ok := find(r, "scopes, approvals channels and reviewers"); !ok || !strings.Contains(f.Detail, "not checked") {
		t.Errorf("the report does not say what was left unchecked:\n%s", out)
	}
}

// TestRatesURL fetches the ECB's document once and judges its age.
func TestRatesURL(t *testing.T) {
	doc, err := os.ReadFile("../rates/testdata/eurofxref-daily.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write(doc) }))
	defer srv.Close()
	w := newWorkspace(t, store.SQLite)
	w.setup.Rates.File, w.setup.Rates.URL = "", srv.URL
	r, out := w.run(t)
	if f, _ := find(r, "exchange rates from"); f.Status != doctor.OK || !strings.Contains(f.Detail, "ECB") || !strings.Contains(f.Detail, "as of 2026-11-24") {
		t.Errorf("got %+v\n%s", f, out)
	}
}

// TestMigrationsOnPostgres reads the migrations of a PostgreSQL schema: current after
// migrating, one short after a migration's row is gone.
func TestMigrationsOnPostgres(t *testing.T) {
	w := newWorkspace(t, store.Postgres)
	r, out := w.run(t)
	if f, _ := find(r, "database"); f.Status != doctor.OK || !strings.Contains(f.Detail, "PostgreSQL") {
		t.Fatalf("got %+v\n%s", f, out)
	}
	dropLastMigration(t, w.dbURL)
	r, out = w.run(t)
	if f, _ := find(r, "database"); f.Status != doctor.Problem || !strings.Contains(f.Detail, "lacks 1 migration") {
		t.Errorf("got %+v\n%s", f, out)
	}
}

// TestStartLeavesOutPaidAndRepeatedCalls guards the start: no model call (it would cost money
// at every start) and no second Socket Mode URL.
func TestStartLeavesOutPaidAndRepeatedCalls(t *testing.T) {
	w := newWorkspace(t, store.SQLite)
	w.setup.Start = true
	r, out := w.run(t)
	if n := len(w.ai.Requests()); n != 0 {
		t.Errorf("%d model calls at start", n)
	}
	if n := len(w.slack.Calls("apps.connections.open")); n != 0 {
		t.Errorf("%d apps.connections.open calls at start", n)
	}
	if _, ok := find(r, "approvals channel CAPP"); !ok {
		t.Errorf("channels not checked at start:\n%s", out)
	}
}

// TestEveryManifestScopeIsExplained keeps the doctor's table of what each scope is for in step
// with manifest.yml: a scope added there must say here what stops working without it.
func TestEveryManifestScopeIsExplained(t *testing.T) {
	scopes, err := doctor.ManifestScopes(expensebot.Manifest)
	if err != nil || len(scopes) == 0 {
		t.Fatalf("manifest scopes: %v %v", scopes, err)
	}
	w := newWorkspace(t, store.SQLite)
	for _, s := range scopes {
		w.slack.SetScopes(slices.DeleteFunc(slices.Clone(scopes), func(x string) bool { return x == s })...)
		r, _ := w.run(t)
		f, ok := find(r, "scope "+s)
		if !ok || strings.Contains(f.Detail, "see the comment beside the scope") {
			t.Errorf("scope %s: %+v; say in doctor/scopes.go what stops working without it", s, f)
		}
	}
	if !slices.Equal(scopes, fakeslack.Scopes) {
		t.Errorf("the fake Slack grants %v by default, the manifest asks for %v", fakeslack.Scopes, scopes)
	}
}

// dropLastMigration forgets that the newest migration was applied, as a database left by the
// previous version looks.
func dropLastMigration(t *testing.T, dbURL string) {
	t.Helper()
	driver, dsn := "postgres", dbURL
	if f, ok := strings.CutPrefix(dbURL, "sqlite://"); ok {
		driver, dsn = "sqlite", f
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
