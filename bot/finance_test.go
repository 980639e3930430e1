package bot_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/policy"
)

// The finance controls end to end: what the AI cannot see in one expense, the workflow finds in
// the submitter's others, and a person decides with all of them on the card.

// submitted waits for the expense the n-th /expense of user became (n from 1) to leave the
// workflow's hands, and returns it.
func (h *harness) nth(user string, n int) expensebot.Expense {
	h.t.Helper()
	var e expensebot.Expense
	h.eventually("expense number "+itoa(int64(n))+" of "+user+" routed", func() bool {
		list, _ := h.db.BySubmitter(context.Background(), user, 0, 100)
		if len(list) < n {
			return false
		}
		e = list[len(list)-n]
		return e.Status != expensebot.StatusSubmitted && e.Status != expensebot.StatusAssessing
	})
	return e
}

// TestDuplicateGoesToAPerson: the same dinner claimed twice is approved automatically once; the
// second claim waits for a person, who sees the first on the card and decides.
func TestDuplicateGoesToAPerson(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "64 Team dinner at Luigi's #meals")
		first := h.nth(emp, 1)
		if first.Status != expensebot.StatusAutoApproved {
			t.Fatalf("the first claim: %s", first.Status)
		}
		h.command(emp, "64.00 team dinner, Luigis #meals")
		second := h.nth(emp, 2)
		if second.Status != expensebot.StatusPendingReview || len(second.Findings) != 1 || second.Findings[0].Flag != expensebot.FlagPossibleDuplicate ||
			second.Findings[0].Related[0].ID != first.ID {
			t.Fatalf("the second claim: %s, findings %+v", second.Status, second.Findings)
		}
		m := h.approvalMessage(second.ID, "It may have been claimed before")
		for _, want := range []string{"possibly claimed twice: #" + itoa(first.ID), "#" + itoa(first.ID) + " · 64.00 USD · Meals", "Auto-approved"} {
			if !strings.Contains(m.Visible(), want) {
				t.Errorf("card lacks %q:\n%s", want, m.Visible())
			}
		}
		if strings.Contains(m.Visible(), "possible_duplicate") {
			t.Errorf("the card shows a flag's name: %s", m.Visible())
		}
		h.dm(emp, "went to a reviewer: possibly claimed twice")
		h.click(rev1, m, "approve", second.ID)
		h.dm(emp, "was approved by <@UREV1>")
	})
}

// TestSplitPurchaseGoesToAPerson: one purchase split into three claims just under the limit:
// the first two are approved automatically (each, and together, under 1,000), the third takes
// them over and waits for a person, with all three on its card.
func TestSplitPurchaseGoesToAPerson(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.rules.SplitWindow = 72 * time.Hour
		h.rules.ReceiptRequiredOver = usd(100000)
		h.start()
		for i, text := range []string{"330 Monitor #equipment", "340 Monitor stand #equipment", "350 Monitor arm and cables #equipment"} {
			h.command(emp, text)
			h.nth(emp, i+1)
		}
		a, b, c := h.nth(emp, 1), h.nth(emp, 2), h.nth(emp, 3)
		if a.Status != expensebot.StatusAutoApproved || b.Status != expensebot.StatusAutoApproved {
			t.Fatalf("the first two: %s, %s", a.Status, b.Status)
		}
		if c.Status != expensebot.StatusPendingReview || len(c.Findings) != 1 || c.Findings[0].Flag != expensebot.FlagPossibleSplit || len(c.Findings[0].Related) != 2 {
			t.Fatalf("the third: %s, findings %+v", c.Status, c.Findings)
		}
		m := h.approvalMessage(c.ID, "It may be one purchase split into several claims")
		for _, want := range []string{"come to 1,020.00 USD", "#" + itoa(a.ID) + " · 330.00 USD", "#" + itoa(b.ID) + " · 340.00 USD"} {
			if !strings.Contains(m.Visible(), want) {
				t.Errorf("card lacks %q:\n%s", want, m.Visible())
			}
		}
	})
}

