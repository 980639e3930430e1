package store_test

import (
	"strings"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// oldSQLite0007 is what migration 0007 did on SQLite before 0011 rebuilt the table: an edit of
// the stored table definition. Databases migrated then have it.
const oldSQLite0007 = `PRAGMA writable_schema = ON;
UPDATE sqlite_master
   SET sql = replace(sql, '''rejected'', ''auto_approved'')', '''rejected'', ''auto_approved'', ''needs_info'', ''withdrawn'', ''expired'')')
 WHERE type = 'table' AND name = 'expenses';
PRAGMA writable_schema = RESET;`

// TestUpgradeToOneReceiptsTable guards the upgrade of a database with receipts in two tables
// (0009): each receipt the workflow checked keeps its hash and gains the export's link, a file
// only the export described is kept as an unchecked receipt of the expenses listing it, and the
// workflow still sees only its checked receipts. On SQLite, a database whose status CHECK was
// edited in place by the old 0007 ends with the same table definition as a new one, and the
// expense ids go on where they were.
func TestUpgradeToOneReceiptsTable(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			u := storetest.URL(t, engine)
			old, err := store.OpenAtForTest(ctx, u, 9)
			if err != nil {
				t.Fatal(err)
			}
			a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
			for _, stmt := range []string{
				`INSERT INTO expenses (id, submitter_id, amount_minor, currency, description, incurred_on, receipt_file_ids, status, idempotency_key, created_at, updated_at)
				 VALUES (1, 'U1', 100, 'EUR', 'Taxi', '2026-11-20', '["FA","FB"]', 'approved', 'k1', '2026-11-20 10:00:00', '2026-11-20 10:00:00'),
				        (2, 'U2', 200, 'EUR', 'Hotel', '2026-11-20', '["FC","FC"]', 'pending_review', 'k2', '2026-11-20 10:00:00', '2026-11-20 10:00:00'),
				        (3, 'U2', 300, 'EUR', 'Gone', '2026-11-20', '[]', 'rejected', 'k3', '2026-11-20 10:00:00', '2026-11-20 10:00:00')`,
				`INSERT INTO receipts (expense_id, file_id, size, sha256, added_by, added_at) VALUES (1, 'FA', 10, '` + a + `', 'U1', '2026-11-20 10:00:00')`,
				`INSERT INTO receipt_files (file_id, permalink, sha256, updated_at) VALUES
				 ('FA', 'https://x/FA', '` + a + `', '2026-11-21 10:00:00'), ('FB', 'https://x/FB', '` + b + `', '2026-11-21 10:00:00'),
				 ('FC', 'https://x/FC', '', '2026-11-21 10:00:00'), ('FGONE', 'https://x/gone', '', '2026-11-21 10:00:00')`,
			} {
				if _, err := store.ExecForTest(old, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			if engine == store.Postgres {
				// The rows above took their ids by hand; the bot's take theirs from the sequence.
				if _, err := store.ExecForTest(old, "SELECT setval('expenses_id_seq', 3)"); err != nil {
					t.Fatal(err)
				}
			}
			if engine == store.SQLite {
				if _, err := store.ExecForTest(old, oldSQLite0007); err != nil {
					t.Fatal(err)
				}
				// Expense 3 is gone, as rows of an AUTOINCREMENT table can be: its id is not given again.
				if _, err := store.ExecForTest(old, "DELETE FROM expenses WHERE id = 3"); err != nil {
					t.Fatal(err)
				}
			}
			old.Close()

			db, err := store.Open(ctx, u)
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			defer db.Close()
			if rs, err := db.Receipts(ctx, 1); err != nil || len(rs) != 1 || rs[0].FileID != "FA" || rs[0].SHA256 != a || rs[0].Size != 10 {
				t.Errorf("checked receipts of #1 = %+v, %v; want FA as checked", rs, err)
			}
			if rs, err := db.Receipts(ctx, 2); err != nil || len(rs) != 0 {
				t.Errorf("checked receipts of #2 = %+v, %v; want none (FC was only described)", rs, err)
			}
			files, err := db.ReceiptFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range map[string]expensebot.ReceiptFile{
				"FA": {Permalink: "https://x/FA", SHA256: a}, "FB": {Permalink: "https://x/FB", SHA256: b}, "FC": {Permalink: "https://x/FC"},
			} {
				if got := files[id]; got.Permalink != want.Permalink || got.SHA256 != want.SHA256 || got.UpdatedAt.IsZero() {
					t.Errorf("receipt file %s = %+v, want link %s and hash %q", id, got, want.Permalink, want.SHA256)
				}
			}
			if _, ok := files["FGONE"]; ok || len(files) != 3 {
				t.Errorf("receipt files = %v; want FA, FB, FC (no expense lists FGONE)", files)
			}
			if _, err := store.ExecForTest(db, "UPDATE expenses SET status = 'needs_info' WHERE id = 2"); err != nil {
				t.Errorf("a lifecycle status is refused after the upgrade: %v", err)
			}
			if _, err := store.ExecForTest(db, "UPDATE expenses SET status = 'bogus' WHERE id = 2"); err == nil {
				t.Errorf("an unknown status is accepted after the upgrade")
			}
			e, _, err := db.Submit(ctx, newExpense("after", "U1", 100))
			if err != nil || e.ID != 4 {
				t.Errorf("new expense #%d, %v; want #4, after the largest id ever given", e.ID, err)
			}
			if engine == store.SQLite {
				q := "SELECT sql FROM sqlite_master WHERE tbl_name IN ('expenses', 'receipts') AND sql IS NOT NULL ORDER BY name"
				got, err := store.QueryStringsForTest(db, q)
				want, err2 := store.QueryStringsForTest(storetest.Open(t, store.SQLite), q)
				if err != nil || err2 != nil || strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("upgraded schema differs from a new one (%v, %v):\n%s\nwant\n%s", err, err2, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
}

// TestUpgradeKeepsSpotChecks guards 0013, which rebuilds spot_checks on SQLite for its CHECK: a
// spot check flagged before the upgrade keeps who flagged it and why, can be cleared after it,
// and a state nobody defined is still refused.
func TestUpgradeKeepsSpotChecks(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			u := storetest.URL(t, engine)
			old, err := store.OpenAtForTest(ctx, u, 11)
			if err != nil {
				t.Fatal(err)
			}
			for _, stmt := range []string{
				`INSERT INTO expenses (id, submitter_id, amount_minor, currency, description, incurred_on, status, idempotency_key, created_at, updated_at)
				 VALUES (1, 'U1', 100, 'EUR', 'Taxi', '2026-11-20', 'auto_approved', 'k1', '2026-11-20 10:00:00', '2026-11-20 10:00:00')`,
				`INSERT INTO spot_checks (expense_id, rate, draw, status, channel, message_ts, checked_by, checked_at, finding, created_at)
				 VALUES (1, 0.05, 0.01, 'flagged', 'CAPP', '111.222', 'UREV1', '2026-11-21 10:00:00', 'Another date', '2026-11-20 10:00:00')`,
			} {
				if _, err := store.ExecForTest(old, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			old.Close()
			db, err := store.Open(ctx, u)
			if err != nil {
				t.Fatalf("upgrade: %v", err)
			}
			defer db.Close()
			sc, err := db.SpotCheck(ctx, 1)
			if err != nil || sc.Status != expensebot.SpotCheckFlagged || sc.CheckedBy != "UREV1" || sc.Finding != "Another date" || sc.MessageTS != "111.222" || sc.CheckedAt.IsZero() {
				t.Fatalf("after the upgrade: %+v, %v", sc, err)
			}
			if sc, err = db.SettleSpotCheck(ctx, 1, "UFIN", true, "Right date after all"); err != nil || sc.Status != expensebot.SpotCheckCleared {
				t.Fatalf("clear after the upgrade: %+v, %v", sc, err)
			}
			if _, err := store.ExecForTest(db, "UPDATE spot_checks SET status = 'bogus' WHERE expense_id = 1"); err == nil {
				t.Errorf("an unknown spot-check state is accepted after the upgrade")
			}
		})
	}
}
