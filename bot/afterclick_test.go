package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/internal/fakeslack"
)

// End-to-end tests of an expense's life after the first click (issue 14): a question and its
// answer, withdrawal, edit and resubmit, reminders, escalation, expiry and delegation, each on
// both engines through the real bot and the fake Slack. Timers are moved by the harness clock:
// advance jumps hours, and the instances' timer loops (every 50 ms) fire what fell due.

// reviewed submits text as emp and waits for its approval card.
func (h *harness) reviewed(text string) (expensebot.Expense, fakeslack.Message) {
	h.t.Helper()
	h.command(emp, text)
	e := h.latest(emp, expensebot.StatusPendingReview)
	return e, h.approvalMessage(e.ID, `"action_id":"approve:`)
}

// settle waits until every notice queued so far is delivered: nothing is in flight when the
// clock jumps.
func (h *harness) settle() {
	h.t.Helper()
	h.eventually("every notice delivered", func() bool {
		n, err := h.db.PendingNotices(context.Background())
		return err == nil && n == 0
	})
}

// advance settles, then moves every instance's clock on by d.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.settle()
	h.clock.advance(d)
}

// replies returns the replies in the thread of the card at ts that contain want.
func (h *harness) replies(ts, want string) []fakeslack.Message {
	var out []fakeslack.Message
	for _, m := range h.slack.Messages(approvals, "") {
		if m.ThreadTS == ts && strings.Contains(m.Visible(), want) {
			out = append(out, m)
		}
	}
	return out
}

// reply waits for a reply containing want in the thread of the card at ts.
func (h *harness) reply(ts, want string) fakeslack.Message {
	h.t.Helper()
	var found fakeslack.Message
	h.eventually("a reply in the card's thread containing "+want, func() bool {
		r := h.replies(ts, want)
		if len(r) > 0 {
			found = r[len(r)-1]
		}
		return len(r) > 0
	})
	return found
}

// clickDM clicks a button of a DM the bot sent to user.
func (h *harness) clickDM(user string, m fakeslack.Message, action string, id int64) {
	h.t.Helper()
	if _, err := h.slack.ClickMessageButton(user, user, m.TS, action+":"+itoa(id)); err != nil {
		h.t.Fatalf("%s clicks %s in their DM: %v", user, action, err)
	}
}

// submit fills and submits user's open modal, which must be callbackID, and fails on field errors.
func (h *harness) submit(user, callbackID string, fill map[string]string) {
	h.t.Helper()
	h.modal(user, callbackID)
	errs, _, err := h.slack.SubmitModal(user, fill)
	if err != nil || len(errs) > 0 {
		h.t.Fatalf("%s submits %s: errors %v, %v", user, callbackID, errs, err)
	}
}

// home opens user's App Home and waits until it shows want.
func (h *harness) home(user, want string) fakeslack.View {
	h.t.Helper()
	if _, err := h.slack.OpenHome(user); err != nil {
		h.t.Fatal(err)
	}
	return h.homeShows(user, want)
}

// homeShows waits until user's App Home shows want.
func (h *harness) homeShows(user, want string) fakeslack.View {
	h.t.Helper()
	var v fakeslack.View
	h.eventually(user+"'s App Home showing "+want, func() bool {
		var ok bool
		v, ok = h.slack.Home(user)
		return ok && strings.Contains(v.Visible(), want)
	})
	return v
}

// inOrder reports whether kinds appear in list in this order (others may come between).
func inOrder(list []string, kinds ...string) bool {
	for _, k := range list {
		if len(kinds) > 0 && k == kinds[0] {
			kinds = kinds[1:]
		}
	}
	return len(kinds) == 0
}

// initial returns what the input block of a modal is filled in with.
func initial(v fakeslack.View, block string) string {
	var view struct {
		Blocks []struct {
			BlockID string `json:"block_id"`
			Element struct {
				InitialValue  string `json:"initial_value"`
				InitialOption struct {
					Value string `json:"value"`
				} `json:"initial_option"`
			} `json:"element"`
		} `json:"blocks"`
	}
	json.Unmarshal(v.JSON, &view)
	for _, b := range view.Blocks {
		if b.BlockID == block {
			return b.Element.InitialValue + b.Element.InitialOption.Value
		}
	}
	return ""
}

