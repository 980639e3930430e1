package expensebot

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestStatusTransitions(t *testing.T) {
	allowed := map[[2]Status]bool{
		{StatusSubmitted, StatusAssessing}:     true,
		{StatusSubmitted, StatusPendingReview}: true,
		{StatusSubmitted, StatusAutoApproved}:  true,
		{StatusAssessing, StatusPendingReview}: true,
		{StatusAssessing, StatusAutoApproved}:  true,
		{StatusPendingReview, StatusApproved}:  true,
		{StatusPendingReview, StatusRejected}:  true,
		{StatusPendingReview, StatusNeedsInfo}: true,
		{StatusPendingReview, StatusWithdrawn}: true,
		{StatusPendingReview, StatusExpired}:   true,
		{StatusNeedsInfo, StatusPendingReview}: true,
		{StatusNeedsInfo, StatusWithdrawn}:     true,
		{StatusApproved, StatusPaid}:           true, // the payout, once
		{StatusAutoApproved, StatusPaid}:       true,
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got := from.CanTransition(to); got != allowed[[2]Status{from, to}] {
				t.Errorf("%s → %s allowed = %v", from, to, got)
			}
		}
	}
	for _, s := range []Status{StatusApproved, StatusRejected, StatusAutoApproved, StatusWithdrawn, StatusExpired, StatusPaid} {
		if !s.Final() {
			t.Errorf("%s is not final", s)
		}
	}
	// An expired or rejected expense is resubmitted as a new one; it never comes back itself.
	for _, s := range Statuses {
		want := s == StatusRejected || s == StatusExpired || s == StatusNeedsInfo
		if s.Resubmittable() != want {
			t.Errorf("%s resubmittable = %v", s, !want)
		}
		want = s == StatusPendingReview || s == StatusNeedsInfo
		if s.Withdrawable() != want {
			t.Errorf("%s withdrawable = %v", s, !want)
		}
	}
}

// TestStatusLabels: every status reads as words, never as its identifier.
func TestStatusLabels(t *testing.T) {
	want := map[Status]string{StatusPendingReview: "Pending review", StatusNeedsInfo: "Needs info", StatusWithdrawn: "Withdrawn",
		StatusExpired: "Expired", StatusAutoApproved: "Auto-approved", StatusRejected: "Rejected"}
	for s, label := range want {
		if got := s.Label(); got != label {
			t.Errorf("%s.Label() = %q, want %q", s, got, label)
		}
	}
	for _, s := range Statuses {
		if strings.Contains(s.Label(), "_") {
			t.Errorf("%s.Label() = %q", s, s.Label())
		}
	}
}

func TestPrincipals(t *testing.T) {
	tests := []struct {
		user, forUser string
		want          string
	}{
		{"U1", "", "U1"},
		{"U1", "U1", "U1"},
		{"UDEL", "UREV", "UDEL,UREV"},
	}
	for _, tt := range tests {
		if got := strings.Join(Principals(tt.user, tt.forUser), ","); got != tt.want {
			t.Errorf("Principals(%q, %q) = %s, want %s", tt.user, tt.forUser, got, tt.want)
		}
	}
}

func TestDelegationActive(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	d := Delegation{Reviewer: "UREV", Delegate: "UDEL", Until: now.Add(time.Hour)}
	if !d.Active(now) || d.Active(now.Add(time.Hour)) || (Delegation{Until: now.Add(time.Hour)}).Active(now) {
		t.Errorf("Active is wrong around %v", d.Until)
	}
}

