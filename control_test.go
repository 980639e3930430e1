package expensebot

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEveryFlagHasASentence: people read flags as sentences, never as names. A flag added to
// Flags or ControlFlags without a sentence fails here.
func TestEveryFlagHasASentence(t *testing.T) {
	for _, f := range append(append([]string{}, Flags...), ControlFlags...) {
		s := FlagSentence(f)
		if s == FlagSentence("no-such-flag") || strings.Contains(s, "_") {
			t.Errorf("flag %q reads %q", f, s)
		}
	}
}

// TestStatusAfter replays a trail and wants the status each event left; add a case for each new
// event that changes a status.
func TestStatusAfter(t *testing.T) {
	ev := func(kind string, detail string) AuditEvent {
		return AuditEvent{Kind: kind, Detail: json.RawMessage(detail)}
	}
	tests := []struct {
		trail []AuditEvent
		want  []Status
	}{
		{
			[]AuditEvent{ev(EventSubmitted, "{}"), ev(EventAssessing, "{}"), ev(EventAssessed, "{}"),
				ev(EventRouted, `{"auto_approve":true}`), ev(EventAutoApproved, "{}"), ev(EventNotified, "{}")},
			[]Status{StatusSubmitted, StatusAssessing, StatusAssessing, StatusAutoApproved, StatusAutoApproved, StatusAutoApproved},
		},
		{
			[]AuditEvent{ev(EventSubmitted, "{}"), ev(EventRouted, `{"auto_approve":false}`), ev(EventCommented, "{}"),
				ev(EventFirstApproval, "{}"), ev(EventRefused, "{}"), ev(EventApproved, "{}")},
			[]Status{StatusSubmitted, StatusPendingReview, StatusPendingReview, StatusPendingReview, StatusPendingReview, StatusApproved},
		},
		{
			[]AuditEvent{ev(EventSubmitted, "{}"), ev(EventRouted, `not json`), ev(EventRejected, "{}"), ev(EventExported, "{}")},
			[]Status{StatusSubmitted, StatusPendingReview, StatusRejected, StatusRejected},
		},
	}
	for _, tt := range tests {
		var s Status
		for i, e := range tt.trail {
			if s = StatusAfter(s, e); s != tt.want[i] {
				t.Errorf("after %s: %s, want %s", e.Kind, s, tt.want[i])
			}
		}
	}
}

func TestFlagsOf(t *testing.T) {
	e := Expense{Assessment: &Assessment{Flags: []string{"personal", "suspicious"}},
		Findings: []Finding{{Flag: FlagPossibleSplit}, {Flag: "personal"}, {Flag: FlagPossibleDuplicate}}}
	if got := strings.Join(FlagsOf(e), ","); got != "personal,suspicious,possible_split,possible_duplicate" {
		t.Errorf("FlagsOf = %s", got)
	}
	if got := FlagsOf(Expense{}); got != nil {
		t.Errorf("no flags: %v", got)
	}
}

// TestReviewerEngaged: once a reviewer has asked or commented, nothing automatic decides the
// expense (issue 21: a receipt after a question approved it automatically). The submitter's own
// comment does not count.
func TestReviewerEngaged(t *testing.T) {
	e := Expense{ID: 1, SubmitterID: "UEMP"}
	ev := func(kind, actor string) AuditEvent { return AuditEvent{ExpenseID: 1, Kind: kind, Actor: actor} }
	tests := []struct {
		name   string
		events []AuditEvent
		want   bool
	}{
		{"routed only", []AuditEvent{ev(EventSubmitted, "UEMP"), ev(EventRouted, ActorPolicy)}, false},
		{"a question", []AuditEvent{ev(EventRouted, ActorPolicy), ev(EventInfoRequested, "UREV")}, true},
		{"a question answered", []AuditEvent{ev(EventInfoRequested, "UREV"), ev(EventInfoProvided, "UEMP")}, true},
		{"a reviewer's comment", []AuditEvent{ev(EventRouted, ActorPolicy), ev(EventCommented, "UREV")}, true},
		{"the submitter's own comment", []AuditEvent{ev(EventRouted, ActorPolicy), ev(EventCommented, "UEMP")}, false},
		{"a refused click", []AuditEvent{ev(EventRefused, "UOUT")}, false},
	}
	for _, tt := range tests {
		if got := ReviewerEngaged(e, tt.events); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
