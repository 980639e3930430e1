package store_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

func apiExpense(key, client, callback string) expensebot.Expense {
	e := newExpense(key, "USUB", 250000)
	e.SubmittedBy, e.CallbackURL, e.RequestHash = expensebot.ActorAPI(client), callback, "sha256:"+key
	return e
}

// TestAPISubmissionIsRecorded: what the approval API submits keeps its client, callback URL and
// request hash, and the audit trail names the client as the actor.
func TestAPISubmissionIsRecorded(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e, created, err := db.Submit(ctx, apiExpense("api:billing:k1", "billing", "https://hooks.example/x"))
		if err != nil || !created {
			t.Fatalf("submit: %v", err)
		}
		got, _ := db.Expense(ctx, e.ID)
		if got.SubmittedBy != "api:billing" || got.CallbackURL != "https://hooks.example/x" || got.RequestHash != "sha256:api:billing:k1" {
			t.Errorf("stored %+v", got)
		}
		evs, _ := db.Events(ctx, e.ID)
		if len(evs) != 1 || evs[0].Actor != "api:billing" {
			t.Errorf("submitted event = %+v", evs)
		}
		again, created, _ := db.Submit(ctx, apiExpense("api:billing:k1", "billing", "https://other.example/"))
		if created || again.ID != e.ID || again.CallbackURL != "https://hooks.example/x" {
			t.Errorf("a retried key changed the expense: %+v", again)
		}
	})
}

// TestCallbackQueuedWithFinalOutcome: the callback notice is written in the transaction of each
// final outcome (human or automatic), after the Slack notices, and only when there is a URL.
func TestCallbackQueuedWithFinalOutcome(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		drain := func() string {
			var all []expensebot.Notice
			for range 10 {
				ns, _ := db.ClaimNotices(ctx, 10, time.Minute)
				for _, n := range ns {
					all = append(all, n)
					db.NoticeDone(ctx, n.ID, nil)
				}
			}
			return noticeKinds(all)
		}
		withURL, _, _ := db.Submit(ctx, apiExpense("cb1", "billing", "https://hooks.example/x"))
		db.Route(ctx, withURL.ID, nil, expensebot.Route{ApprovalsRequired: 2})
		drain()
		db.Decide(ctx, expensebot.Decision{ExpenseID: withURL.ID, Reviewer: "UREV1", Outcome: expensebot.Approve})
		if got := drain(); got != "update_review/first_approval,tell_submitter/first_approval" {
			t.Errorf("first of two approvals queued %s", got)
		}
		db.Decide(ctx, expensebot.Decision{ExpenseID: withURL.ID, Reviewer: "UREV2", Outcome: expensebot.Reject, Reason: "no"})
		if got := drain(); got != "update_review/rejected,tell_submitter/rejected,callback/rejected" {
			t.Errorf("rejection queued %s", got)
		}
		auto, _, _ := db.Submit(ctx, apiExpense("cb2", "billing", "https://hooks.example/x"))
		db.Route(ctx, auto.ID, nil, expensebot.Route{AutoApprove: true})
		if got := drain(); got != "tell_submitter/auto_approved,callback/auto_approved" {
			t.Errorf("auto-approval queued %s", got)
		}
		none, _, _ := db.Submit(ctx, apiExpense("cb3", "billing", ""))
		db.Route(ctx, none.ID, nil, expensebot.Route{AutoApprove: true})
		if got := drain(); got != "tell_submitter/auto_approved" {
			t.Errorf("no callback URL, yet queued %s", got)
		}
	})
}

// TestNoticeDoneRecordsOnce: a notice delivered twice (its lease ran out mid-delivery) has one
// delivery in the audit trail.
func TestNoticeDoneRecordsOnce(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e, _, _ := db.Submit(ctx, apiExpense("once", "billing", "https://hooks.example/x"))
		db.Route(ctx, e.ID, nil, expensebot.Route{AutoApprove: true})
		var cb expensebot.Notice
		for range 3 {
			ns, _ := db.ClaimNotices(ctx, 10, time.Minute)
			for _, n := range ns {
				if n.Kind == expensebot.NoticeCallback {
					cb = n
					continue
				}
				db.NoticeDone(ctx, n.ID, nil)
			}
		}
		ev := expensebot.NewEvent(e.ID, expensebot.EventCallbackDelivered, expensebot.ActorSystem, nil)
		for range 2 {
			if err := db.NoticeDone(ctx, cb.ID, &ev); err != nil {
				t.Fatal(err)
			}
		}
		if got := count(kinds(t, db, e.ID), expensebot.EventCallbackDelivered); got != 1 {
			t.Errorf("%d deliveries recorded, want 1", got)
		}
	})
}

// TestChangedPagesByClient: the API's list reads what changed since a time, page by page, and a
// client sees only what it submitted.
func TestChangedPagesByClient(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		var ids []int64
		for i, client := range []string{"a", "b", "a", "a", "a"} {
			now = now.Add(time.Second)
			e, _, err := db.Submit(ctx, apiExpense("ch"+itoa(i), client, ""))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.ID)
		}
		now = now.Add(time.Second)
		db.Route(ctx, ids[0], nil, expensebot.Route{ApprovalsRequired: 1}) // changes last now
		page := func(client string, since, after time.Time, afterID int64, limit int) []int64 {
			list, err := db.Changed(ctx, client, since, after, afterID, limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range list {
				got = append(got, e.ID)
			}
			return got
		}
		start := time.Date(2026, 11, 25, 9, 0, 2, 0, time.UTC) // the second submission's time
		first := page("api:a", start, time.Time{}, 0, 2)
		if !equal(first, ids[2], ids[3]) {
			t.Fatalf("first page = %v, want %v", first, []int64{ids[2], ids[3]})
		}
		last, _ := db.Expense(ctx, first[1])
		if got := page("api:a", start, last.UpdatedAt, last.ID, 2); !equal(got, ids[4], ids[0]) {
			t.Errorf("second page = %v, want %v", got, []int64{ids[4], ids[0]})
		}
		if got := page("", time.Time{}, time.Time{}, 0, 10); len(got) != 5 {
			t.Errorf("read-all sees %v", got)
		}
		if got := page("api:b", time.Time{}, time.Time{}, 0, 10); !equal(got, ids[1]) {
			t.Errorf("client b sees %v", got)
		}
	})
}

func itoa(i int) string { return strconv.Itoa(i) }

func count(trail, kind string) int {
	n := 0
	for _, k := range strings.Split(trail, ",") {
		if k == kind {
			n++
		}
	}
	return n
}

func equal(got []int64, want ...int64) bool { return slices.Equal(got, want) }
