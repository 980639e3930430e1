package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// each runs a contract test against every engine.
func each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.Open(t, engine))
		})
	}
}

var ctx = context.Background()

func newExpense(key, submitter string, minor int64) expensebot.Expense {
	return expensebot.Expense{
		TeamID: "T1", SubmitterID: submitter, Amount: expensebot.Money{Minor: minor, Currency: "USD"},
		Category: "meals", Description: "Team lunch", IdempotencyKey: key,
		IncurredOn: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), ReceiptFileIDs: []string{"F1"},
	}
}

// pending submits an expense and routes it to review with the given number of approvals.
func pending(t *testing.T, db *store.DB, key string, approvals int) expensebot.Expense {
	t.Helper()
	e, _, err := db.Submit(ctx, newExpense(key, "USUB", 250000))
	if err != nil {
		t.Fatal(err)
	}
	e, err = db.Route(ctx, e.ID, &expensebot.Assessment{Decision: "review", Confidence: 0.7, Model: "m"},
		expensebot.Route{ApprovalsRequired: approvals, Reasons: []string{"over the auto-approve limit"}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func kinds(t *testing.T, db *store.DB, id int64) string {
	t.Helper()
	evs, err := db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var k []string
	for _, e := range evs {
		k = append(k, e.Kind)
	}
	return strings.Join(k, ",")
}

func TestSubmitStoresExpenseAndEvent(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e, created, err := db.Submit(ctx, newExpense("k1", "U1", 4250))
		if err != nil || !created {
			t.Fatalf("submit: created=%v err=%v", created, err)
		}
		got, err := db.Expense(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Amount != (expensebot.Money{Minor: 4250, Currency: "USD"}) || got.Status != expensebot.StatusSubmitted ||
			got.Description != "Team lunch" || got.IncurredOn.Format(time.DateOnly) != "2026-11-20" ||
			len(got.ReceiptFileIDs) != 1 || got.ReceiptFileIDs[0] != "F1" || got.SubmitterID != "U1" {
			t.Errorf("stored expense = %+v", got)
		}
		if k := kinds(t, db, e.ID); k != "submitted" {
			t.Errorf("events = %s, want submitted", k)
		}
	})
}

func TestSubmitIsIdempotent(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		first, _, err := db.Submit(ctx, newExpense("trigger-1", "U1", 4250))
		if err != nil {
			t.Fatal(err)
		}
		again, created, err := db.Submit(ctx, newExpense("trigger-1", "U1", 9999))
		if err != nil || created || again.ID != first.ID || again.Amount.Minor != 4250 {
			t.Errorf("second submit = %+v created=%v err=%v; want the first expense back", again, created, err)
		}
		list, _ := db.BySubmitter(ctx, "U1", 0, 10)
		if len(list) != 1 {
			t.Errorf("%d expenses stored, want 1", len(list))
		}
		if k := kinds(t, db, first.ID); k != "submitted" {
			t.Errorf("events = %s", k)
		}
	})
}

func TestSubmitRejectsBadInputWithoutWriting(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		bad := newExpense("k", "U1", 0)
		if _, _, err := db.Submit(ctx, bad); expensebot.ErrorCode(err) != expensebot.EINVALID {
			t.Errorf("zero amount: %v", err)
		}
		if list, _ := db.BySubmitter(ctx, "U1", 0, 10); len(list) != 0 {
			t.Errorf("a refused submission left %d rows", len(list))
		}
	})
}

func TestAuditTrailIsAppendOnly(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e, _, _ := db.Submit(ctx, newExpense("k", "U1", 100))
		for _, stmt := range []string{
			"UPDATE audit_events SET actor = 'someone-else'",
			"DELETE FROM audit_events",
		} {
			if _, err := store.ExecForTest(db, stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want the database to refuse", stmt, err)
			}
		}
		if k := kinds(t, db, e.ID); k != "submitted" {
			t.Errorf("events after tampering = %s", k)
		}
	})
}

