package store_test

import (
	"strings"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

func receiptOf(file, hash string) expensebot.Receipt {
	return expensebot.Receipt{FileID: file, Name: file + ".png", Filetype: "png", Mimetype: "image/png", Size: 1234, SHA256: strings.Repeat(hash, 64),
		Reading: &expensebot.ReceiptReading{Model: "vision", LatencyMS: 12, PromptTokens: 800, CompletionTokens: 40,
			Facts: expensebot.ReceiptFacts{Readable: true, Merchant: "Taxi Berlin", Total: "118.40", Currency: "EUR", Confidence: 0.9},
			Check: expensebot.ReceiptCheck{Outcome: expensebot.ReceiptMatch}}}
}

// TestAddReceipts guards the receipt record: one transaction keeps the row, its receipt_added and
// receipt_read events; the same file again adds nothing; the same bytes on another expense, by
// anyone, are marked as its duplicate; a pending card gets the file in its thread.
func TestAddReceipts(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		first := pending(t, db, "r1", 1)
		e, err := db.AddReceipts(ctx, first.ID, []expensebot.Receipt{receiptOf("FA", "a")}, "USUB")
		if err != nil {
			t.Fatal(err)
		}
		if len(e.Receipts) != 1 || e.Receipts[0].Duplicate != nil || e.Receipts[0].Reading.Facts.Merchant != "Taxi Berlin" || strings.Join(e.ReceiptFileIDs, ",") != "FA" {
			t.Fatalf("receipts = %+v, ids %v", e.Receipts, e.ReceiptFileIDs)
		}
		if _, err := db.AddReceipts(ctx, first.ID, []expensebot.Receipt{receiptOf("FA", "a")}, "USUB"); err != nil {
			t.Fatal(err)
		}
		if got := kinds(t, db, first.ID); !strings.HasSuffix(got, "routed,receipt_added,receipt_read") {
			t.Errorf("events = %s", got)
		}
		second := pending(t, db, "r2", 1)
		e, err = db.AddReceipts(ctx, second.ID, []expensebot.Receipt{receiptOf("FB", "a")}, "UOTHER")
		if err != nil {
			t.Fatal(err)
		}
		if d := e.Receipts[0].Duplicate; d == nil || d.ExpenseID != first.ID {
			t.Fatalf("duplicate = %+v, want expense %d", d, first.ID)
		}
		got, err := db.Expense(ctx, second.ID)
		if err != nil || len(got.Receipts) != 1 || got.Receipts[0].SHA256 != strings.Repeat("a", 64) {
			t.Fatalf("Expense: %+v, %v", got.Receipts, err)
		}
	})
}

// TestReroute: a receipt that satisfies the only reason approves automatically; a decision in
// between wins.
func TestReroute(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e := pending(t, db, "rr1", 1)
		got, changed, err := db.Reroute(ctx, e.ID, e.ReviewReasons, expensebot.Route{AutoApprove: true, Reasons: []string{"fine"}})
		if err != nil || !changed || got.Status != expensebot.StatusAutoApproved || got.DecidedBy != expensebot.ActorPolicy {
			t.Fatalf("reroute: %+v changed=%v err=%v", got, changed, err)
		}
		if k := kinds(t, db, e.ID); !strings.HasSuffix(k, "routed,auto_approved") {
			t.Errorf("events = %s", k)
		}
		e2 := pending(t, db, "rr2", 1)
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e2.ID, Reviewer: "UREV", Outcome: expensebot.Approve}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.Reroute(ctx, e2.ID, e2.ReviewReasons, expensebot.Route{AutoApprove: true}); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Fatalf("reroute after a decision: %v, want ECONFLICT", err)
		}
	})
}

