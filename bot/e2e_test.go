package bot_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store/storetest"
)

// each runs an end-to-end scenario against both database engines.
func each(t *testing.T, fn func(t *testing.T, h *harness)) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, engine)
			fn(t, h)
		})
	}
}

func TestQuickSubmitAutoApproved(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		ack := h.command(emp, "42.50 Team lunch #meals")
		var body map[string]any
		json.Unmarshal(ack.Payload, &body)
		if body["response_type"] != "ephemeral" || !strings.Contains(body["text"].(string), "Received your expense #") || !strings.Contains(body["text"].(string), ": 42.50 USD") {
			t.Errorf("ack = %s", ack.Payload)
		}
		// The ack is sent after the commit: the expense it names is already in the database.
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 1); len(list) != 1 || !strings.Contains(body["text"].(string), fmt.Sprintf("#%d:", list[0].ID)) {
			t.Errorf("acked before the expense was saved: %v, ack %s", list, ack.Payload)
		}
		h.dm(emp, "was approved automatically")
		e := h.latest(emp, expensebot.StatusAutoApproved)
		if e.Amount != usd(4250) || e.Category != "meals" || e.Description != "Team lunch" || e.Assessment.ConfidenceSource != "model" {
			t.Errorf("expense = %+v", e)
		}
		h.eventually("notified event", func() bool { return count(h.events(e.ID), "notified") == 1 })
		if got := strings.Join(h.events(e.ID), ","); got != "submitted,assessing,assessed,routed,auto_approved,notified" {
			t.Errorf("audit trail = %s", got)
		}
		if n := len(h.slack.Messages(approvals, "")); n != 0 {
			t.Errorf("an auto-approved expense was posted for review (%d messages)", n)
		}
	})
}

func TestReviewThenApprove(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "2500 Conference travel #travel")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, `"action_id":"approve:`)
		for _, want := range []string{"Expense #" + itoa(e.ID) + " · 2,500.00 USD", "<@UEMP>", "AI suggests *approve* (confidence 0.99", "at or above the auto-approve limit", "No receipt"} {
			if !strings.Contains(m.Visible(), want) {
				t.Errorf("approvals message lacks %q: %s", want, m.Visible())
			}
		}
		h.dm(emp, "went to a reviewer")
		h.click(rev1, m, "approve", e.ID)
		h.approvalMessage(e.ID, "*Approved* by <@UREV1>")
		updated, _ := h.slack.Message(approvals, m.TS)
		if strings.Contains(string(updated.Blocks), `"action_id"`) || !updated.Edited {
			t.Errorf("buttons still there after the decision: %s", updated.Blocks)
		}
		h.dm(emp, "was approved by <@UREV1>")
		if got := h.expense(e.ID); got.Status != expensebot.StatusApproved || got.DecidedBy != rev1 {
			t.Errorf("stored %+v", got)
		}
	})
}

func TestRejectNeedsReason(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "3000 New laptop #equipment")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "reject:")
		h.click(rev1, m, "reject", e.ID)
		h.modal(rev1, "reject_submit")
		errs, _, err := h.slack.SubmitModal(rev1, map[string]string{"reason": "  "})
		if err != nil || !strings.Contains(errs["reason"], "Please write something") {
			t.Fatalf("empty reason: errs=%v err=%v", errs, err)
		}
		if _, _, err := h.slack.SubmitModal(rev1, map[string]string{"reason": "Personal purchase <!here>"}); err != nil {
			t.Fatal(err)
		}
		h.approvalMessage(e.ID, "*Rejected* by <@UREV1>")
		h.approvalMessage(e.ID, "Personal purchase &lt;!here&gt;")
		h.dm(emp, "was rejected by <@UREV1>: Personal purchase &lt;!here&gt;")
		if got := h.expense(e.ID); got.Status != expensebot.StatusRejected || got.DecisionReason != "Personal purchase <!here>" {
			t.Errorf("stored %+v", got)
		}
	})
}