func (h *harness) eventDetail(id int64, kind string) map[string]any {
	h.t.Helper()
	evs, err := h.db.Events(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == kind {
			var d map[string]any
			json.Unmarshal(ev.Detail, &d)
			return d
		}
	}
	h.t.Fatalf("expense %d has no %s event: %v", id, kind, h.events(id))
	return nil
}

// TestQuestionAnsweredReturnsToQueue: a reviewer asks; the card waits with the question and no
// buttons, reminders pause, the submitter replies from the DM; the answer lands in the card's
// thread and the expense is back in the queue with its buttons.
func TestQuestionAnsweredReturnsToQueue(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.timing = expensebot.Timing{RemindAfter: time.Hour}
		h.start()
		e, card := h.reviewed("1500 Client dinner #meals")
		h.click(rev1, card, "ask", e.ID)
		h.submit(rev1, "ask_submit", map[string]string{"question": "Which client was this? <!here>"})

		waiting := h.approvalMessage(e.ID, "Waiting for <@UEMP>'s answer")
		if strings.Contains(string(waiting.Blocks), `"action_id":"approve:`) {
			t.Errorf("a card waiting for an answer still has buttons")
		}
		h.reply(card.TS, "asked <@UEMP> about expense #"+itoa(e.ID))
		dm := h.dm(emp, "has a question about your expense #"+itoa(e.ID))
		if got := h.expense(e.ID); got.Status != expensebot.StatusNeedsInfo || got.Question != "Which client was this? <!here>" {
			t.Fatalf("stored %+v", got)
		}
		// While the question is with the submitter, nobody decides and nobody is reminded.
		h.slack.ClickStaleButton(rev2, card, "approve:"+itoa(e.ID))
		h.ephemeral(rev2, approvals, "waiting for its submitter to answer a question")
		h.home(rev1, "Waiting for review (0)")
		h.advance(3 * time.Hour)
		h.timersRan()
		if r := h.replies(card.TS, "still waiting for a decision"); len(r) != 0 {
			t.Errorf("reminded while the question was with the submitter: %d", len(r))
		}

		h.clickDM(emp, dm, "reply", e.ID)
		h.submit(emp, "reply_submit", map[string]string{"answer": "Acme Corp, for the renewal"})
		h.reply(card.TS, "<@UEMP> answered <@UREV1>'s question")
		h.reply(card.TS, "Acme Corp, for the renewal")
		h.approvalMessage(e.ID, `"action_id":"approve:`)
		h.homeShows(rev1, "Waiting for review (1)")
		if got := h.expense(e.ID); got.Status != expensebot.StatusPendingReview || got.Question != "" {
			t.Errorf("after the answer: %+v", got)
		}
		// A second reply on the old DM is refused.
		h.clickDM(emp, dm, "reply", e.ID)
		h.eventually("the second reply refused", func() bool {
			for _, m := range h.slack.Messages(emp, emp) {
				if strings.Contains(m.Text, "has no question waiting") {
					return true
				}
			}
			return false
		})
		// Reminders resume from the answer.
		h.advance(time.Hour)
		h.reply(card.TS, "still waiting for a decision")
		h.click(rev2, card, "approve", e.ID)
		h.approvalMessage(e.ID, "*Approved* by <@UREV2>")
		if got := h.events(e.ID); !inOrder(got, "routed", "info_requested", "info_provided", "reminded", "approved") {
			t.Errorf("audit trail = %s", got)
		}
	})
}