// TestRerouteRecordsTheNewRoute: a re-route records the new route's approvals required and
// findings with its reasons, so a split found only at the re-route needs two reviewers; an
// expense one reviewer has approved keeps needing a second and is never approved automatically;
// without an approval a lower count stands.
func TestRerouteRecordsTheNewRoute(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		split := []expensebot.Finding{{Flag: expensebot.FlagSplitOverReview, Related: []expensebot.Related{{ID: 1, AmountMinor: 620000, Currency: "USD"}}}}
		e := pending(t, db, "rn1", 1)
		got, changed, err := db.Reroute(ctx, e.ID, e.ReviewReasons, expensebot.Route{ApprovalsRequired: 2, Reasons: []string{"possibly one purchase split up"}, Findings: split})
		if err != nil || !changed {
			t.Fatalf("reroute: changed=%v err=%v", changed, err)
		}
		if got.Status != expensebot.StatusPendingReview || got.ApprovalsRequired != 2 || len(got.Findings) != 1 || got.Findings[0].Flag != expensebot.FlagSplitOverReview {
			t.Fatalf("after a split found at the re-route: status %s, approvals %d, findings %+v", got.Status, got.ApprovalsRequired, got.Findings)
		}
		if stored, err := db.Expense(ctx, e.ID); err != nil || stored.ApprovalsRequired != 2 || len(stored.Findings) != 1 || stored.ReviewReasons[0] != "possibly one purchase split up" {
			t.Fatalf("stored: %+v, %v", stored, err)
		}
		// One approval of two is in: it does not decide alone, and nothing automatic decides.
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UREV1", Outcome: expensebot.Approve}); err != nil {
			t.Fatal(err)
		}
		got, changed, err = db.Reroute(ctx, e.ID, got.ReviewReasons, expensebot.Route{AutoApprove: true, Reasons: []string{"fine"}})
		if err != nil || !changed || got.Status != expensebot.StatusPendingReview || got.ApprovalsRequired != 2 || got.FirstApprover != "UREV1" ||
			!strings.Contains(strings.Join(got.ReviewReasons, " "), "second reviewer decides") || len(got.Findings) != 0 {
			t.Fatalf("automatic re-route after one approval: %+v changed=%v err=%v", got, changed, err)
		}
		got, _, err = db.Reroute(ctx, e.ID, got.ReviewReasons, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"over the auto-approve limit"}})
		if err != nil || got.ApprovalsRequired != 2 || got.Status != expensebot.StatusPendingReview {
			t.Fatalf("one approval required after one was given: %+v, %v", got, err)
		}
		if d, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UREV2", Outcome: expensebot.Approve}); err != nil || d.Status != expensebot.StatusApproved {
			t.Fatalf("second approval: %+v, %v", d, err)
		}
		// Without an approval, the new route's lower count stands.
		two := pending(t, db, "rn2", 2)
		got, _, err = db.Reroute(ctx, two.ID, two.ReviewReasons, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"over the auto-approve limit", "no receipt"}})
		if err != nil || got.ApprovalsRequired != 1 {
			t.Fatalf("lower without approvals: %+v, %v", got, err)
		}
		if k := kinds(t, db, two.ID); !strings.HasSuffix(k, "routed,routed") {
			t.Errorf("events = %s", k)
		}
	})
}

// TestOneRowPerReceipt guards the one receipts table: the export's description of a file (its
// link) lands on the receipt the workflow checked, whichever comes first, and never replaces the
// hash the check computed, so nothing needs to download the file a second time to hash it. A
// file only described is not a receipt the workflow sees, nor a duplicate of one.
func TestOneRowPerReceipt(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "one", 1) // lists F1
		other := strings.Repeat("c", 64)
		// Described before it is checked, with a hash of its own.
		if err := db.DescribeReceipt(ctx, p.ID, expensebot.ReceiptFile{FileID: "F1", Permalink: "https://x/F1", SHA256: other}); err != nil {
			t.Fatal(err)
		}
		if e, err := db.Expense(ctx, p.ID); err != nil || len(e.Receipts) != 0 {
			t.Fatalf("a described file is a checked receipt: %+v, %v", e.Receipts, err)
		}
		dup := pending(t, db, "one-dup", 1)
		if e, err := db.AddReceipts(ctx, dup.ID, []expensebot.Receipt{receiptOf("F9", "c")}, "USUB"); err != nil || e.Receipts[0].Duplicate != nil {
			t.Fatalf("a described file counted as a receipt to duplicate: %+v, %v", e.Receipts, err)
		}
		e, err := db.AddReceipts(ctx, p.ID, []expensebot.Receipt{receiptOf("F1", "a")}, "USUB")
		if err != nil || len(e.Receipts) != 1 || e.Receipts[0].SHA256 != strings.Repeat("a", 64) || e.Receipts[0].Size != 1234 {
			t.Fatalf("checked after described: %+v, %v", e.Receipts, err)
		}
		if got := kinds(t, db, p.ID); !strings.HasSuffix(got, "routed,receipt_added,receipt_read") {
			t.Errorf("events = %s", got)
		}
		// Described again after the check: the link changes, the checked hash stays.
		if err := db.DescribeReceipt(ctx, p.ID, expensebot.ReceiptFile{FileID: "F1", Permalink: "https://x/F1-new", SHA256: other}); err != nil {
			t.Fatal(err)
		}
		if err := db.DescribeReceipt(ctx, dup.ID, expensebot.ReceiptFile{FileID: "F9", Permalink: "https://x/F9"}); err != nil {
			t.Fatal(err)
		}
		files, err := db.ReceiptFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f := files["F1"]; f.Permalink != "https://x/F1-new" || f.SHA256 != strings.Repeat("a", 64) {
			t.Errorf("F1 = %+v; want the new link and the checked hash", f)
		}
		if f := files["F9"]; f.Permalink != "https://x/F9" || f.SHA256 != other {
			t.Errorf("F9 = %+v; want its link and its checked hash", f)
		}
	})
}