func TestCommentKeepsPending(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "1500 Client dinner #meals")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "comment:")
		h.click(rev2, m, "comment", e.ID)
		h.modal(rev2, "comment_submit")
		if _, _, err := h.slack.SubmitModal(rev2, map[string]string{"comment": "Which client was this?"}); err != nil {
			t.Fatal(err)
		}
		h.dm(emp, "<@UREV2> commented on expense #"+itoa(e.ID))
		h.eventually("comment in the thread", func() bool {
			for _, r := range h.slack.Messages(approvals, "") {
				if r.ThreadTS == m.TS && strings.Contains(r.Text, "Which client was this?") {
					return true
				}
			}
			return false
		})
		if got := h.expense(e.ID); got.Status != expensebot.StatusPendingReview {
			t.Errorf("status after comment = %s", got.Status)
		}
		still, _ := h.slack.Message(approvals, m.TS)
		if !strings.Contains(string(still.Blocks), "approve:") {
			t.Errorf("buttons gone after a comment")
		}
	})
}

func TestTwoApprovals(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "20000 Offsite venue")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "Needs 2 approvals")
		h.click(rev1, m, "approve", e.ID)
		h.approvalMessage(e.ID, "1 of 2 approvals: <@UREV1>")
		h.dm(emp, "1 of 2 approvals")
		h.click(rev1, m, "approve", e.ID)
		h.ephemeral(rev1, approvals, "a second, different reviewer must approve")
		if got := h.expense(e.ID); got.Status != expensebot.StatusPendingReview {
			t.Fatalf("one reviewer approved twice and it counted: %+v", got)
		}
		h.click(rev2, m, "approve", e.ID)
		h.approvalMessage(e.ID, "*Approved* by <@UREV2>")
		h.approvalMessage(e.ID, "first approval: <@UREV1>")
		h.dm(emp, "was approved by <@UREV2>")
	})
}

func TestWhoMayDecide(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(rev1, "5000 Team offsite catering")
		e := h.latest(rev1, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "approve:")
		h.click(rev1, m, "approve", e.ID)
		h.ephemeral(rev1, approvals, "You cannot decide your own expense")
		h.click(outsider, m, "approve", e.ID)
		h.ephemeral(outsider, approvals, "Only the configured reviewers")
		h.click(outsider, m, "reject", e.ID)
		h.eventually("two more refusals recorded", func() bool { return count(h.events(e.ID), "refused") == 3 })
		if _, open := h.slack.Modal(outsider); open {
			t.Errorf("a non-reviewer got the reject form")
		}
		if got := h.expense(e.ID); got.Status != expensebot.StatusPendingReview {
			t.Errorf("a refused decision changed the expense: %+v", got)
		}
		// A reviewer through the user group may decide.
		h.click(rev2, m, "approve", e.ID)
		h.approvalMessage(e.ID, "*Approved* by <@UREV2>")
	})
}

func TestDoubleClickAndRace(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "2500 Hotel in Berlin #lodging")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "approve:")
		var wg sync.WaitGroup
		for _, click := range []struct{ user, action string }{{rev1, "approve"}, {rev1, "approve"}, {rev2, "approve"}, {rev2, "approve"}} {
			wg.Add(1)
			go func() { defer wg.Done(); h.click(click.user, m, click.action, e.ID) }()
		}
		wg.Wait()
		got := h.latest(emp, expensebot.StatusApproved)
		h.eventually("the losers are told", func() bool {
			n := 0
			for _, u := range []string{rev1, rev2} {
				for _, msg := range h.slack.Messages(approvals, u) {
					if msg.EphemeralTo == u && strings.Contains(msg.Text, "was already approved by <@"+got.DecidedBy+">") {
						n++
					}
				}
			}
			return n == 3
		})
		if n := count(h.events(e.ID), "approved"); n != 1 {
			t.Errorf("%d approval events, want 1", n)
		}
		h.dm(emp, "was approved by")
		h.settle() // every notice the decision and the losing clicks queued is delivered
		dms := 0
		for _, msg := range h.slack.Messages(emp, emp) {
			if strings.Contains(msg.Text, "was approved by") {
				dms++
			}
		}
		if dms != 1 {
			t.Errorf("%d approval DMs, want 1", dms)
		}
	})
}