func TestRouteAutoApproveAndReview(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e, _, _ := db.Submit(ctx, newExpense("a", "U1", 4250))
		if _, err := db.StartAssessment(ctx, e.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		a := &expensebot.Assessment{Decision: "approve", Confidence: 0.98, ConfidenceSource: "logprobs", Model: "gpt-4o-mini", PromptVersion: "v1"}
		got, err := db.Route(ctx, e.ID, a, expensebot.Route{AutoApprove: true, Reasons: []string{"small and clear"}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != expensebot.StatusAutoApproved || got.DecidedBy != expensebot.ActorPolicy || got.Assessment == nil || got.Assessment.ConfidenceSource != "logprobs" {
			t.Errorf("auto-approved expense = %+v", got)
		}
		if k := kinds(t, db, e.ID); k != "submitted,assessing,assessed,routed,auto_approved" {
			t.Errorf("events = %s", k)
		}
		if _, err := db.Route(ctx, e.ID, a, expensebot.Route{}); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("routing twice: %v, want conflict", err)
		}
		p := pending(t, db, "b", 1)
		if p.Status != expensebot.StatusPendingReview || p.ApprovalsRequired != 1 || len(p.ReviewReasons) != 1 {
			t.Errorf("pending expense = %+v", p)
		}
	})
}

func TestDecideApproveRejectAndRules(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "p", 1)
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "USUB", Outcome: expensebot.Approve}); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("self-approval: %v, want forbidden", err)
		}
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UREV", Outcome: expensebot.Reject}); expensebot.ErrorCode(err) != expensebot.EINVALID {
			t.Errorf("reject without reason: %v, want invalid", err)
		}
		got, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UREV", Outcome: expensebot.Reject, Reason: "personal"})
		if err != nil || got.Status != expensebot.StatusRejected || got.DecidedBy != "UREV" || got.DecisionReason != "personal" {
			t.Fatalf("reject = %+v, %v", got, err)
		}
		now, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UOTHER", Outcome: expensebot.Approve})
		if expensebot.ErrorCode(err) != expensebot.ECONFLICT || now.DecidedBy != "UREV" || now.Status != expensebot.StatusRejected {
			t.Errorf("deciding again: %v, expense as it stands %+v", err, now)
		}
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: 999999, Reviewer: "UREV", Outcome: expensebot.Approve}); expensebot.ErrorCode(err) != expensebot.ENOTFOUND {
			t.Errorf("unknown expense: %v", err)
		}
		if k := kinds(t, db, p.ID); k != "submitted,assessed,routed,rejected" {
			t.Errorf("events = %s", k)
		}
	})
}

func TestDecideTwoApprovals(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "big", 2)
		first, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UA", Outcome: expensebot.Approve})
		if err != nil || first.Status != expensebot.StatusPendingReview || first.FirstApprover != "UA" {
			t.Fatalf("first approval = %+v, %v", first, err)
		}
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UA", Outcome: expensebot.Approve}); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("same reviewer twice: %v, want conflict", err)
		}
		final, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UB", Outcome: expensebot.Approve})
		if err != nil || final.Status != expensebot.StatusApproved || final.DecidedBy != "UB" || final.FirstApprover != "UA" {
			t.Fatalf("second approval = %+v, %v", final, err)
		}
		if k := kinds(t, db, p.ID); k != "submitted,assessed,routed,first_approval,approved" {
			t.Errorf("events = %s", k)
		}
	})
}

