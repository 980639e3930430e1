package store_test

import (
	"fmt"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// TestUnreadableStoredRouteFailsClosed guards against a damaged stored value being read as
// "nothing stored": an empty route means the configured reviewers, so a route_reviewers that
// cannot be decoded would hand the expense to whoever is configured now. Instead every read of
// the expense fails with EINTERNAL, no decision is recorded, and once repaired the expense is
// still waiting for a person. Add a column here when the store starts decoding another one.
func TestUnreadableStoredRouteFailsClosed(t *testing.T) {
	for _, tt := range []struct{ column, value string }{
		{"route_reviewers", `["UREV"`},
		{"escalated_to", `{`},
		{"findings", `[{"flag":`},
		{"review_reasons", `nope`},
		{"assessment", `{"decision":`},
	} {
		t.Run(tt.column, func(t *testing.T) {
			each(t, func(t *testing.T, db *store.DB) {
				p := pending(t, db, "corrupt", 1)
				good, err := db.Expense(ctx, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				set := func(v string) {
					t.Helper()
					if _, err := store.ExecForTest(db, fmt.Sprintf("UPDATE expenses SET %s = '%s' WHERE id = %d", tt.column, v, p.ID)); err != nil {
						t.Fatal(err)
					}
				}
				set(tt.value)
				if e, err := db.Expense(ctx, p.ID); expensebot.ErrorCode(err) != expensebot.EINTERNAL || e.ID != 0 {
					t.Errorf("read: %+v, %v; want EINTERNAL and no expense", e, err)
				}
				if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: p.ID, Reviewer: "UREV", Outcome: expensebot.Approve}); expensebot.ErrorCode(err) != expensebot.EINTERNAL {
					t.Errorf("decide: %v, want EINTERNAL", err)
				}
				if list, err := db.Pending(ctx, 10); expensebot.ErrorCode(err) != expensebot.EINTERNAL {
					t.Errorf("list: %d expenses, %v; want EINTERNAL", len(list), err)
				}
				// Repaired, it is as it was: nothing was decided meanwhile.
				switch tt.column {
				case "assessment":
					set(`{"decision":"review","confidence":0.7,"model":"m"}`)
				case "route_reviewers", "escalated_to", "findings", "review_reasons":
					set(map[string]string{"route_reviewers": "[]", "escalated_to": "[]", "findings": "[]", "review_reasons": `["over the auto-approve limit"]`}[tt.column])
				}
				after, err := db.Expense(ctx, p.ID)
				if err != nil || after.Status != expensebot.StatusPendingReview || after.DecidedBy != "" || !after.UpdatedAt.Equal(good.UpdatedAt) {
					t.Errorf("after repair: %s by %q, %v", after.Status, after.DecidedBy, err)
				}
			})
		})
	}
}
