package expensebot

import (
	"strings"
	"testing"
	"time"
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
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			if got := from.CanTransition(to); got != allowed[[2]Status{from, to}] {
				t.Errorf("%s → %s allowed = %v", from, to, got)
			}
		}
	}
	for _, s := range []Status{StatusApproved, StatusRejected, StatusAutoApproved} {
		if !s.Final() {
			t.Errorf("%s is not final", s)
		}
	}
}

func TestExpenseValidate(t *testing.T) {
	ok := Expense{SubmitterID: "U1", Amount: Money{100, "USD"}, Description: "lunch", Category: "meals"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid expense refused: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Expense)
		msg    string
	}{
		{"no submitter", func(e *Expense) { e.SubmitterID = "" }, "submitter"},
		{"zero", func(e *Expense) { e.Amount.Minor = 0 }, "more than zero"},
		{"bad currency", func(e *Expense) { e.Amount.Currency = "XXX" }, "currency"},
		{"no description", func(e *Expense) { e.Description = "  " }, "what the expense was for"},
		{"long description", func(e *Expense) { e.Description = strings.Repeat("a", 1001) }, "too long"},
		{"bad category", func(e *Expense) { e.Category = "yachts" }, "not a category"},
		{"future", func(e *Expense) { e.IncurredOn = time.Now().AddDate(0, 0, 5) }, "future"},
	}
	for _, tt := range tests {
		e := ok
		tt.change(&e)
		err := e.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %q", tt.name, err, tt.msg)
		}
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

func TestAlreadyDecidedMessage(t *testing.T) {
	err := &AlreadyDecidedError{ExpenseID: 7, Status: StatusApproved, By: "U9", At: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)}
	if got, want := ErrorMessage(err), "Expense #7 was already approved by <@U9> at 2026-01-02 03:04 UTC."; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
