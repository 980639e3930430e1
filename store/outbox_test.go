package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

func noticeKinds(ns []expensebot.Notice) string {
	var k []string
	for _, n := range ns {
		k = append(k, n.Kind+"/"+n.Event)
	}
	return strings.Join(k, ",")
}

func TestOutboxFollowsStateChanges(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "o", 1)
		// An expense has two queues, its card's and its submitter's DMs: the oldest of each is due.
		got, err := db.ClaimNotices(ctx, 10, time.Minute)
		if err != nil || noticeKinds(got) != "post_review/routed,tell_submitter/routed" {
			t.Fatalf("first claim = %s, %v", noticeKinds(got), err)
		}
		if again, _ := db.ClaimNotices(ctx, 10, time.Minute); len(again) != 0 {
			t.Errorf("a leased notice was claimed twice: %s", noticeKinds(again))
		}
		ev := expensebot.NewEvent(p.ID, expensebot.EventReviewPosted, expensebot.ActorSystem, nil)
		if err := db.NoticeDone(ctx, got[0].ID, &ev); err != nil {
			t.Fatal(err)
		}
		next := got[1:]
		// A failed delivery comes back after its delay, counting the attempt.
		db.NoticeRetry(ctx, next[0].ID, -time.Second, "ratelimited")
		retried, _ := db.ClaimNotices(ctx, 10, time.Minute)
		if len(retried) != 1 || retried[0].Attempts != 1 {
			t.Fatalf("retried = %+v", retried)
		}
		db.NoticeDone(ctx, retried[0].ID, nil)

		db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UREV", Outcome: expensebot.Approve})
		db.Comment(ctx, pending(t, db, "o2", 1).ID, "UREV", "why?")
		var all []string
		for range 10 {
			ns, _ := db.ClaimNotices(ctx, 10, time.Minute)
			for _, n := range ns {
				all = append(all, n.Kind+"/"+n.Event)
				db.NoticeDone(ctx, n.ID, nil)
			}
		}
		// The comment waits for its card to be posted; nothing else waits.
		if got := strings.Join(all, ","); got != "update_review/approved,tell_submitter/approved,post_review/routed,tell_submitter/routed,comment/commented" {
			t.Errorf("notices = %s", got)
		}
		if n, _ := db.PendingNotices(ctx); n != 0 {
			t.Errorf("%d notices left", n)
		}
	})
}

func TestAutoApprovalTellsSubmitterOnly(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e, _, _ := db.Submit(ctx, newExpense("auto", "U1", 100))
		db.Route(ctx, e.ID, &expensebot.Assessment{Decision: "approve", Confidence: 1}, expensebot.Route{AutoApprove: true})
		got, _ := db.ClaimNotices(ctx, 10, time.Minute)
		if noticeKinds(got) != "tell_submitter/auto_approved" {
			t.Errorf("notices = %s", noticeKinds(got))
		}
	})
}

func TestFirstSeen(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		first, err := db.FirstSeen(ctx, "Ev123")
		again, _ := db.FirstSeen(ctx, "Ev123")
		if err != nil || !first || again {
			t.Errorf("first=%v again=%v err=%v", first, again, err)
		}
	})
}

// TestBlockedCardTellsOnceAndWaits: a card Slack refuses until an administrator acts waits,
// named by its channel; its submitter is told once however often it is blocked; a check that
// finds the channel working makes it due again.
func TestBlockedCardTellsOnceAndWaits(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "b", 1)
		got, _ := db.ClaimNotices(ctx, 10, time.Minute)
		card := got[0]
		db.NoticeDone(ctx, got[1].ID, nil)
		for range 2 {
			if err := db.NoticeBlocked(ctx, card, "CAPP", "not_in_channel", time.Hour, true); err != nil {
				t.Fatal(err)
			}
		}
		ns, _ := db.ClaimNotices(ctx, 10, time.Minute)
		if noticeKinds(ns) != "tell_submitter/review_blocked" {
			t.Fatalf("after blocking: %s", noticeKinds(ns))
		}
		db.NoticeDone(ctx, ns[0].ID, nil)
		if n, _ := db.ReleaseBlocked(ctx, "COTHER"); n != 0 {
			t.Errorf("another channel released %d", n)
		}
		if n, _ := db.ReleaseBlocked(ctx, "CAPP"); n != 1 {
			t.Errorf("released %d, want 1", n)
		}
		if ns, _ := db.ClaimNotices(ctx, 10, time.Minute); noticeKinds(ns) != "post_review/routed" {
			t.Errorf("after release: %s", noticeKinds(ns))
		}
		if k := kinds(t, db, p.ID); strings.Count(k, "review_blocked") != 1 {
			t.Errorf("audit = %s", k)
		}
	})
}