// TestWithdraw: the submitter withdraws a pending expense from the App Home, and a questioned one
// from the question's DM; each card is redrawn without buttons.
func TestWithdraw(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		e, card := h.reviewed("2500 Conference travel")
		v := h.home(emp, "Conference travel")
		if _, err := h.slack.ClickViewButton(emp, v.ID, "withdraw:"+itoa(e.ID)); err != nil {
			t.Fatal(err)
		}
		got := h.approvalMessage(e.ID, "*Withdrawn* by <@UEMP>")
		if strings.Contains(string(got.Blocks), `"action_id"`) {
			t.Errorf("a withdrawn card has buttons: %s", got.Blocks)
		}
		h.dm(emp, "Withdrew expense #"+itoa(e.ID))
		h.slack.ClickStaleButton(rev1, card, "approve:"+itoa(e.ID))
		h.ephemeral(rev1, approvals, "was withdrawn by <@UEMP>")

		q, qcard := h.reviewed("1800 Team offsite lunch")
		h.click(rev1, qcard, "ask", q.ID)
		h.submit(rev1, "ask_submit", map[string]string{"question": "How many people?"})
		dm := h.dm(emp, "has a question about your expense #"+itoa(q.ID))
		h.clickDM(emp, dm, "withdraw", q.ID)
		h.approvalMessage(q.ID, "*Withdrawn* by <@UEMP>")
		for id, want := range map[int64]string{e.ID: "withdrawn", q.ID: "withdrawn"} {
			if got := h.expense(id); string(got.Status) != want {
				t.Errorf("expense %d is %s", id, got.Status)
			}
		}
		if n := count(h.events(e.ID), "withdrawn"); n != 1 {
			t.Errorf("%d withdrawn events", n)
		}
		h.home(emp, "Withdrawn")
	})
}

// TestResubmitAfterRejection: the rejected expense's DM offers Edit and resubmit; the form opens
// filled in; the new expense is assessed and routed afresh, and both cards and both audit trails
// link the two.
func TestResubmitAfterRejection(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		old, card := h.reviewed("3000 New laptop #equipment")
		h.click(rev1, card, "reject", old.ID)
		h.submit(rev1, "reject_submit", map[string]string{"reason": "Please attach the invoice"})
		dm := h.dm(emp, "was rejected by <@UREV1>")
		h.clickDM(emp, dm, "edit", old.ID)
		form := h.modal(emp, "expense_submit")
		if !strings.Contains(form.Visible(), "Edit and resubmit") || !strings.Contains(form.Visible(), "Resubmitting #"+itoa(old.ID)) {
			t.Errorf("not the resubmission form: %s", form.Visible())
		}
		for block, want := range map[string]string{"amount": "3000.00", "description": "New laptop", "category": "equipment", "currency": "USD"} {
			if got := initial(form, block); got != want {
				t.Errorf("the form's %s is %q, want %q from #%d", block, got, want, old.ID)
			}
		}
		h.submit(emp, "expense_submit", map[string]string{"amount": "2,900", "receipt": "F0INVOICE"})
		fresh := h.latest(emp, expensebot.StatusPendingReview)
		if fresh.ID == old.ID || fresh.ResubmitOf != old.ID || fresh.Amount != usd(290000) || fresh.Description != "New laptop" || fresh.Category != "equipment" {
			t.Fatalf("resubmission = %+v", fresh)
		}
		h.approvalMessage(fresh.ID, "Resubmission of expense #"+itoa(old.ID))
		h.approvalMessage(old.ID, "Edited and resubmitted as expense #"+itoa(fresh.ID))
		if d := h.eventDetail(fresh.ID, "submitted"); d["resubmit_of"] != float64(old.ID) {
			t.Errorf("the new audit trail does not link the old one: %v", d)
		}
		if d := h.eventDetail(old.ID, "resubmitted"); d["resubmitted_as"] != float64(fresh.ID) {
			t.Errorf("the old audit trail does not link the new one: %v", d)
		}
		if got := h.expense(old.ID); got.Status != expensebot.StatusRejected {
			t.Errorf("the rejected expense changed: %s", got.Status)
		}
		// Once only: the old DM's button now says so.
		h.clickDM(emp, dm, "edit", old.ID)
		h.eventually("a second resubmission refused", func() bool {
			for _, m := range h.slack.Messages(emp, emp) {
				if strings.Contains(m.Text, "already resubmitted as #"+itoa(fresh.ID)) {
					return true
				}
			}
			return false
		})
	})
}