// TestDecideRace: 50 reviewers decide one pending expense at once; exactly one wins and every
// other one is told who decided.
func TestDecideRace(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "race", 1)
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins, lost := 0, 0
		var winner string
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := expensebot.Decision{ExpenseID: p.ID, Reviewer: fmt.Sprintf("UR%02d", i), Outcome: expensebot.Approve}
				if i%2 == 1 {
					d.Outcome, d.Reason = expensebot.Reject, "no"
				}
				e, err := db.Decide(ctx, d)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
					winner = e.DecidedBy
				case expensebot.ErrorCode(err) == expensebot.ECONFLICT && e.Status.Final():
					lost++
				default:
					t.Errorf("decider %d: unexpected error %v", i, err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || lost != 49 {
			t.Fatalf("wins=%d lost=%d, want 1 and 49", wins, lost)
		}
		got, _ := db.Expense(ctx, p.ID)
		if got.DecidedBy != winner || !got.Status.Final() {
			t.Errorf("stored %+v, winner %s", got, winner)
		}
		evs, _ := db.Events(ctx, p.ID)
		decisions := 0
		for _, e := range evs {
			if e.Kind == expensebot.EventApproved || e.Kind == expensebot.EventRejected {
				decisions++
			}
		}
		if decisions != 1 {
			t.Errorf("%d decision events, want 1", decisions)
		}
	})
}

func TestCommentKeepsPending(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "c", 1)
		got, err := db.Comment(ctx, p.ID, "UREV", "Which client was this for?")
		if err != nil || got.Status != expensebot.StatusPendingReview {
			t.Fatalf("comment: %+v %v", got, err)
		}
		evs, _ := db.Events(ctx, p.ID)
		last := evs[len(evs)-1]
		if last.Kind != "commented" || last.Actor != "UREV" || !strings.Contains(string(last.Detail), "Which client") {
			t.Errorf("last event = %+v", last)
		}
		if _, err := db.Comment(ctx, p.ID, "UREV", "  "); expensebot.ErrorCode(err) != expensebot.EINVALID {
			t.Errorf("empty comment: %v", err)
		}
	})
}

func TestQueries(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		for i := range 25 {
			if _, _, err := db.Submit(ctx, newExpense(fmt.Sprintf("q%d", i), "U1", int64(100+i))); err != nil {
				t.Fatal(err)
			}
		}
		db.Submit(ctx, newExpense("other", "U2", 500))
		page1, _ := db.BySubmitter(ctx, "U1", 0, 10)
		page2, _ := db.BySubmitter(ctx, "U1", page1[len(page1)-1].ID, 10)
		page3, _ := db.BySubmitter(ctx, "U1", page2[len(page2)-1].ID, 10)
		if len(page1) != 10 || len(page2) != 10 || len(page3) != 5 || page1[0].Amount.Minor != 124 || page3[4].Amount.Minor != 100 {
			t.Errorf("pages: %d %d %d", len(page1), len(page2), len(page3))
		}
		unfinished, _ := db.Unfinished(ctx)
		if len(unfinished) != 26 {
			t.Errorf("unfinished = %d, want 26", len(unfinished))
		}
		p := pending(t, db, "pend", 1)
		queue, _ := db.Pending(ctx, 10)
		if len(queue) != 1 || queue[0].ID != p.ID {
			t.Errorf("pending queue = %v", queue)
		}
		totals, _ := db.Totals(ctx, "U1")
		if len(totals) != 1 || totals[0].Count != 25 || totals[0].Sum.Minor != 25*100+300 {
			t.Errorf("totals = %+v", totals)
		}
	})
}

func TestExport(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		p := pending(t, db, "x", 1)
		db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UREV", Outcome: expensebot.Approve})
		var got []string
		err := db.Export(ctx, time.Time{}, func(r store.ExportRow) error {
			got = append(got, r.Event.Kind+":"+r.Expense.Amount.String())
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != "submitted:2,500.00 USD,assessed:2,500.00 USD,routed:2,500.00 USD,approved:2,500.00 USD" {
			t.Errorf("export = %v", got)
		}
		n := 0
		db.Export(ctx, time.Now().Add(time.Hour), func(store.ExportRow) error { n++; return nil })
		if n != 0 {
			t.Errorf("export since the future returned %d rows", n)
		}
	})
}

