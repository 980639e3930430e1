package bot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

func TestHistoryAndHelp(t *testing.T) {
	h := newHarness(t, "sqlite")
	h.start()
	h.command(emp, "history")
	h.ephemeral(emp, general, "You have no expenses yet")
	h.command(emp, "12 Sandwich")
	h.command(emp, "2500 Flight to Lisbon")
	h.latest(emp, expensebot.StatusPendingReview)
	h.command(emp, "history")
	h.ephemeral(emp, general, "Your last 2 expenses")
	h.ephemeral(emp, general, "Flight to Lisbon — Pending review")
	h.ephemeral(emp, general, "Sandwich — Auto-approved")
	ack := h.command(emp, "help")
	if !strings.Contains(string(ack.Payload), "/expense 42.50 Team lunch") {
		t.Errorf("help ack = %s", ack.Payload)
	}
	ack = h.command(emp, "-5 refund")
	if !strings.Contains(string(ack.Payload), "negative") {
		t.Errorf("bad amount ack = %s", ack.Payload)
	}
}

// TestPolicyFileRoute: a category rule sends big travel to its own channel and reviewers, and only
// those reviewers may decide it.
func TestPolicyFileRoute(t *testing.T) {
	h := newHarness(t, "postgres")
	h.slack.AddChannel("CTRAVEL", "travel-approvals", "UBOT", rev1, rev2)
	h.slack.AddUserGroup("S0TRAVEL", rev2)
	over := expensebot.Money{Minor: 300000, Currency: "USD"}
	h.rules.Categories = map[string]policy.CategoryRule{"travel": {Routes: []policy.RouteRule{{Over: over, Channel: "CTRAVEL", Reviewers: []string{"S0TRAVEL"}}}}}
	h.start()
	h.command(emp, "4000 Flights to the Tokyo office #travel")
	e := h.latest(emp, expensebot.StatusPendingReview)
	var ts string
	h.eventually("the approvals message in #travel-approvals", func() bool {
		for _, m := range h.slack.Messages("CTRAVEL", "") {
			if strings.Contains(m.Visible(), "travel over 3,000.00 USD goes to reviewers S0TRAVEL in channel CTRAVEL") {
				ts = m.TS
				return true
			}
		}
		return false
	})
	if _, err := h.slack.ClickMessageButton(rev1, "CTRAVEL", ts, "approve:"+itoa(e.ID)); err != nil {
		t.Fatal(err)
	}
	h.ephemeral(rev1, "CTRAVEL", "Only the configured reviewers")
	if _, err := h.slack.ClickMessageButton(rev2, "CTRAVEL", ts, "approve:"+itoa(e.ID)); err != nil {
		t.Fatal(err)
	}
	h.dm(emp, "was approved by <@UREV2>")
}

// TestRouteIsAFactOfTheExpense: the policy is edited (the travel route now goes to rev1) while an
// expense routed under the old one waits. The old route's reviewers stay in charge of it, the new
// policy's do not get it, and the audit trail says which rules version routed it.
func TestRouteIsAFactOfTheExpense(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.slack.AddChannel("CTRAVEL", "travel-approvals", "UBOT", rev1, rev2)
		h.slack.AddUserGroup("S0TRAVEL", rev2)
		over := expensebot.Money{Minor: 300000, Currency: "USD"}
		h.rules.Categories = map[string]policy.CategoryRule{"travel": {Routes: []policy.RouteRule{{Over: over, Channel: "CTRAVEL", Reviewers: []string{"S0TRAVEL"}}}}}
		old := h.start()
		h.command(emp, "4000 Flights to the Tokyo office #travel")
		e := h.latest(emp, expensebot.StatusPendingReview)
		if len(e.Reviewers) != 1 || e.Reviewers[0] != "S0TRAVEL" || e.RulesVersion == "" {
			t.Fatalf("route not stored: reviewers %v, version %q", e.Reviewers, e.RulesVersion)
		}
		if err := old.stop(); err != nil {
			t.Fatal(err)
		}
		h.rules.Categories = map[string]policy.CategoryRule{"travel": {Routes: []policy.RouteRule{{Over: over, Channel: "CTRAVEL", Reviewers: []string{rev1}}}}}
		h.start()
		var ts string
		h.eventually("the card in #travel-approvals", func() bool { ts = h.expense(e.ID).ReviewMessageTS; return ts != "" })
		if _, err := h.slack.ClickMessageButton(rev1, "CTRAVEL", ts, "approve:"+itoa(e.ID)); err != nil {
			t.Fatal(err)
		}
		h.ephemeral(rev1, "CTRAVEL", "Only the configured reviewers")
		// Rita's App Home does not offer her the expense; Ravi's does, with its reasons.
		h.slack.OpenHome(rev1)
		h.slack.OpenHome(rev2)
		h.eventually("both App Homes", func() bool {
			_, a := h.slack.Home(rev1)
			v, b := h.slack.Home(rev2)
			return a && b && strings.Contains(v.Visible(), "Flights to the Tokyo office")
		})
		if v, _ := h.slack.Home(rev1); strings.Contains(v.Visible(), "Flights to the Tokyo office") {
			t.Errorf("the queue offers Rita an expense she may not decide")
		}
		if v, _ := h.slack.Home(rev2); !strings.Contains(v.Visible(), "Why: ") || !strings.Contains(v.Visible(), "goes to reviewers S0TRAVEL") {
			t.Errorf("Ravi's queue has no reasons: %s", v.Visible())
		}
		if _, err := h.slack.ClickMessageButton(rev2, "CTRAVEL", ts, "approve:"+itoa(e.ID)); err != nil {
			t.Fatal(err)
		}
		h.dm(emp, "was approved by <@UREV2>")
		var routed map[string]any
		evs, _ := h.db.Events(context.Background(), e.ID)
		for _, ev := range evs {
			if ev.Kind == expensebot.EventRouted {
				json.Unmarshal(ev.Detail, &routed)
			}
		}
		if routed["rules_version"] != e.RulesVersion {
			t.Errorf("routed event = %v, want version %s", routed, e.RulesVersion)
		}
	})
}
