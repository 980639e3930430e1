package main

import (
	"context"
	"strings"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// TestPaidCommand: `expensebot paid BATCH` marks exactly the approved expenses of the batch, each
// once; a second payout is refused, naming when and by whom it was paid, and exits non-zero;
// `--expense` pays single expenses and refuses one that is not approved; the accounting export
// no longer writes a paid expense as owed, and `expenses --status paid` lists them.
func TestPaidCommand(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			b := seed(t, url)
			financeEnv(t, url)
			if out, err := runCmd(t, "expenses", "--mark-exported"); err != nil || !strings.Contains(out, "as batch 1") {
				t.Fatalf("mark: %v\n%s", err, out)
			}
			out, err := runCmd(t, "paid", "1", "--reference", "TRX-2026-12-03", "--by", "Fiona Finance")
			if err != nil {
				t.Fatalf("paid: %v\n%s", err, out)
			}
			if !strings.Contains(out, "3 of 3 expenses of batch 1 recorded as paid by Fiona Finance, reference TRX-2026-12-03") {
				t.Errorf("paid said:\n%s", out)
			}
			db, err := store.OpenExisting(context.Background(), url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, e := range []expensebot.Expense{b.auto, b.twice, b.euro} {
				got, _ := db.Expense(context.Background(), e.ID)
				if got.Status != expensebot.StatusPaid || got.PaidBy != "Fiona Finance" || got.PaidReference != "TRX-2026-12-03" || got.ExportBatch != 1 {
					t.Errorf("#%d: %s by %q ref %q batch %d", e.ID, got.Status, got.PaidBy, got.PaidReference, got.ExportBatch)
				}
			}
			for _, e := range []expensebot.Expense{b.rejected, b.pending} {
				if got, _ := db.Expense(context.Background(), e.ID); got.Status == expensebot.StatusPaid {
					t.Errorf("#%d outside the batch was paid", e.ID)
				}
			}

			// Once.
			out, err = runCmd(t, "paid", "1", "--by", "Gil")
			if err == nil || !strings.Contains(out, "refused expense #1: Expense #1 was already paid on") || !strings.Contains(out, "by Fiona Finance (reference TRX-2026-12-03)") {
				t.Errorf("second payout: %v\n%s", err, out)
			}

			// Single expenses: a rejected one is refused, and the command fails.
			out, err = runCmd(t, "paid", "--expense", strconvI(b.rejected.ID), "--by", "Gil")
			if err == nil || !strings.Contains(out, "is rejected; only an approved expense can be paid") {
				t.Errorf("paying a rejected expense: %v\n%s", err, out)
			}

			// The accounting export owes nothing more; --status paid lists what was paid.
			out, _ = runCmd(t, "expenses", "--include-exported")
			if rows := readCSV(t, out); len(rows) != 1 {
				t.Errorf("the export still writes %d paid expenses as owed", len(rows)-1)
			}
			out, err = runCmd(t, "expenses", "--status", "paid", "--include-exported")
			if rows := readCSV(t, out); err != nil || len(rows) != 4 || byColumn(rows)[0]["status"] != "paid" {
				t.Errorf("--status paid: %v\n%s", err, out)
			}

			// Mistakes on the command line change nothing.
			for _, args := range [][]string{{"paid"}, {"paid", "--expense"}, {"paid", "1", "2"}, {"paid", "x"}, {"paid", "1", "--by", " "}} {
				if _, err := runCmd(t, args...); err == nil {
					t.Errorf("%v accepted", args)
				}
			}
			if _, err := runCmd(t, "paid", "99"); err == nil {
				t.Errorf("an unknown batch was accepted")
			}
		})
	}
}

func strconvI(n int64) string { return jsonInt(n) }