func TestRedeliveredEnvelopes(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		payload := map[string]any{"team_id": "T0FAKE", "channel_id": general, "user_id": emp, "command": "/expense",
			"text": "12 Coffee beans", "trigger_id": "TR-redelivered", "response_url": h.slack.URL + "response/none"}
		for attempt := range 3 {
			if _, err := h.slack.Send("slash_commands", payload, attempt); err != nil {
				t.Fatal(err)
			}
		}
		h.dm(emp, "approved automatically")
		// Each Send returned with its ack, and a submission is committed before its ack.
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 10); len(list) != 1 {
			t.Errorf("%d expenses from one command delivered three times", len(list))
		}
		// The same app_home_opened event delivered twice publishes once.
		event := map[string]any{"type": "event_callback", "team_id": "T0FAKE", "api_app_id": "A0EXPENSE", "event_id": "Ev-dup",
			"event": map[string]any{"type": "app_home_opened", "user": emp, "tab": "home", "channel": "DUEMP"}}
		h.slack.Send("events_api", event, 0)
		h.slack.Send("events_api", event, 1)
		// Each event ends in a publish or in being ignored as redelivered.
		h.eventually("both events handled", func() bool {
			n := len(h.slack.Calls("views.publish"))
			return n >= 2 || n >= 1 && strings.Contains(h.logs.String(), `msg="redelivered event ignored" event_id=Ev-dup`)
		})
		if n := len(h.slack.Calls("views.publish")); n != 1 {
			t.Errorf("views.publish called %d times for one event", n)
		}
	})
}

func TestModal(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		if ack := h.command(emp, ""); len(ack.Payload) > 0 && string(ack.Payload) != "null" {
			t.Errorf("opening the form should ack empty, got %s", ack.Payload)
		}
		h.modal(emp, "expense_submit")
		errs, _, err := h.slack.SubmitModal(emp, map[string]string{"amount": "-5", "description": ""})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errs["amount"], "negative") || !strings.Contains(errs["category"], "choose a category") || !strings.Contains(errs["description"], "what the expense was for") {
			t.Errorf("field errors = %v", errs)
		}
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 10); len(list) != 0 {
			t.Errorf("an invalid form stored %d expenses", len(list))
		}
		errs, _, err = h.slack.SubmitModal(emp, map[string]string{"amount": "1.234,56", "currency": "EUR", "category": "travel",
			"description": "Train to Paris", "date": "2026-11-20", "receipt": "F0RECEIPT"})
		if err != nil || len(errs) > 0 {
			t.Fatalf("valid form: errs=%v err=%v", errs, err)
		}
		v, _ := h.slack.Modal(emp)
		if !strings.Contains(v.Visible(), "Expense received") {
			t.Errorf("the modal did not turn into a receipt: %s", v.JSON)
		}
		e := h.latest(emp, expensebot.StatusPendingReview)
		if e.Amount != (expensebot.Money{Minor: 123456, Currency: "EUR"}) || e.Category != "travel" || e.IncurredOn.Format(time.DateOnly) != "2026-11-20" || len(e.ReceiptFileIDs) != 1 {
			t.Errorf("stored %+v", e)
		}
		m := h.approvalMessage(e.ID, "no exchange rate from EUR to USD is known")
		if !strings.Contains(m.Visible(), "/files/F0RECEIPT|receipt-F0RECEIPT.pdf>") {
			t.Errorf("receipt link missing: %s", m.Blocks)
		}
	})
}

