package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

// The controls of issue 21 end to end, on both engines: what a dishonest employee tried on main
// and got paid for.

// TestSplitNeedsTwoApprovers: 12,100 USD filed as 6,200 + 5,900 equipment the same day was
// approved by one reviewer alone. The part that takes the total over the two-approver limit now
// needs two different reviewers, with the other part linked on its card.
func TestSplitNeedsTwoApprovers(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.rules.SplitWindow = 72 * time.Hour
		h.rules.ReceiptRequiredOver = usd(10000000)
		h.start()
		h.command(emp, "6200 Laptops for the new team #equipment")
		first := h.nth(emp, 1)
		if first.Status != expensebot.StatusPendingReview || first.ApprovalsRequired != 1 {
			t.Fatalf("the first part: %s, %d approvals", first.Status, first.ApprovalsRequired)
		}
		h.command(emp, "5900 Docking stations and monitors #office")
		second := h.nth(emp, 2)
		if second.Status != expensebot.StatusPendingReview || second.ApprovalsRequired != 2 || len(second.Findings) != 1 ||
			second.Findings[0].Flag != expensebot.FlagSplitOverReview || second.Findings[0].Related[0].ID != first.ID {
			t.Fatalf("the second part: %s, %d approvals, findings %+v", second.Status, second.ApprovalsRequired, second.Findings)
		}
		m := h.approvalMessage(second.ID, "need two different approvers")
		for _, want := range []string{"come to 12,100.00 USD, over 10,000.00 USD: two different reviewers must approve", "|#" + itoa(first.ID) + "> · 6,200.00 USD"} {
			if !strings.Contains(m.Visible(), want) {
				t.Errorf("card lacks %q:\n%s", want, m.Visible())
			}
		}
		h.click(rev1, m, "approve", second.ID)
		h.eventually("the first of two approvals", func() bool { return h.expense(second.ID).FirstApprover == rev1 })
		if got := h.expense(second.ID); got.Status != expensebot.StatusPendingReview {
			t.Fatalf("one reviewer alone decided the split purchase: %s", got.Status)
		}
		h.click(rev2, h.approvalMessage(second.ID, "need two different approvers"), "approve", second.ID)
		h.eventually("approved by two", func() bool { return h.expense(second.ID).Status == expensebot.StatusApproved })
	})
}

// TestSplitAcrossCategories: 640 #equipment + 590 #office were both approved automatically; the
// second now waits for a person.
func TestSplitAcrossCategories(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.rules.SplitWindow = 72 * time.Hour
		h.rules.ReceiptRequiredOver = usd(100000)
		h.start()
		h.command(emp, "640 Monitor #equipment")
		if a := h.nth(emp, 1); a.Status != expensebot.StatusAutoApproved {
			t.Fatalf("the first: %s", a.Status)
		}
		h.command(emp, "590 Desk #office")
		b := h.nth(emp, 2)
		if b.Status != expensebot.StatusPendingReview || len(b.Findings) != 1 || b.Findings[0].Flag != expensebot.FlagPossibleSplit {
			t.Fatalf("the second: %s, findings %+v", b.Status, b.Findings)
		}
	})
}

// TestQuestionThenReceiptGoesToPerson: a reviewer asks "I will decide once you answer"; the
// employee answers and attaches the receipt that was all the policy missed. On main the expense
// was re-routed and approved automatically; now the reviewer decides.
func TestQuestionThenReceiptGoesToPerson(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.ai.ReplyReceipts(taxi("120.00", "Taxi Berlin"))
		h.start()
		e := h.quick("120 Taxi to the airport", "receipt missing")
		card := h.approvalMessage(e.ID, `"action_id":"approve:`)
		h.click(rev1, card, "ask", e.ID)
		h.submit(rev1, "ask_submit", map[string]string{"question": "Which client? I will decide once you answer."})
		dm := h.dm(emp, "has a question about your expense #"+itoa(e.ID))
		h.clickDM(emp, dm, "reply", e.ID)
		h.submit(emp, "reply_submit", map[string]string{"answer": "Acme, for the renewal"})
		h.eventually("the answer recorded", func() bool { return h.expense(e.ID).Status == expensebot.StatusPendingReview })

		h.attach(e.ID, "taxi.png", pngOf(t, 7))
		h.eventually("the receipt re-routed", func() bool {
			return strings.Contains(strings.Join(h.expense(e.ID).ReviewReasons, "; "), "a reviewer asked about or commented on it")
		})
		if got := h.expense(e.ID); got.Status != expensebot.StatusPendingReview || got.DecidedBy != "" {
			t.Fatalf("decided without the reviewer: %s by %q", got.Status, got.DecidedBy)
		}
		h.click(rev1, h.approvalMessage(e.ID, `"action_id":"approve:`), "approve", e.ID)
		h.eventually("approved by the reviewer", func() bool { return h.expense(e.ID).DecidedBy == rev1 })
	})
}

// TestRerouteRaisesApprovals: a split found only when a receipt re-routes the expense raised no
// approvals on main (the re-route kept the route's approvals and findings, updating the reasons
// only), so one reviewer approved half of a 12,100 USD purchase alone. Now the re-route records
// the split: two different reviewers, the other part on the card.
func TestRerouteRaisesApprovals(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.rules.SplitWindow = 72 * time.Hour
		h.ai.ReplyReceipts(taxi("5900.00", "Office Supplies"))
		h.start()
		first := h.quick("5900 Docking stations and monitors #office", "receipt")
		if first.ApprovalsRequired != 1 || len(first.Findings) != 0 {
			t.Fatalf("alone, the first part: %d approvals, findings %+v", first.ApprovalsRequired, first.Findings)
		}
		h.command(emp, "6200 Laptops for the new team #equipment")
		second := h.nth(emp, 2)
		if second.ApprovalsRequired != 2 {
			t.Fatalf("the second part: %d approvals", second.ApprovalsRequired)
		}
		h.approvalMessage(first.ID, "receipt missing")
		h.attach(first.ID, "receipt.png", pngOf(t, 7))
		h.eventually("the first part re-routed with the split", func() bool {
			got := h.expense(first.ID)
			return got.ApprovalsRequired == 2 && len(got.Findings) == 1 && got.Findings[0].Flag == expensebot.FlagSplitOverReview
		})
		m := h.approvalMessage(first.ID, "need two different approvers")
		if !strings.Contains(m.Visible(), "|#"+itoa(second.ID)+"> · 6,200.00 USD") {
			t.Errorf("card lacks the other part:\n%s", m.Visible())
		}
		h.click(rev1, m, "approve", first.ID)
		h.eventually("the first of two approvals", func() bool { return h.expense(first.ID).FirstApprover == rev1 })
		if got := h.expense(first.ID); got.Status != expensebot.StatusPendingReview {
			t.Fatalf("one reviewer alone decided the split purchase: %s", got.Status)
		}
	})
}
