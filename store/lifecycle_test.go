package store_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// clock is a test clock for one store: tests move it, nothing waits.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func withClock(db *store.DB) *clock {
	c := &clock{now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	db.SetClock(c.Now)
	return c
}

var timing = expensebot.Timing{RemindAfter: 24 * time.Hour, EscalateAfter: 48 * time.Hour, ExpireAfter: 14 * 24 * time.Hour}

// routed submits an expense of submitter and routes it to review with timing.
func routed(t *testing.T, db *store.DB, key, submitter string, tm expensebot.Timing) expensebot.Expense {
	t.Helper()
	e, _, err := db.Submit(ctx, newExpense(key, submitter, 250000))
	if err != nil {
		t.Fatal(err)
	}
	e, err = db.Route(ctx, e.ID, nil, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"over the limit"}, Reviewers: []string{"UREV"}, Timing: tm})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustExpense(t *testing.T, db *store.DB, id int64) expensebot.Expense {
	t.Helper()
	e, err := db.Expense(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func detail(t *testing.T, ev expensebot.AuditEvent) map[string]any {
	t.Helper()
	var d map[string]any
	if err := json.Unmarshal(ev.Detail, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// drain delivers every queued notice and returns them as kind/event, in the order claimed.
func drain(t *testing.T, db *store.DB) string {
	t.Helper()
	var all []expensebot.Notice
	for {
		got, err := db.ClaimNotices(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			return noticeKinds(all)
		}
		for _, n := range got {
			if err := db.NoticeDone(ctx, n.ID, nil); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, got...)
	}
}

func TestQuestionPausesTimers(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		e := routed(t, db, "q", "USUB", timing)
		drain(t, db)
		if !e.RemindAt.Equal(c.Now().Add(24*time.Hour)) || !e.ExpiresAt.Equal(c.Now().Add(14*24*time.Hour)) {
			t.Fatalf("timers = remind %v, expire %v", e.RemindAt, e.ExpiresAt)
		}
		if _, err := db.AskInfo(ctx, e.ID, "USUB", "", "Really?"); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("the submitter asked themselves: %v", err)
		}
		if _, err := db.AskInfo(ctx, e.ID, "UREV", "", "  "); expensebot.ErrorCode(err) != expensebot.EINVALID {
			t.Errorf("an empty question: %v", err)
		}
		c.Add(time.Hour)
		asked, err := db.AskInfo(ctx, e.ID, "UREV", "", "Which client?")
		if err != nil || asked.Status != expensebot.StatusNeedsInfo || asked.Question != "Which client?" || asked.QuestionBy != "UREV" {
			t.Fatalf("ask = %+v, %v", asked, err)
		}
		if _, err := db.AskInfo(ctx, e.ID, "UREV", "", "And?"); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("a second question while one is open: %v", err)
		}
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UREV", Outcome: expensebot.Approve}); expensebot.ErrorCode(err) != expensebot.ECONFLICT ||
			!strings.Contains(expensebot.ErrorMessage(err), "waiting for its submitter") {
			t.Errorf("approved while the question was open: %v", err)
		}
		if got := drain(t, db); got != "update_review/info_requested,comment/info_requested" {
			t.Errorf("notices = %s", got)
		}
		// Fifteen days with the submitter: no reminder, no expiry.
		c.Add(15 * 24 * time.Hour)
		if due, _ := db.DueTimers(ctx, 10); len(due) != 0 {
			t.Errorf("timers due while the question was open: %v", due)
		}
		if _, err := db.Answer(ctx, e.ID, "UREV", "It was me", time.Hour); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("a reviewer answered for the submitter: %v", err)
		}
		back, err := db.Answer(ctx, e.ID, "USUB", "Acme Corp", 24*time.Hour)
		if err != nil || back.Status != expensebot.StatusPendingReview || back.Question != "" {
			t.Fatalf("answer = %+v, %v", back, err)
		}
		// The fifteen days did not count: the expiry moved on by them, the reminder starts over.
		if want := e.ExpiresAt.Add(15 * 24 * time.Hour); !back.ExpiresAt.Equal(want) {
			t.Errorf("expires at %v, want %v", back.ExpiresAt, want)
		}
		if want := c.Now().Add(24 * time.Hour); !back.RemindAt.Equal(want) {
			t.Errorf("remind at %v, want %v", back.RemindAt, want)
		}
		if got := drain(t, db); got != "update_review/info_provided,thread/info_provided" {
			t.Errorf("notices = %s", got)
		}
		if _, err := db.Answer(ctx, e.ID, "USUB", "Again", time.Hour); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("answered twice: %v", err)
		}
		if got := kinds(t, db, e.ID); !strings.HasSuffix(got, "routed,info_requested,info_provided") {
			t.Errorf("audit = %s", got)
		}
	})
}