func TestExpiredTriggerIsExplained(t *testing.T) {
	h := newHarness(t, "sqlite")
	h.slack.TriggerTTL = 0
	h.start()
	h.command(emp, "")
	h.ephemeral(emp, general, "could not open the form in time")
}

func TestMentionsAreEscaped(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "2500 Party <!channel> & <https://evil.example|totally legit> @here")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "Party")
		// The description is shown whole only in plain text, which Slack does not parse.
		if !strings.Contains(m.Visible(), "Party <!channel> & <https://evil.example|totally legit> @here") {
			t.Errorf("the description is not shown as typed: %s", m.Visible())
		}
		h.dm(emp, "went to a reviewer")
		for _, msg := range append(h.slack.Messages(approvals, ""), h.slack.Messages(emp, emp)...) {
			for _, parsed := range msg.Parsed() {
				if strings.Contains(parsed, "<!channel>") || strings.Contains(parsed, "<https://evil") {
					t.Errorf("user text reached Slack's parser unescaped: %s", parsed)
				}
			}
		}
	})
}

func TestAIDownGoesToReview(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.ai.Reply(fakeopenai.Error(500, "upstream exploded"))
		h.start()
		h.command(emp, "12 Coffee")
		e := h.latest(emp, expensebot.StatusPendingReview)
		h.approvalMessage(e.ID, "AI check failed: the AI service answered 500")
		if e.Assessment == nil || e.Assessment.Error == "" {
			t.Errorf("assessment failure not recorded: %+v", e.Assessment)
		}
	})
}

func TestAIOffRoutesByRulesAlone(t *testing.T) {
	h := newHarness(t, "sqlite")
	h.noAI = true
	h.start()
	ack := h.command(emp, "12 Coffee beans")
	if !strings.Contains(string(ack.Payload), "the AI check is off") {
		t.Errorf("ack does not say the AI check is off: %s", ack.Payload)
	}
	e := h.latest(emp, expensebot.StatusPendingReview)
	h.approvalMessage(e.ID, "AI check is off.")
	h.dm(emp, "went to a reviewer: AI check is off")
	if e.Assessment != nil || len(h.ai.Requests()) != 0 {
		t.Errorf("an AI was asked with none configured: %+v", e.Assessment)
	}
}

func TestAppHome(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "2500 Conference travel")
		e := h.latest(emp, expensebot.StatusPendingReview)
		h.approvalMessage(e.ID, "approve:")
		if _, err := h.slack.OpenHome(rev1); err != nil {
			t.Fatal(err)
		}
		var home string
		h.eventually("reviewer home with the queue", func() bool {
			v, ok := h.slack.Home(rev1)
			home = string(v.JSON)
			home = v.Visible()
			return ok && strings.Contains(home, "Waiting for review (1)")
		})
		v, _ := h.slack.Home(rev1)
		if _, err := h.slack.ClickViewButton(rev1, v.ID, "approve:"+itoa(e.ID)); err != nil {
			t.Fatal(err)
		}
		h.approvalMessage(e.ID, "*Approved* by <@UREV1>")
		h.eventually("home refreshed after the decision", func() bool {
			v, _ := h.slack.Home(rev1)
			return strings.Contains(v.Visible(), "Waiting for review (0)")
		})
		// An employee's home shows their expenses and no queue; its button opens the form.
		h.slack.OpenHome(emp)
		h.eventually("employee home", func() bool {
			v, ok := h.slack.Home(emp)
			return ok && strings.Contains(v.Visible(), "Conference travel") && !strings.Contains(v.Visible(), "Waiting for review")
		})
		v, _ = h.slack.Home(emp)
		h.slack.ClickViewButton(emp, v.ID, "new_expense")
		h.modal(emp, "expense_submit")
	})
}