// TestExpenseValidate guards the rules every submission meets, whichever edge it came from: each
// case changes one field of a valid expense and wants the message and the field it names. Add a
// case for each new rule.
func TestExpenseValidate(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	ok := Expense{SubmitterID: "U1", Amount: Money{100, "USD"}, Description: "lunch", Category: "meals", IncurredOn: now}
	if err := ok.Validate(now); err != nil {
		t.Fatalf("valid expense refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Expense)
		msg    string
		field  string
	}{
		{"no submitter", func(e *Expense) { e.SubmitterID = "" }, "submitter", ""},
		{"zero", func(e *Expense) { e.Amount.Minor = 0 }, "more than zero", FieldAmount},
		{"bad currency", func(e *Expense) { e.Amount.Currency = "XXX" }, "currency", FieldCurrency},
		{"too large", func(e *Expense) { e.Amount.Minor = 1 << 60 }, "more than", FieldAmount},
		{"no description", func(e *Expense) { e.Description = "  " }, "what the expense was for", FieldDescription},
		{"only zero-width characters", func(e *Expense) { e.Description = "\u200b\u200d\ufeff" }, "what the expense was for", FieldDescription},
		{"long description", func(e *Expense) { e.Description = strings.Repeat("a", 1001) }, "too long", FieldDescription},
		{"bad category", func(e *Expense) { e.Category = "yachts" }, "not a category", FieldCategory},
		{"future", func(e *Expense) { e.IncurredOn = now.AddDate(0, 0, 5) }, "future", FieldDate},
		{"long ago", func(e *Expense) { e.IncurredOn = now.AddDate(-3, 0, 0) }, "two years", FieldDate},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.change(&e)
			err := e.Validate(now)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want %q", err, tt.msg)
			}
			var ee *Error
			if !errors.As(err, &ee) || ee.Code != EINVALID || ee.Field != tt.field {
				t.Errorf("got %#v, want EINVALID about %q", err, tt.field)
			}
		})
	}
	// 1000 characters are allowed however many bytes they take.
	e := ok
	e.Description = strings.Repeat("é", MaxDescription)
	if err := e.Validate(now); err != nil {
		t.Errorf("1000 two-byte characters refused: %v", err)
	}
}

func TestDecisionValidate(t *testing.T) {
	if err := (Decision{Reviewer: "U2", Outcome: Reject}).Validate(); err == nil || !strings.Contains(err.Error(), "reason") {
		t.Errorf("reject without reason: %v", err)
	}
	if err := (Decision{Reviewer: "U2", Outcome: Approve}).Validate(); err != nil {
		t.Errorf("approve without reason refused: %v", err)
	}
}

func TestDecided(t *testing.T) {
	tests := map[Status]string{
		StatusApproved:  "Expense #7 was already approved.",
		StatusExpired:   "Expense #7 expired: nobody decided it in time, so it can no longer be approved or rejected. Its submitter can edit and resubmit it.",
		StatusWithdrawn: "Expense #7 was withdrawn by its submitter; there is nothing left to decide.",
		StatusNeedsInfo: "Expense #7 is waiting for its submitter to answer a question; it comes back to the reviewers with the answer.",
	}
	for status, want := range tests {
		err := Decided(Expense{ID: 7, Status: status, DecidedBy: "U9"})
		if ErrorCode(err) != ECONFLICT || ErrorMessage(err) != want {
			t.Errorf("%s: got %s %q, want %q", status, ErrorCode(err), ErrorMessage(err), want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly ten", 11, "exactly ten"},
		{"héllo wörld", 6, "héllo…"},
		{"日本語のテキスト", 4, "日本語…"},
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := Truncate(tt.in, tt.n); got != tt.want || !utf8.ValidString(got) {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

// TestPayable: only an approved expense is paid, and a second payout names the first.
func TestPayable(t *testing.T) {
	paidAt := time.Date(2026, 12, 3, 9, 30, 0, 0, time.UTC)
	for _, st := range Statuses {
		e := Expense{ID: 7, Status: st}
		if st == StatusPaid {
			e.PaidAt, e.PaidBy, e.PaidReference = paidAt, "fiona", "TRX-1"
		}
		err := Payable(e)
		want := st == StatusApproved || st == StatusAutoApproved
		if (err == nil) != want {
			t.Errorf("%s: Payable = %v", st, err)
		}
		if err != nil && ErrorCode(err) != ECONFLICT {
			t.Errorf("%s: code %s", st, ErrorCode(err))
		}
		if st == StatusPaid && !strings.Contains(err.Error(), "already paid on 3 Dec 2026 09:30 UTC by fiona (reference TRX-1)") {
			t.Errorf("second payout: %v", err)
		}
	}
	for _, p := range []Payout{{By: " ", Actor: " "}, {By: "fiona", Actor: "fiona", Reference: strings.Repeat("x", MaxPayReference+1)}} {
		if ErrorCode(p.Validate()) != EINVALID {
			t.Errorf("%+v accepted", p)
		}
	}
}