func TestWithdraw(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e := routed(t, db, "w", "USUB", timing)
		if _, err := db.Withdraw(ctx, e.ID, "UREV"); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("someone else withdrew it: %v", err)
		}
		got, err := db.Withdraw(ctx, e.ID, "USUB")
		if err != nil || got.Status != expensebot.StatusWithdrawn || got.DecidedBy != "USUB" || !got.RemindAt.IsZero() {
			t.Fatalf("withdraw = %+v, %v", got, err)
		}
		if _, err := db.Withdraw(ctx, e.ID, "USUB"); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("withdrawn twice: %v", err)
		}
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UREV", Outcome: expensebot.Approve}); !strings.Contains(expensebot.ErrorMessage(err), "withdrawn") {
			t.Errorf("approved after withdrawal: %v", err)
		}
		// From needs_info too.
		q := routed(t, db, "w2", "USUB", timing)
		db.AskInfo(ctx, q.ID, "UREV", "", "Why?")
		if got, err := db.Withdraw(ctx, q.ID, "USUB"); err != nil || got.Status != expensebot.StatusWithdrawn {
			t.Errorf("withdraw from needs_info = %v, %v", got.Status, err)
		}
		// Not an approved one.
		a := routed(t, db, "w3", "USUB", timing)
		db.Decide(ctx, expensebot.Decision{ExpenseID: a.ID, Reviewer: "UREV", Outcome: expensebot.Approve})
		if _, err := db.Withdraw(ctx, a.ID, "USUB"); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("an approved expense withdrawn: %v", err)
		}
		if got := kinds(t, db, e.ID); !strings.HasSuffix(got, "routed,withdrawn") {
			t.Errorf("audit = %s", got)
		}
	})
}

func TestResubmit(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		old := routed(t, db, "r", "USUB", timing)
		again := newExpense("r-again", "USUB", 240000)
		again.ResubmitOf = old.ID
		if _, _, err := db.Submit(ctx, again); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("a pending expense was resubmitted: %v", err)
		}
		db.Decide(ctx, expensebot.Decision{ExpenseID: old.ID, Reviewer: "UREV", Outcome: expensebot.Reject, Reason: "No receipt"})
		drain(t, db)
		other := again
		other.SubmitterID, other.IdempotencyKey = "UOTHER", "r-other"
		if _, _, err := db.Submit(ctx, other); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("someone else resubmitted it: %v", err)
		}
		fresh, created, err := db.Submit(ctx, again)
		if err != nil || !created || fresh.ResubmitOf != old.ID || fresh.Status != expensebot.StatusSubmitted {
			t.Fatalf("resubmit = %+v, %v, %v", fresh, created, err)
		}
		if got := mustExpense(t, db, old.ID); got.ResubmittedAs != fresh.ID || got.Status != expensebot.StatusRejected {
			t.Errorf("old = %+v", got)
		}
		if got := drain(t, db); got != "update_review/resubmitted" {
			t.Errorf("notices = %s", got)
		}
		// The same form again is the same submission; another one is refused.
		if dup, created, err := db.Submit(ctx, again); err != nil || created || dup.ID != fresh.ID {
			t.Errorf("the same form twice: %v %v %v", dup.ID, created, err)
		}
		twice := again
		twice.IdempotencyKey = "r-twice"
		if _, _, err := db.Submit(ctx, twice); expensebot.ErrorCode(err) != expensebot.ECONFLICT || !strings.Contains(expensebot.ErrorMessage(err), "already resubmitted") {
			t.Errorf("resubmitted twice: %v", err)
		}
		if list, _ := db.BySubmitter(ctx, "USUB", 0, 10); len(list) != 2 {
			t.Errorf("a refused resubmission was stored: %d expenses", len(list))
		}
		if got := kinds(t, db, old.ID); !strings.HasSuffix(got, "rejected,resubmitted") {
			t.Errorf("old audit = %s", got)
		}
		evs, _ := db.Events(ctx, fresh.ID)
		if len(evs) == 0 || detail(t, evs[0])["resubmit_of"] != float64(old.ID) {
			t.Errorf("new audit does not link the old expense: %+v", evs)
		}
		// Resubmitting instead of answering withdraws the questioned one.
		q := routed(t, db, "rq", "USUB", timing)
		db.AskInfo(ctx, q.ID, "UREV", "", "Which hotel?")
		edit := newExpense("rq-again", "USUB", 240000)
		edit.ResubmitOf = q.ID
		if _, _, err := db.Submit(ctx, edit); err != nil {
			t.Fatal(err)
		}
		if got := mustExpense(t, db, q.ID); got.Status != expensebot.StatusWithdrawn || got.ResubmittedAs == 0 {
			t.Errorf("questioned expense after its resubmission = %+v", got)
		}
	})
}