func TestRestartResumesWork(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		// Accepted before a crash: one expense never assessed, one routed whose notices were never sent.
		e1, _, _ := h.db.Submit(ctx, expensebot.Expense{SubmitterID: emp, IdempotencyKey: "k1", Amount: usd(1200), Description: "Taxi", Category: "transport"})
		e2, _, _ := h.db.Submit(ctx, expensebot.Expense{SubmitterID: emp, IdempotencyKey: "k2", Amount: usd(250000), Description: "Flight", Category: "travel"})
		h.db.StartAssessment(ctx, e2.ID, time.Minute)
		h.db.Route(ctx, e2.ID, nil, expensebot.Route{ApprovalsRequired: 1, Channel: approvals, Reasons: []string{"over the limit"}})
		in := h.start()
		h.dm(emp, "#"+itoa(e1.ID)+" (12.00 USD, Taxi) was approved automatically")
		h.approvalMessage(e2.ID, "approve:")
		h.dm(emp, "#"+itoa(e2.ID)+" (2,500.00 USD, Flight) went to a reviewer")
		// A clean shutdown once everything was said, then a restart: nothing is repeated.
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		before := len(h.slack.Calls("chat.postMessage"))
		h.start()
		h.command(emp, "15 Lunch")
		h.dm(emp, "(15.00 USD, Lunch) was approved automatically")
		if after := len(h.slack.Calls("chat.postMessage")); after != before+1 {
			t.Errorf("restart re-sent messages: %d posts after, %d before", after, before)
		}
	})
}

func TestDisconnectAndReconnect(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.slack.Disconnect("refresh_requested")
		h.eventually("a second connection", func() bool { return h.slack.Connects() >= 2 && h.slack.Connections() == 1 })
		h.command(emp, "9.99 Notebook")
		h.dm(emp, "(9.99 USD, Notebook) was approved automatically")
	})
}

func TestRateLimitedThenDelivered(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.slack.FailNext("chat.postMessage", 1, 429, "", 1)
		start := time.Now()
		h.command(emp, "8 Pens")
		h.dm(emp, "(8.00 USD, Pens) was approved automatically")
		if time.Since(start) < time.Second {
			t.Errorf("Retry-After was not honoured")
		}
		calls := h.slack.Calls("chat.postMessage")
		if len(calls) != 2 || calls[0].Error != "ratelimited" {
			t.Errorf("calls = %+v", calls)
		}
	})
}

func TestTwoInstancesOneDatabase(t *testing.T) {
	h := newHarness(t, "postgres")
	h.start()
	h.start()
	for i := range 6 {
		h.command(emp, itoa(int64(2000+i))+" Shared load")
	}
	h.eventually("six approvals messages", func() bool {
		n := 0
		for _, m := range h.slack.Messages(approvals, "") {
			if strings.Contains(string(m.Blocks), "approve:") {
				n++
			}
		}
		return n == 6
	})
	list, _ := h.db.BySubmitter(context.Background(), emp, 0, 10)
	for _, e := range list {
		e := h.expense(e.ID)
		m := h.approvalMessage(e.ID, "approve:")
		var wg sync.WaitGroup
		for _, u := range []string{rev1, rev2} {
			wg.Add(1)
			go func() { defer wg.Done(); h.click(u, m, "approve", e.ID) }()
		}
		wg.Wait()
		h.approvalMessage(e.ID, "*Approved* by")
		if n := count(h.events(e.ID), "approved"); n != 1 {
			t.Errorf("expense %d: %d approvals across two instances", e.ID, n)
		}
	}
	if n := len(h.slack.Messages(approvals, "")); n < 6 {
		t.Errorf("%d messages", n)
	}
	posts := 0
	for _, c := range h.slack.Calls("chat.postMessage") {
		if c.Params["channel"] == approvals {
			posts++
		}
	}
	if posts != 6 {
		t.Errorf("%d approvals messages posted for 6 expenses by two instances", posts)
	}
}