// TestMonthlyLimit: a category's monthly_max per person sends the expense that goes over it to a
// person; another person's month is their own.
func TestMonthlyLimit(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		limit := usd(50000)
		h.rules.Categories = map[string]policy.CategoryRule{"travel": {MonthlyMax: &limit}}
		h.rules.ReceiptRequiredOver = usd(100000)
		h.start()
		h.command(emp, "300 Train to Leeds #travel")
		if e := h.nth(emp, 1); e.Status != expensebot.StatusAutoApproved {
			t.Fatalf("first: %s", e.Status)
		}
		h.command(rev1, "300 Train to York #travel")
		if e := h.nth(rev1, 1); e.Status != expensebot.StatusAutoApproved {
			t.Fatalf("another person's: %s", e.Status)
		}
		h.command(emp, "250 Hotel in Leeds #travel")
		e := h.nth(emp, 2)
		if e.Status != expensebot.StatusPendingReview || len(e.Findings) != 1 || e.Findings[0].Flag != expensebot.FlagOverMonthlyMax {
			t.Fatalf("over the month: %s, %+v", e.Status, e.Findings)
		}
		h.approvalMessage(e.ID, "come to 550.00 USD with this one, over the limit of 500.00 USD per person per month")
	})
}

// TestSpotCheckConfirm: an automatic approval drawn for a spot check is posted to the approvals
// channel; the submitter and a non-reviewer are refused; a reviewer confirms and the approval
// stands. Every draw is in the audit trail.
func TestSpotCheckConfirm(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.spotRate, h.draw = 0.05, func() float64 { return 0.0123 }
		h.start()
		h.command(rev2, "42 Coffee with a candidate #meals")
		e := h.nth(rev2, 1)
		if e.Status != expensebot.StatusAutoApproved {
			t.Fatalf("status %s", e.Status)
		}
		m := h.spotMessage(e.ID, "spot_confirm:")
		for _, want := range []string{"Spot check: approved automatically", "5% of automatic approvals", "this draw: 0.0123", "Why the policy approved it"} {
			if !strings.Contains(m.Visible(), want) {
				t.Errorf("spot check lacks %q:\n%s", want, m.Visible())
			}
		}
		h.clickIn(outsider, m, "spot_confirm", e.ID)
		h.ephemeral(outsider, approvals, "Only the configured reviewers can confirm or flag spot checks")
		h.clickIn(rev2, m, "spot_confirm", e.ID)
		h.ephemeral(rev2, approvals, "You cannot spot-check your own expense")
		h.clickIn(rev1, m, "spot_confirm", e.ID)
		if done := h.spotMessage(e.ID, "*Confirmed* by <@UREV1>"); strings.Contains(string(done.Blocks), `"action_id"`) {
			t.Errorf("buttons still there after the check: %s", done.Blocks)
		}
		if got := h.expense(e.ID); got.Status != expensebot.StatusAutoApproved {
			t.Errorf("the spot check changed the approval: %s", got.Status)
		}
		evs, _ := h.db.Events(context.Background(), e.ID)
		var draw struct {
			SpotCheck expensebot.SpotDraw `json:"spot_check"`
		}
		for _, ev := range evs {
			if ev.Kind == expensebot.EventAutoApproved {
				json.Unmarshal(ev.Detail, &draw)
			}
		}
		if draw.SpotCheck != (expensebot.SpotDraw{Rate: 0.05, Draw: 0.0123, Selected: true}) {
			t.Errorf("draw recorded = %+v", draw.SpotCheck)
		}
		if evs := h.events(e.ID); count(evs, "refused") != 2 || count(evs, "spot_check_confirmed") != 1 {
			t.Errorf("trail = %s", strings.Join(evs, ","))
		}
		// The reviewers' App Home sums the month up; an employee's does not.
		h.slack.OpenHome(rev1)
		h.slack.OpenHome(emp)
		h.eventually("both App Homes", func() bool {
			_, a := h.slack.Home(rev1)
			_, b := h.slack.Home(emp)
			return a && b
		})
		v, _ := h.slack.Home(rev1)
		for _, want := range []string{"How it went, last 30 days", "*Meals:* 1 routed · 1 automatic", "Spot checks: 1 drawn, 1 confirmed, 0 flagged"} {
			if !strings.Contains(v.Visible(), want) {
				t.Errorf("reviewer's App Home lacks %q:\n%s", want, v.Visible())
			}
		}
		if v, _ := h.slack.Home(emp); strings.Contains(v.Visible(), "How it went") {
			t.Errorf("an employee's App Home shows the reviewers' summary")
		}
	})
}