func TestRemindOncePerPeriod(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		e := routed(t, db, "rem", "USUB", timing)
		drain(t, db)
		if fired, _ := db.Remind(ctx, e.ID, timing.RemindAfter); fired {
			t.Errorf("reminded before it was due")
		}
		for period := 1; period <= 3; period++ {
			c.Add(24 * time.Hour)
			due, _ := db.DueTimers(ctx, 10)
			if len(due) != 1 {
				t.Fatalf("period %d: due = %v", period, due)
			}
			// Eight instances race for the same reminder; one sends it.
			var fired atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					ok, err := db.Remind(ctx, e.ID, timing.RemindAfter)
					if err != nil {
						t.Error(err)
					}
					if ok {
						fired.Add(1)
					}
				})
			}
			wg.Wait()
			if fired.Load() != 1 {
				t.Errorf("period %d: %d reminders", period, fired.Load())
			}
			if got := drain(t, db); got != "thread/reminded" {
				t.Errorf("period %d: notices %s", period, got)
			}
		}
		// Four days down: one reminder, on the same cadence.
		c.Add(4 * 24 * time.Hour)
		db.Remind(ctx, e.ID, timing.RemindAfter)
		if fired, _ := db.Remind(ctx, e.ID, timing.RemindAfter); fired {
			t.Errorf("the periods missed were reminded one by one")
		}
		if got := mustExpense(t, db, e.ID); !got.RemindAt.Equal(e.RemindAt.Add(7 * 24 * time.Hour)) {
			t.Errorf("next reminder at %v, want %v", got.RemindAt, e.RemindAt.Add(7*24*time.Hour))
		}
		if n := strings.Count(kinds(t, db, e.ID), "reminded"); n != 4 {
			t.Errorf("%d reminded events, want 4", n)
		}
	})
}