// TestAmountsAreNeverGuessed: /expense refuses what it would have to guess, says how to write it,
// and stores nothing.
func TestAmountsAreNeverGuessed(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		for text, want := range map[string]string{
			"5 3 coffees":   "never join two numbers",
			"42.5 JPY taxi": "JPY has no minor units",
		} {
			ack := h.command(emp, text)
			if !strings.Contains(string(ack.Payload), want) {
				t.Errorf("%q: ack = %s, want %q", text, ack.Payload, want)
			}
		}
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 10); len(list) != 0 {
			t.Errorf("a refused amount was stored: %+v", list)
		}
	})
}

// lockExpenses holds the expenses table locked, as a stuck transaction or a long migration does,
// until release is called.
func (h *harness) lockExpenses() (release func()) {
	h.t.Helper()
	ctx := context.Background()
	if path, ok := strings.CutPrefix(h.url, "sqlite://"); ok {
		// The bot may hold the write lock for a moment (a timer sweep, a name lookup): wait for it
		// as any writer does, instead of failing with SQLITE_BUSY.
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			h.t.Fatal(err)
		}
		conn, err := db.Conn(ctx)
		if err == nil {
			_, err = conn.ExecContext(ctx, "BEGIN IMMEDIATE") // SQLite's write lock: every writer waits
		}
		if err != nil {
			h.t.Fatal(err)
		}
		return func() { conn.ExecContext(ctx, "ROLLBACK"); conn.Close(); db.Close() }
	}
	db, err := sql.Open("postgres", h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err == nil {
		_, err = tx.ExecContext(ctx, "LOCK TABLE expenses IN ACCESS EXCLUSIVE MODE")
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return func() { tx.Rollback(); db.Close() }
}

// TestStuckDatabase: while the database does not answer, submissions are acked within Slack's
// three seconds saying they were not saved (and they are not), the form still opens (its
// trigger lives three seconds), and once the database is back a submission goes through.
func TestStuckDatabase(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		release := h.lockExpenses()
		var wg sync.WaitGroup
		acks := make([]string, 12)
		for i := range acks {
			wg.Go(func() {
				start := time.Now()
				ack, err := h.slack.Command(emp, general, "/expense", fmt.Sprintf("%d Dinner %d", 10+i, i))
				if err != nil {
					t.Errorf("submission %d: %v after %s", i, err, time.Since(start))
				}
				acks[i] = string(ack.Payload)
			})
		}
		h.eventually("the submissions wait on the lock", func() bool { return h.slack.Unacked() == len(acks) })
		h.command(emp, "")
		h.modal(emp, "expense_submit")
		wg.Wait()
		release()
		for i, ack := range acks {
			if !strings.Contains(ack, "not saved") && !strings.Contains(ack, "not submitted") {
				t.Errorf("submission %d during the lock: ack %s", i, ack)
			}
		}
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 50); len(list) != 0 {
			t.Errorf("%d expenses acked as not saved were stored", len(list))
		}
		h.command(emp, "12 Taxi after the outage")
		h.dm(emp, "Taxi after the outage")
	})
}

// TestBotNotInApprovalsChannel: the bot was never invited to the approvals channel. Start-up says
// which channel and how to fix it; a submission stays pending and visible in the reviewer's App
// Home, its submitter hears once that it waits for an administrator; once the bot is invited the
// card is posted, once.
func TestBotNotInApprovalsChannel(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.slack.AddChannel(approvals, "expense-approvals", rev1, rev2) // no bot
		in := h.start()
		h.eventually("the start-up check names the channel and the fix", func() bool {
			logs := h.logs.String()
			return strings.Contains(logs, "cannot post to an approvals channel") && strings.Contains(logs, "the bot is not in channel "+approvals) &&
				strings.Contains(logs, "/invite @expensebot")
		})
		h.command(emp, "2500 Conference hotel")
		e := h.latest(emp, expensebot.StatusPendingReview)
		h.dm(emp, "is waiting for an administrator")
		h.slack.OpenHome(rev1)
		h.eventually("the expense in the reviewer's App Home", func() bool {
			v, ok := h.slack.Home(rev1)
			return ok && strings.Contains(v.Visible(), "Conference hotel")
		})
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		h.slack.Join(approvals, fakeslack.BotUser) // /invite @expensebot
		h.start()
		h.approvalMessage(e.ID, "Conference hotel")
		h.settle() // everything queued is said: anything said twice is there to count
		cards, waiting := 0, 0
		for _, m := range h.slack.Messages(approvals, "") {
			if m.ThreadTS == "" && strings.Contains(m.Visible(), "Expense #"+itoa(e.ID)+" ·") {
				cards++
			}
		}
		for _, m := range h.slack.Messages(emp, emp) {
			if strings.Contains(m.Text, "waiting for an administrator") {
				waiting++
			}
		}
		if cards != 1 || waiting != 1 {
			t.Errorf("%d cards, %d 'waiting' DMs; want 1 and 1", cards, waiting)
		}
	})
}

