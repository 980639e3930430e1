package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

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