func TestEscalateAndExpire(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		e := routed(t, db, "esc", "USUB", expensebot.Timing{EscalateAfter: 48 * time.Hour, ExpireAfter: 72 * time.Hour})
		drain(t, db)
		c.Add(48 * time.Hour)
		if fired, err := db.Escalate(ctx, e.ID, []string{"UREV", "SBOSSES"}, []string{"SBOSSES"}); !fired || err != nil {
			t.Fatalf("escalate = %v, %v", fired, err)
		}
		if fired, _ := db.Escalate(ctx, e.ID, []string{"UREV", "SBOSSES"}, []string{"SBOSSES"}); fired {
			t.Errorf("escalated twice")
		}
		got := mustExpense(t, db, e.ID)
		if strings.Join(got.Reviewers, ",") != "UREV,SBOSSES" || strings.Join(got.EscalatedTo, ",") != "SBOSSES" || !got.EscalateAt.IsZero() {
			t.Errorf("after escalation = %+v", got)
		}
		if n := drain(t, db); n != "update_review/escalated,thread/escalated" {
			t.Errorf("notices = %s", n)
		}
		c.Add(24 * time.Hour)
		if fired, err := db.Expire(ctx, e.ID); !fired || err != nil {
			t.Fatalf("expire = %v, %v", fired, err)
		}
		got = mustExpense(t, db, e.ID)
		if got.Status != expensebot.StatusExpired || got.DecidedBy != expensebot.ActorSystem || !got.DecidedAt.Equal(c.Now()) {
			t.Errorf("after expiry = %+v", got)
		}
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UREV", Outcome: expensebot.Approve}); !strings.Contains(expensebot.ErrorMessage(err), "expired") {
			t.Errorf("approved after expiry: %v", err)
		}
		if n := drain(t, db); n != "update_review/expired,tell_submitter/expired" {
			t.Errorf("notices = %s", n)
		}
		if got := kinds(t, db, e.ID); !strings.HasSuffix(got, "routed,escalated,expired") {
			t.Errorf("audit = %s", got)
		}
		// Expired, it can be resubmitted.
		again := newExpense("esc-again", "USUB", 250000)
		again.ResubmitOf = e.ID
		if _, _, err := db.Submit(ctx, again); err != nil {
			t.Errorf("resubmit after expiry: %v", err)
		}
	})
}

// TestScheduleTimersForOlderExpenses: an expense routed before timers existed gets them, counted
// from when a new instance first sees it, once.
func TestScheduleTimersForOlderExpenses(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		e := routed(t, db, "old", "USUB", expensebot.Timing{})
		if _, err := store.ExecForTest(db, fmt.Sprintf("UPDATE expenses SET timed = FALSE WHERE id = %d", e.ID)); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Hour)
		if n, err := db.ScheduleTimers(ctx, timing); n != 1 || err != nil {
			t.Fatalf("scheduled %d, %v", n, err)
		}
		if n, _ := db.ScheduleTimers(ctx, timing); n != 0 {
			t.Errorf("scheduled again: %d", n)
		}
		if got := mustExpense(t, db, e.ID); !got.ExpiresAt.Equal(c.Now().Add(timing.ExpireAfter)) {
			t.Errorf("expires at %v", got.ExpiresAt)
		}
	})
}

func TestDelegation(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		week := c.Now().Add(7 * 24 * time.Hour)
		for _, bad := range []expensebot.Delegation{{Reviewer: "UA", Delegate: "UA", Until: week}, {Reviewer: "UA", Delegate: "UB", Until: c.Now()}} {
			if err := db.Delegate(ctx, bad); expensebot.ErrorCode(err) != expensebot.EINVALID {
				t.Errorf("%+v: %v", bad, err)
			}
		}
		if err := db.Delegate(ctx, expensebot.Delegation{Reviewer: "UA", Delegate: "UB", Until: week}); err != nil {
			t.Fatal(err)
		}
		if err := db.Delegate(ctx, expensebot.Delegation{Reviewer: "UB", Delegate: "UA", Until: week}); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("A→B then B→A: %v", err)
		}
		if err := db.Delegate(ctx, expensebot.Delegation{Reviewer: "UB", Delegate: "UC", Until: week}); err != nil {
			t.Fatal(err)
		}
		if err := db.Delegate(ctx, expensebot.Delegation{Reviewer: "UC", Delegate: "UA", Until: week}); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("A→B→C then C→A: %v", err)
		}
		// A replaces their delegation; the old one ends.
		if err := db.Delegate(ctx, expensebot.Delegation{Reviewer: "UA", Delegate: "UD", Until: week}); err != nil {
			t.Fatal(err)
		}
		got, _ := db.Delegations(ctx)
		if fmt.Sprint(got) != fmt.Sprint([]expensebot.Delegation{{Reviewer: "UA", Delegate: "UD", Until: week}, {Reviewer: "UB", Delegate: "UC", Until: week}}) {
			t.Errorf("delegations = %v", got)
		}
		db.EndDelegation(ctx, "UA")
		c.Add(8 * 24 * time.Hour) // B is back too
		if got, _ := db.Delegations(ctx); len(got) != 0 {
			t.Errorf("delegations after the return = %v", got)
		}
		// Loops are refused even when both are set at once.
		var wg sync.WaitGroup
		var ok atomic.Int32
		until := c.Now().Add(24 * time.Hour)
		for _, d := range []expensebot.Delegation{{Reviewer: "UX", Delegate: "UY", Until: until}, {Reviewer: "UY", Delegate: "UX", Until: until}} {
			wg.Go(func() {
				if db.Delegate(ctx, d) == nil {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Errorf("%d of two opposite delegations set at once", ok.Load())
		}
	})
}

