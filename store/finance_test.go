package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// autoApprove submits and routes an expense automatically, with the spot-check draw d (nil for
// none).
func autoApprove(t *testing.T, db *store.DB, key, submitter string, minor int64, d *expensebot.SpotDraw) expensebot.Expense {
	t.Helper()
	e, _, err := db.Submit(ctx, newExpense(key, submitter, minor))
	if err != nil {
		t.Fatal(err)
	}
	e, err = db.Route(ctx, e.ID, &expensebot.Assessment{Decision: "approve", Confidence: 0.99, Model: "m"},
		expensebot.Route{AutoApprove: true, Reasons: []string{"small"}, SpotCheck: d})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRelated(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
		var ids []int64
		for i, d := range []int{1, 10, 20, 21, 22} {
			x := newExpense("r"+itoa(i), "U1", 1000)
			x.IncurredOn = day(d)
			saved, _, err := db.Submit(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, saved.ID)
		}
		other, _, _ := db.Submit(ctx, newExpense("other", "U2", 1000)) // incurred on the 20th
		got, err := db.Related(ctx, "U1", ids[2], day(10), day(21))
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []int64
		for _, x := range got {
			gotIDs = append(gotIDs, x.ID)
		}
		if len(gotIDs) != 2 || gotIDs[0] != ids[1] || gotIDs[1] != ids[3] {
			t.Errorf("related = %v, want %v and %v (the edges, neither the expense itself nor another person's)", gotIDs, ids[1], ids[3])
		}
		// A group's histories at once: everyone named, within the dates, oldest first.
		third := newExpense("third", "U3", 1000)
		third.IncurredOn = day(15)
		db.Submit(ctx, third)
		all, complete, err := db.RelatedAll(ctx, []string{"U1", "U2"}, day(10), day(21))
		if err != nil || !complete {
			t.Fatal(complete, err)
		}
		gotIDs = nil
		for _, x := range all {
			gotIDs = append(gotIDs, x.ID)
		}
		if want := []int64{ids[1], ids[2], ids[3], other.ID}; !slices.Equal(gotIDs, want) {
			t.Errorf("related to U1 and U2 = %v, want %v (not U3's, nor outside the dates)", gotIDs, want)
		}
	})
}

// TestRouteKeepsFindingsAndTheDraw: what the controls found is stored with the expense and its
// routed event; every automatic approval records its spot-check draw, and a selected one is
// queued for posting.
func TestRouteKeepsFindingsAndTheDraw(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		first := autoApprove(t, db, "a", "U1", 4200, &expensebot.SpotDraw{Rate: 0.05, Draw: 0.51})
		e, _, _ := db.Submit(ctx, newExpense("b", "U1", 4200))
		finding := expensebot.Finding{Flag: expensebot.FlagPossibleDuplicate, Related: []expensebot.Related{expensebot.RelatedOf(first)}}
		e, err := db.Route(ctx, e.ID, nil, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"possibly claimed twice"}, Findings: []expensebot.Finding{finding}})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := db.Expense(ctx, e.ID)
		if len(got.Findings) != 1 || got.Findings[0].Flag != expensebot.FlagPossibleDuplicate || got.Findings[0].Related[0].ID != first.ID ||
			got.Findings[0].Related[0].Amount() != first.Amount {
			t.Errorf("findings = %+v", got.Findings)
		}
		evs, _ := db.Events(ctx, e.ID)
		if !strings.Contains(string(evs[len(evs)-1].Detail), `"possible_duplicate"`) {
			t.Errorf("routed event = %s", evs[len(evs)-1].Detail)
		}
		evs, _ = db.Events(ctx, first.ID)
		var approved struct {
			SpotCheck expensebot.SpotDraw `json:"spot_check"`
		}
		json.Unmarshal(evs[len(evs)-1].Detail, &approved)
		if approved.SpotCheck != (expensebot.SpotDraw{Rate: 0.05, Draw: 0.51}) {
			t.Errorf("auto_approved detail = %s", evs[len(evs)-1].Detail)
		}
		if _, err := db.SpotCheck(ctx, first.ID); expensebot.ErrorCode(err) != expensebot.ENOTFOUND {
			t.Errorf("an expense not drawn has a spot check: %v", err)
		}

		drawn := autoApprove(t, db, "c", "U1", 1500, &expensebot.SpotDraw{Rate: 0.05, Draw: 0.01, Selected: true})
		sc, err := db.SpotCheck(ctx, drawn.ID)
		if err != nil || sc.Status != expensebot.SpotCheckDrawn || sc.Draw != 0.01 || sc.Rate != 0.05 {
			t.Fatalf("spot check = %+v, %v", sc, err)
		}
		notices, _ := db.ClaimNotices(ctx, 50, time.Minute)
		var queued []string
		for _, n := range notices {
			if n.ExpenseID == drawn.ID {
				queued = append(queued, n.Kind)
			}
		}
		if strings.Join(queued, ",") != "tell_submitter,spot_check" {
			t.Errorf("notices of the drawn expense = %v", queued)
		}
		if got := kinds(t, db, drawn.ID); got != "submitted,assessed,routed,auto_approved" {
			t.Errorf("trail = %s", got)
		}
	})
}

