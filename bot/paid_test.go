package bot_test

import (
	"context"
	"strings"
	"testing"

	"github.com/expensebot/expensebot"
)

// TestPaidTellsTheSubmitter: finance records the payout of an approved expense; the running bot
// DMs its submitter when, in which batch and with what reference, redraws the approval card to
// show it paid, and the App Home moves it from "owed to you" to "paid to you lately".
func TestPaidTellsTheSubmitter(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "2500 Conference travel to Berlin #travel")
		e := h.nth(emp, 1)
		if e.Status != expensebot.StatusPendingReview {
			t.Fatalf("routed: %s", e.Status)
		}
		m := h.approvalMessage(e.ID, "Approve")
		h.click(rev1, m, "approve", e.ID)
		h.dm(emp, "was approved by <@UREV1>")
		h.home(emp, "Owed to you: 2,500.00 USD")

		ctx := context.Background()
		batch, err := h.db.MarkExported(ctx, []int64{e.ID}, "csv")
		if err != nil {
			t.Fatal(err)
		}
		paid, err := h.db.Pay(ctx, []int64{e.ID}, expensebot.Payout{By: "Fiona", Actor: "Fiona", Reference: "TRX-2026-12-03"})
		if err != nil || paid[0].Err != nil {
			t.Fatalf("pay: %v %v", err, paid)
		}
		dm := h.dm(emp, "was paid on")
		for _, want := range []string{"batch " + itoa(batch), "reference TRX-2026-12-03"} {
			if !strings.Contains(dm.Text, want) {
				t.Errorf("DM lacks %q: %s", want, dm.Text)
			}
		}
		card := h.approvalMessage(e.ID, "*Paid* on")
		if !strings.Contains(card.Visible(), "recorded by Fiona") || strings.Contains(string(card.Blocks), `"approve:`) {
			t.Errorf("card after payout:\n%s", card.Visible())
		}
		v := h.homeShows(emp, "Paid to you lately")
		if strings.Contains(v.Visible(), "Owed to you") {
			t.Errorf("the App Home still shows it owed:\n%s", v.Visible())
		}
		// Said once: a second payout is refused and tells nobody again.
		again, _ := h.db.Pay(ctx, []int64{e.ID}, expensebot.Payout{By: "Gil", Actor: "Gil"})
		if expensebot.ErrorCode(again[0].Err) != expensebot.ECONFLICT {
			t.Errorf("second payout: %v", again[0].Err)
		}
		if n := count(h.events(e.ID), expensebot.EventPaid); n != 1 {
			t.Errorf("%d paid events", n)
		}
	})
}