// TestDelegateDecides: a delegate's decision is recorded for the reviewer they stand in for, and
// counts as both: the second of two approvals must be someone else's.
func TestDelegateDecides(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e := pending(t, db, "two", 2)
		if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UDEL", OnBehalfOf: "USUB", Outcome: expensebot.Approve}); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("a delegate approved for the submitter: %v", err)
		}
		first, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UDEL", OnBehalfOf: "UREV", Outcome: expensebot.Approve})
		if err != nil || first.FirstApprover != "UDEL" || first.FirstApproverFor != "UREV" {
			t.Fatalf("first = %+v, %v", first, err)
		}
		for _, d := range []expensebot.Decision{{Reviewer: "UREV"}, {Reviewer: "UDEL"}, {Reviewer: "UDEL", OnBehalfOf: "UOTHER"}, {Reviewer: "UOTHER", OnBehalfOf: "UREV"}} {
			d.ExpenseID, d.Outcome = e.ID, expensebot.Approve
			if _, err := db.Decide(ctx, d); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
				t.Errorf("%s for %q counted as a second approval: %v", d.Reviewer, d.OnBehalfOf, err)
			}
		}
		got, err := db.Decide(ctx, expensebot.Decision{ExpenseID: e.ID, Reviewer: "UTWO", OnBehalfOf: "UREV2", Outcome: expensebot.Approve})
		if err != nil || got.Status != expensebot.StatusApproved || got.DecidedFor != "UREV2" {
			t.Fatalf("second = %+v, %v", got, err)
		}
		evs, _ := db.Events(ctx, e.ID)
		last := evs[len(evs)-1]
		if d := detail(t, last); last.Kind != "approved" || last.Actor != "UTWO" || d["on_behalf_of"] != "UREV2" || d["first_approver_for"] != "UREV" {
			t.Errorf("audit = %s %s %s", last.Kind, last.Actor, last.Detail)
		}
	})
}

func TestHistoryPagesAndMonths(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		withClock(db)
		for i := range 23 {
			e := newExpense(fmt.Sprintf("h%d", i), "U1", int64(100+i))
			e.IncurredOn = time.Date(2026, time.Month(9+i%3), 1+i, 0, 0, 0, 0, time.UTC)
			if _, _, err := db.Submit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		r := routed(t, db, "h-rej", "U1", timing)
		db.Decide(ctx, expensebot.Decision{ExpenseID: r.ID, Reviewer: "UREV", Outcome: expensebot.Reject, Reason: "no"})
		q := routed(t, db, "h-q", "U1", timing)
		db.AskInfo(ctx, q.ID, "UREV", "", "Who?")
		page, total, err := db.History(ctx, "U1", "", 20, 10)
		if err != nil || total != 25 || len(page) != 5 {
			t.Fatalf("page 3 = %d of %d, %v", len(page), total, err)
		}
		if page, total, _ := db.History(ctx, "U1", expensebot.StatusRejected, 0, 10); total != 1 || len(page) != 1 || page[0].ID != r.ID {
			t.Errorf("rejected = %v of %d", page, total)
		}
		if qs, _ := db.Questions(ctx, "U1"); len(qs) != 1 || qs[0].Question != "Who?" {
			t.Errorf("questions = %v", qs)
		}
		months, err := db.MonthlyTotals(ctx, "U1", time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
		if err != nil || len(months) == 0 {
			t.Fatalf("months = %v, %v", months, err)
		}
		count := map[string]int{}
		for _, m := range months {
			count[m.Month.Format("2006-01")] += m.Count
		}
		if count["2026-09"] != 0 || count["2026-10"] != 8 || count["2026-11"] != 9 || months[0].Month.Month() != time.November {
			t.Errorf("months = %v (%v)", count, months)
		}
	})
}