// TestSpotCheckFlag: a reviewer flags a spot check with a finding; finance is told in the
// thread, and an expense the draw did not select is not posted at all.
func TestSpotCheckFlag(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		draws := make(chan float64, 2)
		draws <- 0.5 // not selected
		draws <- 0.01
		h.spotRate, h.draw, h.finance = 0.05, func() float64 { return <-draws }, []string{"S0FINANCE"}
		h.start()
		h.command(emp, "18 Parking at the client #transport")
		skipped := h.nth(emp, 1)
		h.command(emp, "36 Taxi to the client #transport")
		e := h.nth(emp, 2)
		m := h.spotMessage(e.ID, "spot_flag:")
		h.clickIn(rev1, m, "spot_flag", e.ID)
		h.modal(rev1, "spot_flag_submit")
		if errs, _, err := h.slack.SubmitModal(rev1, map[string]string{"finding": " "}); err != nil || errs["finding"] == "" {
			t.Fatalf("empty finding: %v %v", errs, err)
		}
		if _, _, err := h.slack.SubmitModal(rev1, map[string]string{"finding": "The receipt is from another city <!here>"}); err != nil {
			t.Fatal(err)
		}
		h.spotMessage(e.ID, "*Flagged* by <@UREV1>")
		h.eventually("finance told in the thread", func() bool {
			for _, r := range h.slack.Messages(approvals, "") {
				if r.ThreadTS == m.TS && strings.Contains(r.Text, "<!subteam^S0FINANCE>: <@UREV1> flagged the spot check of expense #"+itoa(e.ID)) &&
					strings.Contains(r.Text, "another city &lt;!here&gt;") {
					return true
				}
			}
			return false
		})
		if _, err := h.db.SpotCheck(context.Background(), skipped.ID); expensebot.ErrorCode(err) != expensebot.ENOTFOUND {
			t.Errorf("an approval the draw did not select has a spot check: %v", err)
		}
		if n := strings.Count(strings.Join(visibleAll(h.slack.Messages(approvals, "")), "\n"), "Spot check: approved automatically · Expense #"+itoa(skipped.ID)); n != 0 {
			t.Errorf("the unselected approval was posted %d times", n)
		}
	})
}

// TestSpotCheckClear: a flagged spot check held its expense out of every export for good. Now a
// member of finance (through a user group) clears it with a reason: an outsider and the submitter (even one listed in
// finance) are refused, an empty reason is refused beside the input, a reviewer racing to say
// "do not pay" is told it was already cleared, the message is redrawn without buttons and
// finance is told in the thread.
func TestSpotCheckClear(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const fin = "UFIN"
		h.slack.AddUser(fakeslack.User{ID: fin, Name: "fiona", RealName: "Fiona Finance"})
		h.slack.AddUserGroup("S0FIN", fin)
		h.spotRate, h.draw, h.finance = 0.05, func() float64 { return 0.01 }, []string{"S0FIN", emp}
		h.start()
		h.command(emp, "36 Taxi to the client #transport")
		e := h.nth(emp, 1)
		h.clickIn(rev1, h.spotMessage(e.ID, "spot_flag:"), "spot_flag", e.ID)
		h.modal(rev1, "spot_flag_submit")
		if _, _, err := h.slack.SubmitModal(rev1, map[string]string{"finding": "The receipt is from another city"}); err != nil {
			t.Fatal(err)
		}
		m := h.spotMessage(e.ID, "spot_clear:")
		if !strings.Contains(m.Visible(), "Held back from the accounting export until a reviewer or finance clears it") {
			t.Errorf("the flagged message does not say it is held:\n%s", m.Visible())
		}
		h.clickIn(outsider, m, "spot_clear", e.ID)
		h.ephemeral(outsider, approvals, "Only the configured reviewers and finance can clear a flagged spot check")
		h.clickIn(emp, m, "spot_clear", e.ID)
		h.ephemeral(emp, approvals, "You cannot settle the spot check of your own expense")

		h.clickIn(fin, m, "spot_clear", e.ID)
		h.modal(fin, "spot_clear_submit")
		h.clickIn(rev2, m, "spot_uphold", e.ID)
		h.modal(rev2, "spot_uphold_submit")
		if errs, _, err := h.slack.SubmitModal(fin, map[string]string{"settlement": "  "}); err != nil || errs["settlement"] == "" {
			t.Fatalf("empty reason: %v %v", errs, err)
		}
		if errs, _, err := h.slack.SubmitModal(fin, map[string]string{"settlement": "The employee sent the right receipt <!here>"}); err != nil || len(errs) > 0 {
			t.Fatalf("clear: %v %v", errs, err)
		}
		done := h.spotMessage(e.ID, "*Cleared* by <@"+fin+">")
		if strings.Contains(string(done.Blocks), `"action_id"`) || !strings.Contains(done.Visible(), "*Flagged* by <@UREV1>") ||
			!strings.Contains(done.Visible(), "right receipt &lt;!here&gt;") {
			t.Errorf("the cleared message:\n%s", done.Visible())
		}
		if _, _, err := h.slack.SubmitModal(rev2, map[string]string{"settlement": "A personal trip"}); err != nil {
			t.Fatal(err)
		}
		h.ephemeral(rev2, approvals, "was already cleared by <@"+fin+">")
		h.eventually("finance told in the thread", func() bool {
			for _, r := range h.slack.Messages(approvals, "") {
				if r.ThreadTS == m.TS && strings.Contains(r.Text, "<!subteam^S0FIN> <@UEMP>: <@"+fin+"> cleared the flag on expense #"+itoa(e.ID)) {
					return true
				}
			}
			return false
		})
		sc, err := h.db.SpotCheck(context.Background(), e.ID)
		if err != nil || sc.Status != expensebot.SpotCheckCleared || sc.SettledBy != fin || sc.Held() {
			t.Fatalf("spot check = %+v, %v", sc, err)
		}
		if evs := h.events(e.ID); count(evs, "refused") != 2 || count(evs, expensebot.EventSpotCleared) != 1 || count(evs, expensebot.EventSpotUpheld) != 0 {
			t.Errorf("events = %v", evs)
		}
		if got := h.expense(e.ID); got.Status != expensebot.StatusAutoApproved {
			t.Errorf("clearing changed the approval: %s", got.Status)
		}
	})
}

