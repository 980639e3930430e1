package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// TestStaleHolderIsFenced: instance A's hold on an expense and its claim on the notices run out
// (it stalled) and instance B takes them. Every write A makes from then on is refused with
// ErrLostHold and changes nothing: it cannot renew, give back or route the expense, nor renew,
// retry, give up or record B's notices; B's writes go through.
func TestStaleHolderIsFenced(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			u := storetest.URL(t, engine)
			c := &clock{now: time.Now().UTC()}
			open := func() *store.DB {
				db, err := store.Open(ctx, u)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				db.SetClock(c.Now)
				return db
			}
			a, b := open(), open()
			if a.Owner() == b.Owner() {
				t.Fatalf("two instances share the owner %q", a.Owner())
			}
			e, _, err := a.Submit(ctx, newExpense("fence", "U1", 250000))
			if err != nil {
				t.Fatal(err)
			}
			held, err := a.StartAssessment(ctx, e.ID, 10*time.Second)
			if err != nil || held.HeldBy != a.Owner() || held.HoldAttempt != 1 {
				t.Fatalf("A's hold: %q attempt %d, %v", held.HeldBy, held.HoldAttempt, err)
			}
			if lost, err := a.RenewAssessments(ctx, []int64{e.ID}, 10*time.Second); err != nil || len(lost) > 0 {
				t.Fatalf("A renewing its own hold: lost %v, %v", lost, err)
			}
			if _, err := b.StartAssessment(ctx, e.ID, 10*time.Second); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
				t.Fatalf("B took a renewed hold: %v", err)
			}
			c.Add(11 * time.Second) // A stalls; its hold runs out
			taken, err := b.StartAssessment(ctx, e.ID, 10*time.Second)
			if err != nil || taken.HeldBy != b.Owner() || taken.HoldAttempt != 2 {
				t.Fatalf("B's hold: %q attempt %d, %v", taken.HeldBy, taken.HoldAttempt, err)
			}
			if lost, err := a.RenewAssessments(ctx, []int64{e.ID}, 10*time.Second); err != nil || len(lost) != 1 {
				t.Errorf("A renewed B's hold: lost %v, %v", lost, err)
			}
			if err := a.ReleaseAssessment(ctx, e.ID, 1); !errors.Is(err, expensebot.ErrLostHold) {
				t.Errorf("A gave back B's hold: %v", err)
			}
			route := func(db *store.DB, attempt int) expensebot.Routing {
				rs := []expensebot.Routing{{ID: e.ID, HoldAttempt: attempt,
					Route: expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"over the limit"}}}}
				if err := db.RouteAll(ctx, rs, 10*time.Second); err != nil {
					t.Fatal(err)
				}
				return rs[0]
			}
			if r := route(a, 1); !errors.Is(r.Err, expensebot.ErrLostHold) {
				t.Fatalf("A routed under its lost hold: %v (%s)", r.Err, r.Routed.Status)
			}
			r := route(b, 2)
			if r.Err != nil || r.Routed.Status != expensebot.StatusPendingReview {
				t.Fatalf("B's route: %v (%s)", r.Err, r.Routed.Status)
			}

			// The card waits in the outbox; A claims it, stalls, and B takes it over.
			ns, err := a.ClaimNotices(ctx, 10, 10*time.Second)
			if err != nil || len(ns) != 1 {
				t.Fatalf("A claimed %d notices: %v", len(ns), err)
			}
			card := ns[0]
			c.Add(11 * time.Second)
			again, err := b.ClaimNotices(ctx, 10, 10*time.Second)
			if err != nil || len(again) == 0 || again[0].ID != card.ID {
				t.Fatalf("B claimed %v: %v", again, err)
			}
			if len(again) > 1 { // the DM B's route claimed, whose lease ran out too: done with it
				if err := b.NoticesDone(ctx, []expensebot.Delivered{{NoticeID: again[1].ID}}); err != nil {
					t.Fatal(err)
				}
			}
			for op, err := range map[string]error{
				"renew":   a.RenewNotices(ctx, []int64{card.ID}, 10*time.Second),
				"retry":   a.NoticeRetry(ctx, card.ID, time.Minute, "slow"),
				"give up": a.NoticeFailed(ctx, card.ID, "gone"),
				"block":   a.NoticeBlocked(ctx, card, "CAPP", "not in channel", time.Hour, false),
			} {
				if !errors.Is(err, expensebot.ErrLostHold) {
					t.Errorf("A's %s of B's notice: %v, want ErrLostHold", op, err)
				}
			}
			if err := a.NoticesDone(ctx, []expensebot.Delivered{{NoticeID: card.ID}}); err != nil {
				t.Fatal(err)
			}
			if n, _ := a.PendingNotices(ctx); n != 1 {
				t.Errorf("A's record of B's notice was kept: %d pending, want 1", n)
			}
			if err := b.RenewNotices(ctx, []int64{card.ID}, 10*time.Second); err != nil {
				t.Errorf("B renewing its claim: %v", err)
			}
			if err := b.NoticesDone(ctx, []expensebot.Delivered{{NoticeID: card.ID}}); err != nil {
				t.Fatal(err)
			}
			if n, _ := b.PendingNotices(ctx); n != 0 {
				t.Errorf("B's record refused: %d pending", n)
			}
		})
	}
}
