package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// reach drives one new expense of submitter through the store's own operations to status s, the
// way the workflow does. It fails the test for a status it has no way to reach: a status added to
// the table fails here until this walk (and so the export's replay) knows it.
func reach(t *testing.T, db *store.DB, c *clock, s expensebot.Status, key string) expensebot.Expense {
	t.Helper()
	toReview := func() expensebot.Expense {
		e, _, err := db.Submit(ctx, newExpense(key, "USUB", 250000))
		if err != nil {
			t.Fatal(err)
		}
		e, err = db.Route(ctx, e.ID, nil, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"over the limit"}, Channel: "CAPPROVALS",
			Reviewers: []string{"UREV"}, Timing: expensebot.Timing{EscalateAfter: 30 * time.Minute, ExpireAfter: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	var e expensebot.Expense
	var err error
	switch s {
	case expensebot.StatusSubmitted:
		e, _, err = db.Submit(ctx, newExpense(key, "USUB", 250000))
	case expensebot.StatusAssessing:
		if e, _, err = db.Submit(ctx, newExpense(key, "USUB", 250000)); err == nil {
			e, err = db.StartAssessment(ctx, e.ID, time.Minute)
		}
	case expensebot.StatusPendingReview:
		e = toReview()
	case expensebot.StatusNeedsInfo:
		e, err = db.AskInfo(ctx, toReview().ID, "UREV", "", "Which client was this for?")
	case expensebot.StatusApproved:
		e, err = db.Decide(ctx, expensebot.Decision{ExpenseID: toReview().ID, Reviewer: "UREV", Outcome: expensebot.Approve})
	case expensebot.StatusRejected:
		e, err = db.Decide(ctx, expensebot.Decision{ExpenseID: toReview().ID, Reviewer: "UREV", Outcome: expensebot.Reject, Reason: "personal"})
	case expensebot.StatusAutoApproved:
		if e, _, err = db.Submit(ctx, newExpense(key, "USUB", 2500)); err == nil {
			e, err = db.Route(ctx, e.ID, nil, expensebot.Route{AutoApprove: true, Reasons: []string{"small"}})
		}
	case expensebot.StatusWithdrawn:
		e, err = db.Withdraw(ctx, toReview().ID, "USUB")
	case expensebot.StatusExpired:
		e = toReview()
		c.Add(2 * time.Hour)
		var ok bool
		if ok, err = db.Expire(ctx, e.ID); err == nil && !ok {
			err = fmt.Errorf("expense %d did not expire", e.ID)
		}
		c.Add(-2 * time.Hour)
		if err == nil {
			e, err = db.Expense(ctx, e.ID)
		}
	case expensebot.StatusPaid:
		approved := reach(t, db, c, expensebot.StatusApproved, key)
		var paid []expensebot.Paid
		if paid, err = db.Pay(ctx, []int64{approved.ID}, expensebot.Payout{By: "fiona", Actor: "fiona", Reference: "TRX-1"}); err == nil {
			e, err = paid[0].Expense, paid[0].Err
		}
	default:
		t.Fatalf("no way to reach status %q: teach reach() the store operation that leads to it", s)
	}
	if err != nil {
		t.Fatalf("reach %s: %v", s, err)
	}
	if e.Status != s {
		t.Fatalf("reach %s: got %s", s, e.Status)
	}
	return e
}

// exportStatuses is the export's status_at_event for each event of each expense, as
// "kind:status" in order.
func exportStatuses(t *testing.T, db *store.DB) map[int64][]string {
	t.Helper()
	out := map[int64][]string{}
	if err := db.Export(ctx, time.Time{}, func(r store.ExportRow) error {
		out[r.Expense.ID] = append(out[r.Expense.ID], r.Event.Kind+":"+string(r.StatusAt))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestExportReplaysEveryStatus walks every status of the table through the store and the audit
// export: the export's status at an expense's last event is the status the expense has. A status
// added later fails here until the walk reaches it and the replay (expensebot.StatusAfter) knows
// the event that leads to it.
func TestExportReplaysEveryStatus(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		want := map[int64]expensebot.Status{}
		for _, s := range expensebot.Statuses {
			e := reach(t, db, c, s, "walk-"+string(s))
			want[e.ID] = s
		}
		got := exportStatuses(t, db)
		for id, s := range want {
			evs := got[id]
			if len(evs) == 0 {
				t.Errorf("%s: expense #%d is not in the export", s, id)
				continue
			}
			if last := evs[len(evs)-1]; !strings.HasSuffix(last, ":"+string(s)) {
				t.Errorf("%s: export says %v", s, evs)
			}
		}
	})
}

// TestExportStatusAfterLifecycleEvents guards status_at_event after each event of the lifecycle
// that followed approval and rejection: a question, an answer, an escalation, a withdrawal, an
// expiry and a resubmission. On the old replay each of them read pending_review.
func TestExportStatusAfterLifecycleEvents(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		asked := reach(t, db, c, expensebot.StatusNeedsInfo, "q")
		if _, err := db.Answer(ctx, asked.ID, "USUB", "For Acme.", time.Hour); err != nil {
			t.Fatal(err)
		}
		c.Add(40 * time.Minute)
		if ok, err := db.Escalate(ctx, asked.ID, []string{"UREV", "UBOSS"}, []string{"UBOSS"}); err != nil || !ok {
			t.Fatalf("escalate: %v, %v", ok, err)
		}
		if _, err := db.Withdraw(ctx, asked.ID, "USUB"); err != nil {
			t.Fatal(err)
		}
		expired := reach(t, db, c, expensebot.StatusExpired, "x")
		questioned := reach(t, db, c, expensebot.StatusNeedsInfo, "r")
		again := newExpense("r2", "USUB", 240000)
		again.ResubmitOf = questioned.ID
		if _, _, err := db.Submit(ctx, again); err != nil {
			t.Fatal(err)
		}
		got := exportStatuses(t, db)
		tests := []struct {
			id   int64
			want string
		}{
			{asked.ID, "info_requested:needs_info,info_provided:pending_review"},
			{asked.ID, "escalated:pending_review,withdrawn:withdrawn"},
			{expired.ID, "expired:expired"},
			{questioned.ID, "info_requested:needs_info"},
			{questioned.ID, "resubmitted:needs_info,withdrawn:withdrawn"},
		}
		for _, tt := range tests {
			if trail := strings.Join(got[tt.id], ","); !strings.Contains(trail, tt.want) {
				t.Errorf("expense #%d: export = %s, want it to contain %s", tt.id, trail, tt.want)
			}
		}
	})
}

// TestReceiptSharedWhileQuestionWaits: a receipt attached while the submitter owes a reviewer an
// answer goes into the card's thread like any other, so the reviewer who asked sees it.
func TestReceiptSharedWhileQuestionWaits(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		e := reach(t, db, c, expensebot.StatusNeedsInfo, "rq")
		drain(t, db)
		if _, err := db.AddReceipts(ctx, e.ID, []expensebot.Receipt{receiptOf("FQ", "q")}, "USUB"); err != nil {
			t.Fatal(err)
		}
		got := strings.Split(drain(t, db), ",")
		if !slices.Contains(got, expensebot.NoticeShareReceipt+"/"+expensebot.EventReceiptAdded) {
			t.Errorf("notices after a receipt on a questioned expense = %v, want the receipt shared", got)
		}
	})
}