// TestBacklogs: the dashboard's outbox backlog per channel, with the age of the oldest notice.
func TestBacklogs(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e, _, _ := db.Submit(ctx, newExpense("bl", "U1", 250000))
		db.StartAssessment(ctx, e.ID, time.Minute)
		db.Route(ctx, e.ID, nil, expensebot.Route{ApprovalsRequired: 1, Channel: "CAPP", Reasons: []string{"over"}}) // a card and a DM
		list, err := db.Backlogs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, b := range list {
			got[b.Channel] = b.Count
			if b.Oldest.IsZero() || time.Since(b.Oldest) > time.Hour || time.Since(b.Oldest) < -time.Minute {
				t.Errorf("oldest of %q = %v", b.Channel, b.Oldest)
			}
		}
		if got["CAPP"] != 1 || got[""] != 1 || len(got) != 2 {
			t.Errorf("backlog = %v", got)
		}
	})
}

// TestRouteAllRecordsEachOnItsOwn: routes recorded together each get their own outcome, one
// already routed or given a receipt since its assessment spoils none of the others, and the DMs
// claimed with them are delivered by the caller, never claimed by another; a card waits in the
// outbox, whose claims keep a channel's cards in order.
func TestRouteAllRecordsEachOnItsOwn(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		var ids []int64
		for _, k := range []string{"g1", "g2", "g3", "g4"} {
			e, _, err := db.Submit(ctx, newExpense(k, "U"+k, 1000)) // each lists receipt F1, not kept yet
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
		}
		if _, err := db.Route(ctx, ids[1], nil, expensebot.Route{AutoApprove: true}); err != nil {
			t.Fatal(err)
		}
		db.ClaimNotices(ctx, 10, time.Minute) // g2's DM, out of the way
		if _, err := db.AddReceipts(ctx, ids[3], []expensebot.Receipt{receiptOf("FG4", "d")}, "Ug4"); err != nil {
			t.Fatal(err)
		}
		seen := []string{"F1"} // the receipt list as each assessment read it
		rs := []expensebot.Routing{
			{ID: ids[0], Route: expensebot.Route{AutoApprove: true}, CheckReceipts: true, ReceiptFileIDs: seen},
			{ID: ids[1], Route: expensebot.Route{AutoApprove: true}, CheckReceipts: true, ReceiptFileIDs: seen},
			{ID: ids[2], Route: expensebot.Route{ApprovalsRequired: 1, Channel: "CAPP", Reasons: []string{"over"}}, CheckReceipts: true, ReceiptFileIDs: seen},
			{ID: ids[3], Route: expensebot.Route{AutoApprove: true}, CheckReceipts: true, ReceiptFileIDs: seen}, // it has FG4 now
		}
		if err := db.RouteAll(ctx, rs, time.Minute); err != nil {
			t.Fatal(err)
		}
		if rs[0].Err != nil || rs[0].Routed.Status != expensebot.StatusAutoApproved || noticeKinds(rs[0].Notices) != "tell_submitter/auto_approved" || rs[0].Notices[0].Dest != "Ug1" || rs[0].Waiting != 0 {
			t.Errorf("g1: %v %s %+v", rs[0].Err, rs[0].Routed.Status, rs[0].Notices)
		}
		if expensebot.ErrorCode(rs[1].Err) != expensebot.ECONFLICT || len(rs[1].Notices) != 0 {
			t.Errorf("g2, routed before: %v, %d notices", rs[1].Err, len(rs[1].Notices))
		}
		if rs[2].Err != nil || rs[2].Routed.Status != expensebot.StatusPendingReview || noticeKinds(rs[2].Notices) != "tell_submitter/routed" ||
			rs[2].Notices[0].Dest != "Ug3" || rs[2].Waiting != 1 {
			t.Errorf("g3: %v %s %+v, %d waiting", rs[2].Err, rs[2].Routed.Status, rs[2].Notices, rs[2].Waiting)
		}
		if !errors.Is(rs[3].Err, expensebot.ErrNewReceipts) || len(rs[3].Notices) != 0 {
			t.Errorf("g4, with a receipt the route did not see: %v", rs[3].Err)
		}
		if e, _ := db.Expense(ctx, ids[3]); e.Status != expensebot.StatusSubmitted {
			t.Errorf("g4 is %s, want still submitted", e.Status)
		}
		// The card waits for a claim; the DMs handed over are nobody else's.
		if got, _ := db.ClaimNotices(ctx, 10, time.Minute); noticeKinds(got) != "post_review/routed" || got[0].ExpenseID != ids[2] {
			t.Errorf("claimable after the routes: %s", noticeKinds(got))
		}
		// Each id handed over is the notice it was handed over as: released and claimed again,
		// the outbox says the same.
		handed := map[int64]string{}
		var released []int64
		for _, r := range rs {
			for _, n := range r.Notices {
				handed[n.ID] = fmt.Sprint(n.ExpenseID, n.Kind, n.Event)
				released = append(released, n.ID)
			}
		}
		if err := db.ReleaseNotices(ctx, released); err != nil {
			t.Fatal(err)
		}
		got, _ := db.ClaimNotices(ctx, 10, time.Minute)
		if len(got) != len(handed) {
			t.Errorf("claimed %d after release, want %d", len(got), len(handed))
		}
		for _, n := range got {
			if want := handed[n.ID]; want != fmt.Sprint(n.ExpenseID, n.Kind, n.Event) {
				t.Errorf("notice %d is %v %s %s in the outbox, was handed over as %q", n.ID, n.ExpenseID, n.Kind, n.Event, want)
			}
		}
	})
}
