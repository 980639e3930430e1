package expensebot

import (
	"encoding/json"
	"testing"
)

// TestStatusTable guards the rules every row of the status table keeps, so that a row added
// later (paid, say) cannot contradict the others: open and owed money counts toward the
// controls; only an open status can be decided or answered; every status an expense moves to is
// in the table; every status is reached by an audit event the export replays; and a status the
// table does not know fails closed.
func TestStatusTable(t *testing.T) {
	reached := map[Status]bool{StatusSubmitted: true}
	for _, kind := range []string{EventSubmitted, EventAssessing, EventAutoApproved, EventFirstApproval, EventApproved, EventRejected,
		EventInfoRequested, EventInfoProvided, EventWithdrawn, EventExpired, EventPaid} {
		reached[StatusAfter("", AuditEvent{Kind: kind})] = true
	}
	reached[StatusAfter("", AuditEvent{Kind: EventRouted, Detail: json.RawMessage(`{"auto_approve":false}`)})] = true
	for _, st := range Statuses {
		i := st.Info()
		switch {
		case i.Status != st || i.Label == "":
			t.Errorf("%s: row %+v", st, i)
		case (i.Open || i.Owed) && !i.Counts:
			t.Errorf("%s: open or owed money must count toward the controls", st)
		case i.Counts && !i.Compared:
			t.Errorf("%s: counted money must also be compared for duplicates", st)
		case !i.Open && (i.Reviewers.Has(ActDecide) || i.Submitter.Has(ActAnswer) || i.Submitter.Has(ActWithdraw)):
			t.Errorf("%s: final, yet people may still decide, answer or withdraw it", st)
		case i.Column == ColumnNotRouted && (i.Reviewers != 0 || i.LiveCard):
			t.Errorf("%s: not routed, yet it has reviewers or a card", st)
		case !reached[st]:
			t.Errorf("%s: no audit event leads to it, so the export's replay never shows it (see StatusAfter)", st)
		}
		for _, next := range i.Next {
			if !next.Known() {
				t.Errorf("%s → %s: not in the table", st, next)
			}
		}
	}
	u := Status("archived").Info()
	if u.Open || u.Owed || !u.Counts || !u.Compared || u.Reviewers != 0 || u.Submitter != 0 || u.Label != "Unknown" {
		t.Errorf("an unknown status = %+v: want final, counted, nothing allowed", u)
	}
}