// TestResolveSpotCheck: of two reviewers racing, one confirms or flags and the other is told who
// did; the submitter cannot check their own expense; a flag needs a finding and tells finance.
func TestResolveSpotCheck(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e := autoApprove(t, db, "a", "USUB", 1500, &expensebot.SpotDraw{Rate: 1, Draw: 0.3, Selected: true})
		if _, err := db.ResolveSpotCheck(ctx, e.ID, "USUB", false, ""); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("the submitter checked their own expense: %v", err)
		}
		if _, err := db.ResolveSpotCheck(ctx, e.ID, "UREV1", true, "  "); expensebot.ErrorCode(err) != expensebot.EINVALID {
			t.Errorf("a flag without a finding: %v", err)
		}
		if err := db.SetSpotMessage(ctx, e.ID, "CAPP", "111.222"); err != nil {
			t.Fatal(err)
		}
		delivered, _ := db.ClaimNotices(ctx, 50, time.Minute)
		for _, n := range delivered {
			db.NoticeDone(ctx, n.ID, nil)
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, rev := range []string{"UREV1", "UREV2"} {
			wg.Go(func() { _, results[i] = db.ResolveSpotCheck(ctx, e.ID, rev, true, "Receipt is for a different date") })
		}
		wg.Wait()
		wins := 0
		for _, err := range results {
			switch expensebot.ErrorCode(err) {
			case "":
				wins++
			case expensebot.ECONFLICT:
				if !strings.Contains(err.Error(), "already flagged") {
					t.Errorf("loser told %q", err)
				}
			default:
				t.Errorf("resolve: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d reviewers won the spot check", wins)
		}
		sc, _ := db.SpotCheck(ctx, e.ID)
		if sc.Status != expensebot.SpotCheckFlagged || sc.Finding != "Receipt is for a different date" || sc.Channel != "CAPP" || sc.MessageTS != "111.222" || sc.CheckedAt.IsZero() {
			t.Errorf("spot check = %+v", sc)
		}
		if got, _ := db.Expense(ctx, e.ID); got.Status != expensebot.StatusAutoApproved {
			t.Errorf("a spot check changed the approval: %s", got.Status)
		}
		if got := kinds(t, db, e.ID); got != "submitted,assessed,routed,auto_approved,spot_check_posted,spot_check_flagged" {
			t.Errorf("trail = %s", got)
		}
		// The card's notices go one at a time: the redraw, then the word to finance.
		var notices []expensebot.Notice
		for range 3 {
			batch, _ := db.ClaimNotices(ctx, 50, time.Minute)
			for _, n := range batch {
				db.NoticeDone(ctx, n.ID, nil)
			}
			notices = append(notices, batch...)
		}
		var finding *expensebot.Notice
		for _, n := range notices {
			if n.Kind == expensebot.NoticeSpotFinding {
				finding = &n
			}
		}
		if finding == nil || finding.Text != "Receipt is for a different date" {
			t.Errorf("no finance notice with the finding: %+v", notices)
		}
	})
}

