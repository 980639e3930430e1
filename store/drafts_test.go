package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// TestDrafts guards the drafts' record: one key makes one draft whatever the retries, and once it
// ended it is not made again; a draft is due at its expiry; ending it removes it once, with one
// event, and its trail cannot be changed; a submission that carries a draft's read receipt keeps
// it with the expense in the same transaction, with its events.
func TestDrafts(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		d := expensebot.Draft{UserID: "UA", TeamID: "T1", Channel: "DUA", Receipt: receiptOf("FD", "d"),
			Amount: expensebot.Money{Minor: 11840, Currency: "USD"}, Merchant: "City Cab Co", Category: "transport",
			Description: "Receipt from City Cab Co", IncurredOn: now.Truncate(24 * time.Hour), ExpiresAt: now.Add(time.Hour)}
		saved, created, err := db.CreateDraft(ctx, "im:DUA:1.0:FD", d)
		if err != nil || !created || saved.ID == 0 {
			t.Fatalf("create: %+v %v %v", saved, created, err)
		}
		again, created, err := db.CreateDraft(ctx, "im:DUA:1.0:FD", d)
		if err != nil || created || again.ID != saved.ID {
			t.Fatalf("the same key again: %+v %v %v", again, created, err)
		}
		if err := db.SetDraftMessage(ctx, saved.ID, "9.9"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Draft(ctx, saved.ID)
		if err != nil || got.MessageTS != "9.9" || got.Amount != d.Amount || got.Receipt.Reading == nil || got.Receipt.Reading.Facts.Merchant != "Taxi Berlin" || got.Receipt.SHA256 != d.Receipt.SHA256 {
			t.Fatalf("draft = %+v, %v", got, err)
		}
		if due, _ := db.DueDrafts(ctx, now, 10); len(due) != 0 {
			t.Errorf("due before its time: %v", due)
		}
		if due, _ := db.DueDrafts(ctx, now.Add(time.Hour), 10); len(due) != 1 {
			t.Errorf("due at its time: %d", len(due))
		}
		if _, ended, err := db.EndDraft(ctx, saved.ID, expensebot.EventDraftDiscarded, "UA", nil); err != nil || !ended {
			t.Fatalf("end: %v %v", ended, err)
		}
		if _, ended, err := db.EndDraft(ctx, saved.ID, expensebot.EventDraftExpired, "system", nil); err != nil || ended {
			t.Fatalf("end twice: %v %v", ended, err)
		}
		if _, err := db.Draft(ctx, saved.ID); expensebot.ErrorCode(err) != expensebot.ENOTFOUND {
			t.Errorf("ended draft: %v", err)
		}
		if _, seen, live, _ := db.DraftSeen(ctx, "im:DUA:1.0:FD"); !seen || live {
			t.Errorf("after it ended: seen %v live %v", seen, live)
		}
		if _, created, _ := db.CreateDraft(ctx, "im:DUA:1.0:FD", d); created {
			t.Error("a redelivery after the draft ended made it again")
		}
		evs, err := db.DraftEvents(ctx, saved.ID)
		if err != nil || len(evs) != 2 || evs[0].Kind != expensebot.EventDraftCreated || evs[1].Kind != expensebot.EventDraftDiscarded {
			t.Fatalf("trail = %+v, %v", evs, err)
		}
		for _, stmt := range []string{"DELETE FROM draft_events", "UPDATE draft_events SET kind = 'x'"} {
			if _, err := store.ExecForTest(db, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: %v; the drafts' trail is append-only", stmt, err)
			}
		}

		e := d.Expense()
		e.IdempotencyKey = "draft:1"
		e.Receipts = []expensebot.Receipt{d.Receipt}
		subs := []expensebot.Submission{{Expense: e}}
		if err := db.SubmitAll(ctx, subs, time.Minute); err != nil || subs[0].Err != nil {
			t.Fatalf("submit: %v %v", err, subs[0].Err)
		}
		s := subs[0].Saved
		if len(s.Receipts) != 1 || s.Receipts[0].Reading == nil || s.Receipts[0].FileID != "FD" {
			t.Fatalf("submitted with its receipt: %+v", s.Receipts)
		}
		if k := kinds(t, db, s.ID); !strings.Contains(k, "receipt_added,receipt_read") {
			t.Errorf("events = %s", k)
		}
	})
}