// TestExpiry: nobody decides in time: the expense expires (not a rejection), its card shows it
// without buttons, a click from a stale card is refused with a clear message, and the
// submitter's DM offers to edit and resubmit it, which works.
func TestExpiry(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.timing = expensebot.Timing{ExpireAfter: 336 * time.Hour}
		h.start()
		e, card := h.reviewed("2500 Conference hotel #lodging")
		h.advance(335 * time.Hour)
		h.timersRan()
		if got := h.expense(e.ID); got.Status != expensebot.StatusPendingReview {
			t.Fatalf("expired early: %s", got.Status)
		}
		h.advance(time.Hour)
		updated := h.approvalMessage(e.ID, "*Expired*")
		if strings.Contains(string(updated.Blocks), `"action_id"`) || !strings.Contains(updated.Visible(), "not a rejection") {
			t.Errorf("expired card: %s", updated.Visible())
		}
		dm := h.dm(emp, "expired: no reviewer decided it")
		if got := h.expense(e.ID); got.Status != expensebot.StatusExpired || got.DecidedBy != expensebot.ActorSystem {
			t.Errorf("stored %+v", got)
		}
		h.slack.ClickStaleButton(rev1, card, "approve:"+itoa(e.ID))
		h.ephemeral(rev1, approvals, "expired at")
		h.ephemeral(rev1, approvals, "can no longer be approved or rejected")
		if n := count(h.events(e.ID), "approved") + count(h.events(e.ID), "rejected"); n != 0 {
			t.Errorf("a decision after expiry was recorded")
		}

		h.clickDM(emp, dm, "edit", e.ID)
		h.submit(emp, "expense_submit", map[string]string{})
		fresh := h.latest(emp, expensebot.StatusPendingReview)
		if fresh.ResubmitOf != e.ID || fresh.Amount != e.Amount {
			t.Errorf("resubmission after expiry = %+v", fresh)
		}
		h.approvalMessage(fresh.ID, "Resubmission of expense #"+itoa(e.ID))
		h.home(emp, "Expired")
	})
}

// TestReminderCadenceTwoInstances: two instances on one PostgreSQL send exactly one reminder per
// period, in the card's thread, mentioning the users and groups who may decide.
func TestReminderCadenceTwoInstances(t *testing.T) {
	h := newHarness(t, "postgres")
	h.timing = expensebot.Timing{RemindAfter: 24 * time.Hour}
	h.start()
	h.start()
	e, card := h.reviewed("2500 Shared offsite")
	h.advance(23 * time.Hour)
	h.timersRan()
	if r := h.replies(card.TS, "still waiting"); len(r) != 0 {
		t.Fatalf("reminded before the period was over")
	}
	for period := 1; period <= 3; period++ {
		if period == 1 {
			h.advance(time.Hour)
		} else {
			h.advance(24 * time.Hour)
		}
		h.eventually("reminder "+itoa(int64(period)), func() bool { return len(h.replies(card.TS, "still waiting")) == period })
		h.timersRan() // each instance looked again after the reminder
		r := h.replies(card.TS, "still waiting")
		if len(r) != period {
			t.Fatalf("period %d: %d reminders", period, len(r))
		}
		if last := r[len(r)-1]; !strings.Contains(last.Visible(), "<@UREV1>") || !strings.Contains(last.Visible(), "<!subteam^S0REV>") {
			t.Errorf("the reminder does not mention who may decide: %s", last.Visible())
		}
	}
	if n := count(h.events(e.ID), "reminded"); n != 3 {
		t.Errorf("%d reminded events, want 3", n)
	}
	// Decided, it is reminded no more.
	h.click(rev1, card, "approve", e.ID)
	h.approvalMessage(e.ID, "*Approved*")
	h.advance(48 * time.Hour)
	h.timersRan()
	if n := len(h.replies(card.TS, "still waiting")); n != 3 {
		t.Errorf("%d reminders after the decision", n)
	}
}

