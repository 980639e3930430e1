package store_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// TestPayOnlyApprovedOnce: every status of the table is offered for payout; only approved and
// auto_approved expenses become paid, each once, with its audit event and the notices that tell
// the submitter and redraw the card. A second payout names when and by whom it was paid.
func TestPayOnlyApprovedOnce(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		c := withClock(db)
		var ids []int64
		was := map[int64]expensebot.Status{}
		for _, s := range expensebot.Statuses {
			e := reach(t, db, c, s, "pay-"+string(s))
			ids = append(ids, e.ID)
			was[e.ID] = s
		}
		// Drain what the walk queued, so that what follows is the payout's alone.
		for {
			ns, err := db.ClaimNotices(ctx, 100, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) == 0 {
				break
			}
			for _, n := range ns {
				if err := db.NoticeDone(ctx, n.ID, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		p := expensebot.Payout{By: "Fiona Finance", Actor: "Fiona Finance", Reference: "TRX-2026-12-03"}
		got, err := db.Pay(ctx, append(ids, 999999), p)
		if err != nil {
			t.Fatal(err)
		}
		var paid []int64
		for _, r := range got {
			payable := was[r.ID] == expensebot.StatusApproved || was[r.ID] == expensebot.StatusAutoApproved
			switch {
			case r.ID == 999999:
				if expensebot.ErrorCode(r.Err) != expensebot.ENOTFOUND {
					t.Errorf("unknown expense: %v", r.Err)
				}
			case payable:
				if r.Err != nil || r.Expense.Status != expensebot.StatusPaid || r.Expense.PaidBy != "Fiona Finance" || r.Expense.PaidReference != "TRX-2026-12-03" {
					t.Errorf("%s: %+v, %v", was[r.ID], r.Expense, r.Err)
				}
				paid = append(paid, r.ID)
			default:
				if expensebot.ErrorCode(r.Err) != expensebot.ECONFLICT {
					t.Errorf("%s: paid or wrong error: %v", was[r.ID], r.Err)
				}
				if e, _ := db.Expense(ctx, r.ID); e.Status != was[r.ID] || (e.PaidBy != "" && e.PaidBy != "fiona") {
					t.Errorf("%s: refused, yet changed to %s", was[r.ID], e.Status)
				}
			}
		}
		// was[paid] includes the walk's own paid expense, which is refused: 2 newly paid.
		if len(paid) != 2 {
			t.Fatalf("paid %v, want the approved and the auto_approved expense", paid)
		}
		for _, id := range paid {
			e, err := db.Expense(ctx, id)
			if err != nil || e.Status != expensebot.StatusPaid || e.PaidAt.IsZero() {
				t.Errorf("#%d as stored: %+v, %v", id, e, err)
			}
			evs, _ := db.Events(ctx, id)
			last := evs[len(evs)-1]
			if last.Kind != expensebot.EventPaid || last.Actor != "Fiona Finance" || !strings.Contains(string(last.Detail), `"TRX-2026-12-03"`) {
				t.Errorf("#%d: last event %+v %s", id, last, last.Detail)
			}
		}
		ns, err := db.ClaimNotices(ctx, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		tells := map[int64]string{}
		for _, n := range ns {
			if n.Event == expensebot.EventPaid {
				tells[n.ExpenseID] += n.Kind + "(" + n.Text + ") "
			}
		}
		for _, id := range paid {
			if tells[id] != "update_review() tell_submitter(TRX-2026-12-03) " && tells[id] != "tell_submitter(TRX-2026-12-03) update_review() " {
				t.Errorf("#%d notices: %q", id, tells[id])
			}
		}
		if len(tells) != 2 {
			t.Errorf("notices for %d expenses, want 2: %v", len(tells), tells)
		}

		// Once: the second payout is refused and says who paid it and when.
		again, _ := db.Pay(ctx, paid[:1], expensebot.Payout{By: "Gil", Actor: "Gil"})
		if err := again[0].Err; expensebot.ErrorCode(err) != expensebot.ECONFLICT || !strings.Contains(err.Error(), "already paid on") ||
			!strings.Contains(err.Error(), "by Fiona Finance (reference TRX-2026-12-03)") {
			t.Errorf("second payout: %v", err)
		}
		if e, _ := db.Expense(ctx, paid[0]); e.PaidBy != "Fiona Finance" {
			t.Errorf("the second payout changed who paid: %q", e.PaidBy)
		}
	})
}

// TestPayBatch: the payout of a batch reads exactly the expenses its export wrote.
func TestPayBatch(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		a := autoApprove(t, db, "a", "U1", 1000, nil)
		b := autoApprove(t, db, "b", "U1", 2000, nil)
		autoApprove(t, db, "c", "U2", 3000, nil) // not in the batch
		batch, err := db.MarkExported(ctx, []int64{a.ID, b.ID}, "csv")
		if err != nil {
			t.Fatal(err)
		}
		list, err := db.BatchExpenses(ctx, batch)
		if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID || list[0].ExportBatch != batch {
			t.Fatalf("batch %d = %+v, %v", batch, list, err)
		}
		if _, err := db.BatchExpenses(ctx, batch+1); expensebot.ErrorCode(err) != expensebot.ENOTFOUND {
			t.Errorf("no such batch: %v", err)
		}
		if _, err := db.Pay(ctx, []int64{a.ID}, expensebot.Payout{By: "", Actor: ""}); expensebot.ErrorCode(err) != expensebot.EINVALID {
			t.Errorf("payout without who: %v", err)
		}

		// Two payouts of the batch at once: each expense is paid by exactly one of them.
		var wg sync.WaitGroup
		results := make([][]expensebot.Paid, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], _ = db.Pay(ctx, []int64{a.ID, b.ID}, expensebot.Payout{By: "payer" + strconv.Itoa(i), Actor: "payer" + strconv.Itoa(i)})
			}()
		}
		wg.Wait()
		for j, id := range []int64{a.ID, b.ID} {
			won := 0
			for _, r := range results {
				if r[j].Err == nil {
					won++
				} else if expensebot.ErrorCode(r[j].Err) != expensebot.ECONFLICT || !strings.Contains(r[j].Err.Error(), "already paid") {
					t.Errorf("#%d: the loser was told %v", id, r[j].Err)
				}
			}
			if won != 1 {
				t.Errorf("#%d paid by %d payouts", id, won)
			}
			if n := strings.Count(kinds(t, db, id), "paid"); n != 1 {
				t.Errorf("#%d: %d paid events", id, n)
			}
		}
	})
}