// TestFourInstancesUnderLoad: four instances on one PostgreSQL (Slack allows ten Socket Mode
// connections per app) share a burst of submissions and racing decisions. Every expense ends with
// one outcome, one card and one DM per event, whichever instance handled what.
func TestFourInstancesUnderLoad(t *testing.T) {
	h := newHarness(t, "postgres")
	h.postInterval = -1 // many DMs to one submitter; pacing is TestBusyChannelDoesNotHoldUpDMs's
	for range 4 {
		h.start()
	}
	const small, large = 40, 20
	var wg sync.WaitGroup
	for i := range small + large {
		wg.Go(func() {
			// Auto-approved: below the receipt limit (75.00) and 1.50 apart, more than the
			// duplicate tolerance (1.00).
			amount := fmt.Sprintf("%d.%02d", (1000+150*i)/100, (1000+150*i)%100)
			if i >= small {
				amount = fmt.Sprint(2000 + i) // to a reviewer
			}
			if _, err := h.slack.Command(emp, general, "/expense", fmt.Sprintf("%s Load %d", amount, i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	h.eventuallyWithin(batchWait, "every card", func() bool {
		n := 0
		for _, m := range h.slack.Messages(approvals, "") {
			if m.ThreadTS == "" && strings.Contains(string(m.Blocks), "approve:") {
				n++
			}
		}
		return n >= large // more is counted below
	})
	list, _ := h.db.BySubmitter(context.Background(), emp, 0, 200)
	if len(list) != small+large {
		t.Fatalf("%d expenses stored, want %d", len(list), small+large)
	}
	for _, e := range list {
		if e.Status != expensebot.StatusPendingReview {
			continue
		}
		m := h.approvalMessage(e.ID, "approve:")
		var race sync.WaitGroup
		for _, u := range []string{rev1, rev2, rev1} {
			race.Go(func() { h.click(u, m, "approve", e.ID) })
		}
		race.Wait()
	}
	h.eventually("every expense decided and told", func() bool {
		for _, e := range list {
			evs := h.events(e.ID)
			if count(evs, "auto_approved")+count(evs, "approved") != 1 || count(evs, "notified") < 1 {
				return false
			}
		}
		return true
	})
	h.settle() // everything queued is said: anything said twice is there to count
	for _, e := range list {
		evs := h.events(e.ID)
		want := 1 // auto-approved: one DM
		if count(evs, "approved") == 1 {
			want = 2 // routed, then approved
		}
		if n := count(evs, "notified"); n != want || count(evs, "auto_approved")+count(evs, "approved") != 1 {
			t.Errorf("expense #%d: %s", e.ID, strings.Join(evs, ","))
		}
	}
	posts := 0
	for _, c := range h.slack.Calls("chat.postMessage") {
		if c.Params["channel"] == approvals && c.Error == "" {
			posts++
		}
	}
	if posts != large {
		t.Errorf("%d cards posted for %d expenses by four instances", posts, large)
	}
}
