package store_test

import (
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
		// Only the oldest notice per expense is due: the review message is posted before anything else.
		got, err := db.ClaimNotices(ctx, 10, time.Minute)
		if err != nil || noticeKinds(got) != "post_review/routed" {
			t.Fatalf("first claim = %s, %v", noticeKinds(got), err)
		}
		if again, _ := db.ClaimNotices(ctx, 10, time.Minute); len(again) != 0 {
			t.Errorf("a leased notice was claimed twice: %s", noticeKinds(again))
		}
		ev := expensebot.NewEvent(p.ID, expensebot.EventReviewPosted, expensebot.ActorSystem, nil)
		if err := db.NoticeDone(ctx, got[0].ID, &ev); err != nil {
			t.Fatal(err)
		}
		next, _ := db.ClaimNotices(ctx, 10, time.Minute)
		if noticeKinds(next) != "tell_submitter/routed" {
			t.Fatalf("second claim = %s", noticeKinds(next))
		}
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
		if got := strings.Join(all, ","); got != "update_review/approved,post_review/routed,tell_submitter/approved,tell_submitter/routed,comment/commented" {
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