// TestEscalationWidensWhoMayDecide: past EXPENSEBOT_ESCALATE_AFTER, EXPENSEBOT_ESCALATE_TO may
// decide too; the thread says so, the card shows it and the audit trail records it.
func TestEscalationWidensWhoMayDecide(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.timing = expensebot.Timing{EscalateAfter: 48 * time.Hour}
		h.escalateTo = []string{outsider}
		h.start()
		e, card := h.reviewed("2500 Hotel in Berlin #lodging")
		h.click(outsider, card, "approve", e.ID)
		h.ephemeral(outsider, approvals, "Only the configured reviewers")
		h.advance(49 * time.Hour)
		h.reply(card.TS, "<@UOUT> may decide it now too")
		h.approvalMessage(e.ID, "Escalated after waiting too long: <@UOUT>")
		if d := h.eventDetail(e.ID, "escalated"); d["added"] == nil {
			t.Errorf("escalated event = %v", d)
		}
		card = h.approvalMessage(e.ID, `"action_id":"approve:`)
		h.click(outsider, card, "approve", e.ID)
		h.approvalMessage(e.ID, "*Approved* by <@UOUT>")
		if got := h.expense(e.ID); got.DecidedBy != outsider || !strings.Contains(strings.Join(got.Reviewers, ","), outsider) {
			t.Errorf("stored %+v", got)
		}
		if n := count(h.events(e.ID), "escalated"); n != 1 {
			t.Errorf("%d escalations", n)
		}
	})
}

// TestDelegation: a reviewer away names a delegate on the App Home; the delegate decides for them
// (never their own expense), gets the reminders, and the card and audit say "for"; a loop is
// refused.
func TestDelegation(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.timing = expensebot.Timing{RemindAfter: 24 * time.Hour}
		h.start()
		v := h.home(rev1, "Going away?")
		if _, err := h.slack.ClickViewButton(rev1, v.ID, "delegate"); err != nil {
			t.Fatal(err)
		}
		lastDay := h.clock.Now().AddDate(0, 0, 7).Format(time.DateOnly)
		h.modal(rev1, "delegate_submit")
		if errs, _, err := h.slack.SubmitModal(rev1, map[string]string{"away_until": lastDay, "delegate": rev1}); err != nil || !strings.Contains(errs["delegate"], "someone else") {
			t.Errorf("delegating to oneself: %v %v", errs, err)
		}
		h.submit(rev1, "delegate_submit", map[string]string{"away_until": lastDay, "delegate": outsider})
		h.homeShows(rev1, "<@UOUT> decides for you")

		e, card := h.reviewed("2500 Conference travel")
		h.home(outsider, "you decide for <@UREV1>")
		h.advance(24 * time.Hour)
		r := h.reply(card.TS, "still waiting for a decision")
		if !strings.Contains(r.Visible(), "<@UOUT> (for <@UREV1>") {
			t.Errorf("the delegate is not reminded: %s", r.Visible())
		}
		h.click(outsider, card, "approve", e.ID)
		h.approvalMessage(e.ID, "*Approved* by <@UOUT> for <@UREV1>")
		h.dm(emp, "was approved by <@UOUT> for <@UREV1>")
		if d := h.eventDetail(e.ID, "approved"); d["on_behalf_of"] != rev1 {
			t.Errorf("audit = %v", d)
		}
		if got := h.expense(e.ID); got.DecidedBy != outsider || got.DecidedFor != rev1 {
			t.Errorf("stored %+v", got)
		}

		// Never their own expense.
		h.command(outsider, "2600 Outsider's own trip")
		own := h.latest(outsider, expensebot.StatusPendingReview)
		ownCard := h.approvalMessage(own.ID, "approve:")
		h.click(outsider, ownCard, "approve", own.ID)
		h.ephemeral(outsider, approvals, "You cannot decide your own expense")

		// No loop: the delegate cannot have the away reviewer decide for them.
		v = h.home(outsider, "Going away?")
		if _, err := h.slack.ClickViewButton(outsider, v.ID, "delegate"); err != nil {
			t.Fatal(err)
		}
		h.modal(outsider, "delegate_submit")
		errs, _, err := h.slack.SubmitModal(outsider, map[string]string{"away_until": lastDay, "delegate": rev1})
		if err != nil || !strings.Contains(errs["delegate"], "cannot stand in for each other") {
			t.Errorf("a loop was accepted: %v %v", errs, err)
		}
		// Back: the delegate decides no more.
		v = h.home(rev1, "I'm back")
		h.slack.ClickViewButton(rev1, v.ID, "delegate_end")
		h.homeShows(rev1, "Going away?")
		h.click(outsider, h.approvalMessage(own.ID, "approve:"), "reject", own.ID)
		h.ephemeral(outsider, approvals, "Only the configured reviewers")
	})
}

