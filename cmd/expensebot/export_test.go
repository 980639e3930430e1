package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// runExport runs `expensebot export args…` with DATABASE_URL=url and returns what it printed.
// It calls export rather than run, so that it does not depend on how run reads the environment.
func runExport(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := export(context.Background(), Config{DatabaseURL: url}, args, &out)
	return out.String(), err
}

// TestExportCSVDetailIsJSON guards the CSV's detail column: finance tools parse it, so every cell
// must be JSON text, and a rejection's reason must come back as it was typed, quotes and commas
// included. It once printed Go's byte list ([123 34 …]). To cover another event, add it to the
// trail below and check its detail the same way.
func TestExportCSVDetailIsJSON(t *testing.T) {
	const reason = `Personal, not "business": see §4`
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			ctx := context.Background()
			url := storetest.URL(t, engine)
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			e, _, err := db.Submit(ctx, expensebot.Expense{SubmitterID: "U1", IdempotencyKey: "k",
				Amount: expensebot.Money{Minor: 4200, Currency: "USD"}, Description: "Dinner", Category: "meals"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Route(ctx, e.ID, nil, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"AI check is off"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UREV", Outcome: expensebot.Reject, Reason: reason}); err != nil {
				t.Fatal(err)
			}

			out, err := runExport(t, url, "--format", "csv")
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Fatalf("csv: %v, %d rows:\n%s", err, len(rows), out)
			}
			kindCol, detailCol := slices.Index(rows[0], "event_kind"), slices.Index(rows[0], "detail")
			if kindCol < 0 || detailCol < 0 {
				t.Fatalf("header %q lacks event_kind or detail", rows[0])
			}
			var rejected []string
			for _, row := range rows[1:] {
				if !json.Valid([]byte(row[detailCol])) {
					t.Errorf("%s event: detail %q is not JSON", row[kindCol], row[detailCol])
				}
				if row[kindCol] == expensebot.EventRejected {
					rejected = row
				}
			}
			if rejected == nil {
				t.Fatalf("no rejected event in the export:\n%s", out)
			}
			var detail struct {
				Reason string `json:"reason"`
			}
			if err := json.Unmarshal([]byte(rejected[detailCol]), &detail); err != nil {
				t.Fatalf("rejected detail %q: %v", rejected[detailCol], err)
			}
			if detail.Reason != reason {
				t.Errorf("rejection reason read back = %q, want %q", detail.Reason, reason)
			}
		})
	}
}

// TestExportRefusesMissingDatabase guards against the export, pointed at the wrong place, creating
// an empty database and printing an empty trail as if there were nothing to report. A new case is
// a DATABASE_URL and the file it must not create.
func TestExportRefusesMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	for _, tt := range []struct{ name, url, file string }{
		{"DATABASE_URL unset", "", filepath.Join(dir, store.DefaultSQLiteFile)},
		{"wrong path", "sqlite://" + filepath.Join(dir, "typo.db"), filepath.Join(dir, "typo.db")},
		{"relative file: URL", "file:data/expensebot.db", filepath.Join(dir, "data", "expensebot.db")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runExport(t, tt.url)
			if err == nil || !strings.Contains(err.Error(), "no SQLite database at "+tt.file) || !strings.Contains(err.Error(), "DATABASE_URL") {
				t.Errorf("export: err = %v, want it to name %s and DATABASE_URL", err, tt.file)
			}
			if out != "" {
				t.Errorf("export printed %q before failing", out)
			}
			if _, err := os.Stat(tt.file); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("export created %s (stat: %v)", tt.file, err)
			}
		})
	}
}

// TestExportShowsTheLifecycle: finance's export carries the statuses and events of an expense's
// life after the first click: a question and its answer, a withdrawal, an expiry and a
// resubmission that names the expense it replaces.
func TestExportShowsTheLifecycle(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			ctx := context.Background()
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			now := time.Now()
			db.SetClock(func() time.Time { return now })
			pending := func(key string) expensebot.Expense {
				e, _, err := db.Submit(ctx, expensebot.Expense{SubmitterID: "U1", IdempotencyKey: key,
					Amount: expensebot.Money{Minor: 250000, Currency: "USD"}, Description: "Flights " + key, Category: "travel"})
				if err != nil {
					t.Fatal(err)
				}
				if e, err = db.Route(ctx, e.ID, nil, expensebot.Route{ApprovalsRequired: 1, Timing: expensebot.Timing{ExpireAfter: time.Hour}}); err != nil {
					t.Fatal(err)
				}
				return e
			}
			asked, gone, late := pending("asked"), pending("gone"), pending("late")
			db.AskInfo(ctx, asked.ID, "UREV", "", "Which airline?")
			db.AskInfo(ctx, gone.ID, "UREV", "", "Why?")
			db.Withdraw(ctx, gone.ID, "U1")
			now = now.Add(2 * time.Hour)
			if ok, err := db.Expire(ctx, late.ID); !ok || err != nil {
				t.Fatalf("expire: %v %v", ok, err)
			}
			again, _, err := db.Submit(ctx, expensebot.Expense{SubmitterID: "U1", IdempotencyKey: "again", ResubmitOf: late.ID,
				Amount: expensebot.Money{Minor: 240000, Currency: "USD"}, Description: "Flights, cheaper", Category: "travel"})
			if err != nil {
				t.Fatal(err)
			}

			out, err := runExport(t, url)
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			status := map[string]string{} // expense id → status
			var kinds []string
			for _, r := range rows[1:] {
				status[r[4]] = r[13]
				kinds = append(kinds, r[2])
				if r[2] == "submitted" && r[4] == strconv.FormatInt(again.ID, 10) && !strings.Contains(r[14], `"resubmit_of"`) {
					t.Errorf("the resubmission's row does not name the expense it replaces: %q", r)
				}
			}
			for id, want := range map[int64]string{asked.ID: "needs_info", gone.ID: "withdrawn", late.ID: "expired"} {
				if status[strconv.FormatInt(id, 10)] != want {
					t.Errorf("expense %d exported as %q, want %q", id, status[strconv.FormatInt(id, 10)], want)
				}
			}
			for _, want := range []string{"info_requested", "withdrawn", "expired", "resubmitted"} {
				if !strings.Contains(strings.Join(kinds, ","), want) {
					t.Errorf("no %s event in the export: %v", want, kinds)
				}
			}
		})
	}
}
