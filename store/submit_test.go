package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// groupOf40 is a group commit of 40 submissions, the one at bad with description desc.
func groupOf40(prefix string, bad int, desc string) []expensebot.Submission {
	subs := make([]expensebot.Submission, 40)
	for i := range subs {
		subs[i].Expense = newExpense(fmt.Sprintf("%s-%d", prefix, i), "U1", int64(100+i))
	}
	subs[bad].Expense.Description = desc
	return subs
}

// checkOnlyBadRefused fails unless every submission but the one at bad was stored, and that one
// was refused with EINVALID and nothing stored for it.
func checkOnlyBadRefused(t *testing.T, db *store.DB, subs []expensebot.Submission, bad int) {
	t.Helper()
	for i, s := range subs {
		if i == bad {
			if expensebot.ErrorCode(s.Err) != expensebot.EINVALID || s.Created || s.Saved.ID != 0 {
				t.Errorf("bad submission: err %v (%s), created %v, saved #%d; want EINVALID and nothing saved", s.Err, expensebot.ErrorCode(s.Err), s.Created, s.Saved.ID)
			}
			// Sent again with its text fixed, it is new: nothing was stored under its key.
			fixed := s.Expense
			fixed.Description = "Taxi to the airport"
			if _, created, err := db.Submit(ctx, fixed); err != nil || !created {
				t.Errorf("the fixed submission: created %v, err %v; want it created now", created, err)
			}
			continue
		}
		if s.Err != nil || !s.Created || s.Saved.ID == 0 {
			t.Errorf("submission %d: err %v, created %v; want it stored", i, s.Err, s.Created)
		}
	}
}

// TestOneBadSubmissionCostsOnlyItself guards the group commit against one bad row: text neither
// database may hold (a NUL byte, invalid UTF-8) is refused for its own submission with a message
// its submitter can act on, and the 39 others of its group are stored.
func TestOneBadSubmissionCostsOnlyItself(t *testing.T) {
	for _, tt := range []struct{ name, desc string }{
		{"NUL", "Taxi\x00to the airport"},
		{"invalid UTF-8", "Taxi \xff\xfe to the airport"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			each(t, func(t *testing.T, db *store.DB) {
				subs := groupOf40("bad", 17, tt.desc)
				if err := db.SubmitAll(ctx, subs, time.Minute); err != nil {
					t.Fatalf("the group failed: %v", err)
				}
				checkOnlyBadRefused(t, db, subs, 17)
				if msg := expensebot.ErrorMessage(subs[17].Err); msg == "" || msg == "Internal error." {
					t.Errorf("message %q, want one that says what to fix", msg)
				}
			})
		})
	}
}

// TestRowTheDatabaseRefusesCostsOnlyItself: should text PostgreSQL refuses get past the store's
// own check, the database's refusal still costs only that submission, not its group.
func TestRowTheDatabaseRefusesCostsOnlyItself(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	store.SkipTextCheckForTest(db)
	for _, bad := range []int{0, 17, 39} {
		subs := groupOf40(fmt.Sprintf("pg%d", bad), bad, "Taxi\x00to the airport")
		if err := db.SubmitAll(ctx, subs, 0); err != nil {
			t.Fatalf("the group failed: %v", err)
		}
		checkOnlyBadRefused(t, db, subs, bad)
	}
}