// TestPayRefusesAHeldSpotCheck: a spot check a reviewer flagged holds the money back from the
// accounting export until it is cleared; a payout recorded by hand must not pay it either. Once
// cleared it is paid like any other.
func TestPayRefusesAHeldSpotCheck(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e := autoApprove(t, db, "held", "USUB", 1500, &expensebot.SpotDraw{Rate: 1, Draw: 0.3, Selected: true})
		if _, err := db.ResolveSpotCheck(ctx, e.ID, "UREV1", true, "Receipt is for a different date"); err != nil {
			t.Fatal(err)
		}
		p := expensebot.Payout{By: "Fiona Finance", Actor: "Fiona Finance", Reference: "TRX-1"}
		got, err := db.Pay(ctx, []int64{e.ID}, p)
		if err != nil {
			t.Fatal(err)
		}
		if r := got[0]; expensebot.ErrorCode(r.Err) != expensebot.ECONFLICT || !strings.Contains(expensebot.ErrorMessage(r.Err), "held back") {
			t.Fatalf("paid a held expense: %+v, %v", r.Expense, r.Err)
		}
		if now, err := db.Expense(ctx, e.ID); err != nil || now.Status != expensebot.StatusAutoApproved {
			t.Fatalf("after the refused payout: %s, %v", now.Status, err)
		}
		if _, err := db.SettleSpotCheck(ctx, e.ID, "UFIN", true, "The right receipt came"); err != nil {
			t.Fatal(err)
		}
		got, err = db.Pay(ctx, []int64{e.ID}, p)
		if err != nil || got[0].Err != nil || got[0].Expense.Status != expensebot.StatusPaid {
			t.Fatalf("cleared, then paid: %+v, %v, %v", got, err, got[0].Err)
		}
	})
}