// TestSettleSpotCheck: a flagged spot check is settled once: of two people racing to clear it,
// one does and the other is told it was already cleared; who flagged it and why are kept beside
// who cleared it and why, in the trail too; the submitter cannot settle their own; a spot check
// not flagged cannot be settled; one can be upheld (must not be paid). Finance is told each time.
func TestSettleSpotCheck(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		e := autoApprove(t, db, "s", "USUB", 1500, &expensebot.SpotDraw{Rate: 1, Draw: 0.3, Selected: true})
		if _, err := db.SettleSpotCheck(ctx, e.ID, "UFIN", true, "fine"); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("cleared a spot check nobody flagged: %v", err)
		}
		if _, err := db.ResolveSpotCheck(ctx, e.ID, "UREV1", true, "Receipt is for a different date"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SettleSpotCheck(ctx, e.ID, "USUB", true, "It was mine, all fine"); expensebot.ErrorCode(err) != expensebot.EFORBIDDEN {
			t.Errorf("the submitter cleared their own: %v", err)
		}
		if _, err := db.SettleSpotCheck(ctx, e.ID, "UFIN", true, " \n "); expensebot.ErrorCode(err) != expensebot.EINVALID {
			t.Errorf("cleared without a reason: %v", err)
		}
		for range 3 { // drain the flag's notices
			batch, _ := db.ClaimNotices(ctx, 50, time.Minute)
			for _, n := range batch {
				db.NoticeDone(ctx, n.ID, nil)
			}
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for i, who := range []string{"UFIN", "UREV2"} {
			wg.Go(func() { _, results[i] = db.SettleSpotCheck(ctx, e.ID, who, i == 0, "The right receipt came") })
		}
		wg.Wait()
		wins := 0
		for _, err := range results {
			switch expensebot.ErrorCode(err) {
			case "":
				wins++
			case expensebot.ECONFLICT:
				if !strings.Contains(err.Error(), "not waiting to be settled") {
					t.Errorf("loser told %q", err)
				}
			default:
				t.Errorf("settle: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d people settled the spot check", wins)
		}
		sc, _ := db.SpotCheck(ctx, e.ID)
		if (sc.Status != expensebot.SpotCheckCleared && sc.Status != expensebot.SpotCheckUpheld) || sc.SettledBy == "" || sc.SettledAt.IsZero() ||
			sc.Settlement != "The right receipt came" || sc.CheckedBy != "UREV1" || sc.Finding != "Receipt is for a different date" {
			t.Errorf("spot check = %+v", sc)
		}
		if sc.Held() != (sc.Status == expensebot.SpotCheckUpheld) {
			t.Errorf("held = %v for %s", sc.Held(), sc.Status)
		}
		if got, _ := db.Expense(ctx, e.ID); got.Status != expensebot.StatusAutoApproved {
			t.Errorf("settling changed the approval: %s", got.Status)
		}
		evs, err := db.Events(ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		last := evs[len(evs)-1]
		if want := "spot_check_" + sc.Status; last.Kind != want || last.Actor != sc.SettledBy ||
			!strings.Contains(string(last.Detail), "The right receipt came") || !strings.Contains(string(last.Detail), "UREV1") {
			t.Errorf("last event = %s by %s %s, want %s by %s", last.Kind, last.Actor, last.Detail, want, sc.SettledBy)
		}
		var notices []expensebot.Notice
		for range 3 {
			batch, _ := db.ClaimNotices(ctx, 50, time.Minute)
			for _, n := range batch {
				db.NoticeDone(ctx, n.ID, nil)
			}
			notices = append(notices, batch...)
		}
		var kinds []string
		for _, n := range notices {
			kinds = append(kinds, n.Kind+"/"+n.Event)
		}
		if got := strings.Join(kinds, ","); got != "update_spot/"+last.Kind+",spot_finding/"+last.Kind {
			t.Errorf("notices = %s", got)
		}

		// Upheld: the expense must not be paid, and stays held.
		u := autoApprove(t, db, "u", "USUB", 1500, &expensebot.SpotDraw{Rate: 1, Draw: 0.3, Selected: true})
		if _, err := db.ResolveSpotCheck(ctx, u.ID, "UREV1", true, "A personal dinner"); err != nil {
			t.Fatal(err)
		}
		sc, err = db.SettleSpotCheck(ctx, u.ID, "UREV1", false, "Confirmed with the employee")
		if err != nil || sc.Status != expensebot.SpotCheckUpheld || !sc.Held() || sc.SettledBy != "UREV1" {
			t.Fatalf("uphold: %+v, %v", sc, err)
		}
		if _, err := db.SettleSpotCheck(ctx, u.ID, "UFIN", true, "changed my mind"); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("an upheld flag was cleared after all: %v", err)
		}
	})
}