func TestMigrateIsIdempotentAndConcurrent(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := store.Open(ctx, url)
					if err == nil {
						err = db.Migrate(ctx)
						db.Close()
					}
					errs <- err
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Errorf("concurrent open: %v", err)
				}
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	corrupt := filepath.Join(dir, "corrupt.db")
	os.WriteFile(corrupt, []byte(strings.Repeat("this is not a database ", 200)), 0o600)
	tests := []struct{ url, want string }{
		{"sqlite://" + corrupt, "not a database"},
		{"mysql://localhost/x", `scheme "mysql" is not supported`},
		{"sqlite://" + filepath.Join(dir, "missing-dir", "x.db"), "cannot use the sqlite database"},
	}
	for _, tt := range tests {
		_, err := store.Open(ctx, tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%s) = %v, want %q", tt.url, err, tt.want)
		}
	}
	if b, _ := os.ReadFile(corrupt); !strings.HasPrefix(string(b), "this is not") {
		t.Errorf("Open wrote into a corrupt file")
	}
}

// TestAssessmentIsHeldByOneInstance guards against two instances asking the AI about one
// expense: an assessment in flight is neither resumed by a sweep nor started again, until its
// holder's lease runs out (it crashed), when another instance takes it over.
func TestAssessmentIsHeldByOneInstance(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		now := time.Now().UTC()
		db.SetClock(func() time.Time { return now })
		e, _, _ := db.Submit(ctx, newExpense("lease", "U1", 4250))
		if _, err := db.StartAssessment(ctx, e.ID, time.Minute); err != nil {
			t.Fatal(err)
		}
		if list, _ := db.Unfinished(ctx); len(list) != 0 {
			t.Errorf("an assessment in flight is offered to the sweep: %v", list)
		}
		if _, err := db.StartAssessment(ctx, e.ID, time.Minute); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("started twice: %v", err)
		}
		now = now.Add(61 * time.Second) // the holder died
		if list, _ := db.Unfinished(ctx); len(list) != 1 || list[0].ID != e.ID {
			t.Errorf("an abandoned assessment is not resumed: %v", list)
		}
		if got, err := db.StartAssessment(ctx, e.ID, time.Minute); err != nil || got.Status != expensebot.StatusAssessing {
			t.Errorf("take over = %v, %v", got.Status, err)
		}
	})
}

// TestSubmitAllIsOneGroup: a group commit stores the valid submissions of a group together,
// already held for assessment; an invalid one is refused on its own, and a key seen twice (in the
// group or before) creates one expense.
func TestSubmitAllIsOneGroup(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		db.Submit(ctx, newExpense("g-old", "U1", 100))
		bad := newExpense("g-bad", "U1", 100)
		bad.Description = "\u200b"
		subs := []expensebot.Submission{
			{Expense: newExpense("g1", "U1", 4250)}, {Expense: bad}, {Expense: newExpense("g2", "U2", 999)},
			{Expense: newExpense("g1", "U1", 4250)}, {Expense: newExpense("g-old", "U1", 100)},
		}
		if err := db.SubmitAll(ctx, subs, time.Minute); err != nil {
			t.Fatal(err)
		}
		created := []bool{true, false, true, false, false}
		for i, s := range subs {
			if s.Created != created[i] {
				t.Errorf("submission %d created = %v", i, s.Created)
			}
		}
		if expensebot.ErrorCode(subs[1].Err) != expensebot.EINVALID || subs[3].Saved.ID != subs[0].Saved.ID {
			t.Errorf("invalid: %v; duplicate got #%d, first #%d", subs[1].Err, subs[3].Saved.ID, subs[0].Saved.ID)
		}
		if subs[0].Saved.Status != expensebot.StatusSubmitted || kinds(t, db, subs[0].Saved.ID) != "submitted,assessing" {
			t.Errorf("new expense %s with events %s, want submitted (held) with submitted,assessing", subs[0].Saved.Status, kinds(t, db, subs[0].Saved.ID))
		}
		if _, err := db.StartAssessment(ctx, subs[0].Saved.ID, time.Minute); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("a held submission was taken: %v", err)
		}
		if list, _ := db.Unfinished(ctx); len(list) != 1 || list[0].IdempotencyKey != "g-old" {
			t.Errorf("held expenses offered to the sweep: %+v", list)
		}
	})
}
