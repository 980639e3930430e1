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