// TestMarkExported: a marked batch is skipped by later queries that ask to skip exported
// expenses, has an event per expense, and a second run racing to mark the same expenses marks
// nothing.
func TestMarkExported(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		a := autoApprove(t, db, "a", "U1", 1000, nil)
		b := autoApprove(t, db, "b", "U1", 2000, nil)
		batch, err := db.MarkExported(ctx, []int64{a.ID}, "xero")
		if err != nil || batch == 0 {
			t.Fatalf("mark: %d, %v", batch, err)
		}
		left, _ := db.Expenses(ctx, store.ExpenseQuery{SkipExported: true})
		if len(left) != 1 || left[0].ID != b.ID {
			t.Errorf("not yet exported = %v", left)
		}
		all, _ := db.Expenses(ctx, store.ExpenseQuery{})
		if len(all) != 2 {
			t.Errorf("all = %d expenses", len(all))
		}
		if _, err := db.MarkExported(ctx, []int64{b.ID, a.ID}, "xero"); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("marking an exported expense again: %v", err)
		}
		if left, _ := db.Expenses(ctx, store.ExpenseQuery{SkipExported: true}); len(left) != 1 {
			t.Errorf("a refused batch marked something: %v", left)
		}
		evs, _ := db.Events(ctx, a.ID)
		last := evs[len(evs)-1]
		if last.Kind != expensebot.EventExported || last.Actor != expensebot.ActorExport || !strings.Contains(string(last.Detail), `"xero"`) {
			t.Errorf("last event = %+v %s", last, last.Detail)
		}
		if got := kinds(t, db, b.ID); strings.Contains(got, "exported") {
			t.Errorf("the refused batch left an event: %s", got)
		}
	})
}

func TestExpensesQuery(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		early := autoApprove(t, db, "a", "U1", 1000, nil)
		now = now.Add(48 * time.Hour)
		late := autoApprove(t, db, "b", "U1", 1000, nil)
		p := pending(t, db, "c", 1)
		tests := []struct {
			q    store.ExpenseQuery
			want []int64
		}{
			{store.ExpenseQuery{Statuses: []expensebot.Status{expensebot.StatusAutoApproved}}, []int64{early.ID, late.ID}},
			{store.ExpenseQuery{Statuses: []expensebot.Status{expensebot.StatusPendingReview, expensebot.StatusApproved}}, []int64{p.ID}},
			{store.ExpenseQuery{DecidedFrom: now.Add(-time.Hour)}, []int64{late.ID}},
			{store.ExpenseQuery{DecidedBefore: now.Add(-time.Hour)}, []int64{early.ID}},
			{store.ExpenseQuery{CreatedFrom: now}, []int64{late.ID, p.ID}},
			{store.ExpenseQuery{CreatedBefore: now}, []int64{early.ID}},
		}
		for i, tt := range tests {
			got, err := db.Expenses(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, x := range got {
				ids = append(ids, x.ID)
			}
			if len(ids) != len(tt.want) || (len(ids) > 0 && (ids[0] != tt.want[0] || ids[len(ids)-1] != tt.want[len(tt.want)-1])) {
				t.Errorf("query %d = %v, want %v", i, ids, tt.want)
			}
		}
	})
}