// TestNamesAndReceiptsAreCached: the people the bot meets are named in the store (users.info),
// and receipts linked (files.info) and hashed, for the offline exports. The hash is the one the
// workflow computed when it checked the receipt: the file is not downloaded again to hash it
// for the export.
func TestNamesAndReceiptsAreCached(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "")
		h.modal(emp, "expense_submit")
		if errs, _, err := h.slack.SubmitModal(emp, map[string]string{"amount": "2500", "category": "travel",
			"description": "Flights to the Berlin conference", "receipt": "F0BERLIN"}); err != nil || len(errs) > 0 {
			t.Fatalf("form: %v %v", errs, err)
		}
		e := h.latest(emp, expensebot.StatusPendingReview)
		h.click(rev1, h.approvalMessage(e.ID, "approve:"), "approve", e.ID)
		h.dm(emp, "was approved by <@UREV1>")
		sum := sha256.Sum256(fakeslack.FileContent("F0BERLIN"))
		h.eventually("names and the receipt cached", func() bool {
			people, _ := h.db.People(context.Background())
			files, _ := h.db.ReceiptFiles(context.Background())
			return people[emp].Name == "Alice Employee" && people[emp].DisplayName == "alice" && people[rev1].Name == "Rita Reviewer" &&
				files["F0BERLIN"].SHA256 == hex.EncodeToString(sum[:]) && strings.HasSuffix(files["F0BERLIN"].Permalink, "/files/F0BERLIN")
		})
		// Twice: once to check and hash it, once to share a copy in the card's thread
		// (ShareReceipt); the export's lookup only describes it.
		if n := h.slack.Downloads("F0BERLIN"); n != 2 {
			t.Errorf("the receipt was downloaded %d times, want 2 (checked, shared), none for the export", n)
		}
	})
}

// spotMessage waits for the spot-check message of an expense whose text or blocks contain want.
func (h *harness) spotMessage(expenseID int64, want string) fakeslack.Message {
	h.t.Helper()
	var found fakeslack.Message
	h.eventually("spot check of #"+itoa(expenseID)+" containing "+want, func() bool {
		for _, m := range h.slack.Messages(approvals, "") {
			if m.ThreadTS == "" && strings.Contains(m.Visible(), "Spot check: approved automatically · Expense #"+itoa(expenseID)+" ·") &&
				strings.Contains(m.Visible()+string(m.Blocks), want) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// clickIn clicks a button of a message in the approvals channel.
func (h *harness) clickIn(user string, m fakeslack.Message, action string, id int64) {
	h.t.Helper()
	if _, err := h.slack.ClickMessageButton(user, approvals, m.TS, action+":"+itoa(id)); err != nil {
		h.t.Fatalf("%s clicks %s: %v", user, action, err)
	}
}

func visibleAll(ms []fakeslack.Message) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Visible()
	}
	return out
}