// TestAppHomeForRealUse: the submitter's open questions at the top, history pages beyond the
// latest 10 with a status filter, totals per month, and the reviewer's queue oldest first with
// each expense's age, reasons and flags.
func TestAppHomeForRealUse(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		for i := range 12 {
			e, _, err := h.db.Submit(ctx, expensebot.Expense{SubmitterID: emp, IdempotencyKey: "old" + itoa(int64(i)), Amount: usd(int64(5000 + i)),
				Description: "Taxi " + itoa(int64(i)), Category: "transport"})
			if err != nil {
				t.Fatal(err)
			}
			h.db.StartAssessment(ctx, e.ID, time.Minute)
			h.db.Route(ctx, e.ID, nil, expensebot.Route{AutoApprove: true})
		}
		h.postInterval = -1 // twelve DMs to one person at once: no pacing, this is not about Slack's limits
		h.start()
		h.advance(-50 * time.Hour) // the first expense for review is older
		h.reviewed("2500 Flights to Lisbon #travel")
		h.advance(50 * time.Hour)
		q, qcard := h.reviewed("1800 Team dinner #meals")
		h.click(rev1, qcard, "ask", q.ID)
		h.submit(rev1, "ask_submit", map[string]string{"question": "Which team?"})
		h.dm(emp, "has a question")

		v := h.home(emp, "Questions waiting for your answer (1)")
		home := v.Visible()
		if strings.Index(home, "Which team?") > strings.Index(home, "Your expenses") {
			t.Errorf("the question is not at the top:\n%s", home)
		}
		for _, want := range []string{"Page 1 of 2 · 14 expenses", "auto-approved 12 (", time.Now().Format("January 2006")} {
			if !strings.Contains(home, want) {
				t.Errorf("the App Home lacks %q:\n%s", want, home)
			}
		}
		h.slack.ClickViewButton(emp, v.ID, "history:older")
		v = h.homeShows(emp, "Page 2 of 2")
		// The history, not what the App Home lists as owed to the employee below it.
		history := func(v fakeslack.View) string { before, _, _ := strings.Cut(v.Visible(), "Owed to you"); return before }
		if !strings.Contains(history(v), "Taxi 0") || strings.Contains(history(v), "Taxi 11") {
			t.Errorf("page 2:\n%s", v.Visible())
		}
		h.slack.ClickViewButton(emp, v.ID, "history:needs_info")
		v = h.homeShows(emp, "Team dinner — Needs info")
		if strings.Contains(history(v), "Taxi") || strings.Contains(history(v), "Flights") {
			t.Errorf("the filter lets other statuses through:\n%s", v.Visible())
		}
		h.slack.ClickViewButton(emp, v.ID, "history:pending_review")
		v = h.homeShows(emp, "Flights to Lisbon — Pending review")
		if strings.Contains(history(v), "Team dinner — ") || strings.Contains(history(v), "Taxi") {
			t.Errorf("the filter lets other statuses through:\n%s", v.Visible())
		}

		r := h.home(rev2, "Waiting for review (1)").Visible()
		for _, want := range []string{"Flights to Lisbon", "waiting 2d 2h", "Why: ", "auto-approve limit"} {
			if !strings.Contains(r, want) {
				t.Errorf("the queue lacks %q:\n%s", want, r)
			}
		}
	})
}

// TestTimersSurviveRestart: timers live in the database: a reminder that fell due while no
// instance ran is sent once by the next one, and a restart does not send it again.
func TestTimersSurviveRestart(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.timing = expensebot.Timing{RemindAfter: 24 * time.Hour}
		in := h.start()
		e, card := h.reviewed("2500 Conference hotel")
		h.settle()
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		h.clock.advance(3*24*time.Hour + time.Hour) // three periods missed while down
		in = h.start()
		h.reply(card.TS, "still waiting for a decision")
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		h.start()
		h.timersRan()
		if n := len(h.replies(card.TS, "still waiting for a decision")); n != 1 {
			t.Errorf("%d reminders for the periods missed and a restart, want 1", n)
		}
		if n := count(h.events(e.ID), "reminded"); n != 1 {
			t.Errorf("%d reminded events", n)
		}
	})
}