func TestPeopleAndReceiptFiles(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		db.SavePerson(ctx, expensebot.Person{ID: "U1", Name: "Alice Old", DisplayName: "alice"})
		if err := db.SavePerson(ctx, expensebot.Person{ID: "U1", Name: "Alice Employee", DisplayName: "alice"}); err != nil {
			t.Fatal(err)
		}
		people, err := db.People(ctx)
		if err != nil || len(people) != 1 || people["U1"].Label() != "Alice Employee" || people["U1"].UpdatedAt.IsZero() {
			t.Errorf("people = %+v, %v", people, err)
		}
		// Many at once, as a burst of new submitters is looked up: one new, one renamed.
		var many []expensebot.Person
		for i := range 700 {
			many = append(many, expensebot.Person{ID: fmt.Sprintf("UM%03d", i), Name: fmt.Sprintf("Member %d", i)})
		}
		many = append(many, expensebot.Person{ID: "U1", Name: "Alice Renamed"})
		if err := db.SavePeople(ctx, many); err != nil {
			t.Fatal(err)
		}
		people, err = db.People(ctx)
		if err != nil || len(people) != 701 || people["U1"].Label() != "Alice Renamed" || people["UM699"].Label() != "Member 699" {
			t.Errorf("after saving 701 at once: %d people, U1 %q, %v", len(people), people["U1"].Label(), err)
		}
		// A receipt file is kept as a receipt of the expense that lists it (newExpense lists F1).
		rf, _, err := db.Submit(ctx, newExpense("rf", "U1", 100))
		if err != nil {
			t.Fatal(err)
		}
		sum := strings.Repeat("ab", 32)
		if err := db.DescribeReceipt(ctx, rf.ID, expensebot.ReceiptFile{FileID: "F1", Permalink: "https://x/F1", SHA256: sum}); err != nil {
			t.Fatal(err)
		}
		files, err := db.ReceiptFiles(ctx)
		if err != nil || files["F1"].Permalink != "https://x/F1" || files["F1"].SHA256 != sum {
			t.Errorf("receipt files = %+v, %v", files, err)
		}
	})
}

// TestExportStatusAtEachEvent: each exported event carries the status the expense had right
// after it, also when the export starts after the expense's first events.
func TestExportStatusAtEachEvent(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		p := pending(t, db, "x", 2)
		now = now.Add(24 * time.Hour)
		db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UREV1", Outcome: expensebot.Approve})
		db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UREV2", Outcome: expensebot.Approve})
		for _, tt := range []struct {
			since time.Time
			want  string
		}{
			{time.Time{}, "submitted:submitted,assessed:submitted,routed:pending_review,first_approval:pending_review,approved:approved"},
			{now, "first_approval:pending_review,approved:approved"},
		} {
			var got []string
			db.Export(ctx, tt.since, func(r store.ExportRow) error {
				got = append(got, r.Event.Kind+":"+string(r.StatusAt))
				return nil
			})
			if strings.Join(got, ",") != tt.want {
				t.Errorf("since %s: %s, want %s", tt.since.Format(time.DateOnly), strings.Join(got, ","), tt.want)
			}
		}
	})
}

// TestReceipted: the duplicate control reads anyone's expenses incurred within the dates that
// carry a receipt a model read, each with those receipts; one without a reading is left out.
func TestReceipted(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		day := func(d int) time.Time { return time.Date(2026, 11, d, 0, 0, 0, 0, time.UTC) }
		submit := func(key, user string, d int) expensebot.Expense {
			x := newExpense(key, user, 1000)
			x.IncurredOn = day(d)
			saved, _, err := db.Submit(ctx, x)
			if err != nil {
				t.Fatal(err)
			}
			return saved
		}
		mine, theirs, unread, late := submit("a", "U1", 10), submit("b", "U2", 12), submit("c", "U3", 12), submit("d", "U2", 25)
		for i, x := range []expensebot.Expense{mine, theirs, late} {
			if _, err := db.AddReceipts(ctx, x.ID, []expensebot.Receipt{receiptOf("F"+itoa(i), string(rune('a'+i)))}, x.SubmitterID); err != nil {
				t.Fatal(err)
			}
		}
		noReading := receiptOf("FU", "e")
		noReading.Reading = nil
		if _, err := db.AddReceipts(ctx, unread.ID, []expensebot.Receipt{noReading}, "U3"); err != nil {
			t.Fatal(err)
		}
		got, err := db.Receipted(ctx, day(5), day(20))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != mine.ID || got[1].ID != theirs.ID {
			t.Fatalf("receipted = %+v, want #%d and #%d", got, mine.ID, theirs.ID)
		}
		for _, x := range got {
			if len(x.Receipts) != 1 || x.Receipts[0].Reading == nil || x.Receipts[0].Reading.Facts.Merchant == "" {
				t.Errorf("#%d receipts = %+v", x.ID, x.Receipts)
			}
		}
	})
}
