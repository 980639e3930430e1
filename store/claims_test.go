package store_test

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// openPostgresTwice returns a store on a fresh PostgreSQL schema and a plain connection pool on
// the same schema, standing for a second instance in the middle of its claim.
func openPostgresTwice(t *testing.T) (*store.DB, *sql.DB) {
	t.Helper()
	u := storetest.URL(t, store.Postgres)
	db, err := store.Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other, err := sql.Open("postgres", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	return db, other
}

// TestClaimsSkipRowsAnotherInstanceIsClaiming: while another instance holds some notices and an
// expense in its claiming transaction, this one neither waits for them nor gets a short batch:
// it takes the next notices, and is told the expense is being assessed.
func TestClaimsSkipRowsAnotherInstanceIsClaiming(t *testing.T) {
	db, other := openPostgresTwice(t)
	var ids []int64
	for _, k := range []string{"c1", "c2", "c3"} {
		ids = append(ids, pending(t, db, k, 1).ID) // two notices each: the card and the DM
	}
	fresh, _, err := db.Submit(ctx, newExpense("c-new", "U1", 100))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, "SELECT id FROM outbox ORDER BY id LIMIT 3 FOR UPDATE")
	if err != nil {
		t.Fatal(err)
	}
	var locked []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		locked = append(locked, id)
	}
	rows.Close()
	if _, err := tx.ExecContext(ctx, "SELECT id FROM expenses WHERE id = $1 FOR UPDATE", fresh.ID); err != nil {
		t.Fatal(err)
	}

	// Waiting for the other instance's locks would run into this deadline.
	wait, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	got, err := db.ClaimNotices(wait, 3, time.Minute)
	if err != nil {
		t.Fatalf("claim while another instance claims: %v", err)
	}
	if len(got) != 3 {
		t.Errorf("claimed %d notices, want a full batch of 3", len(got))
	}
	for _, n := range got {
		if slices.Contains(locked, n.ID) {
			t.Errorf("claimed notice %d, which the other instance holds", n.ID)
		}
	}
	if _, err := db.StartAssessment(wait, fresh.ID, time.Minute); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
		t.Errorf("start an assessment another instance is claiming: %v, want ECONFLICT at once", err)
	}
	if wait.Err() != nil {
		t.Errorf("the claims waited for the other instance's locks")
	}
}

// TestRetryKeepsAnErrorCutInACharacter guards the notice's kept error against a cut inside a
// multi-byte character, which PostgreSQL refuses: the notice could then never be rescheduled.
func TestRetryKeepsAnErrorCutInACharacter(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		pending(t, db, "cut", 1)
		ns, err := db.ClaimNotices(ctx, 1, time.Minute)
		if err != nil || len(ns) != 1 {
			t.Fatalf("claim: %v, %d notices", err, len(ns))
		}
		// The 500th byte is the first of "é"'s two.
		reason := strings.Repeat("a", 499) + strings.Repeat("é", 100)
		if err := db.NoticeRetry(ctx, ns[0].ID, -time.Second, reason); err != nil {
			t.Fatalf("retry: %v", err)
		}
		again, err := db.ClaimNotices(ctx, 10, time.Minute)
		if err != nil || !slices.ContainsFunc(again, func(n expensebot.Notice) bool { return n.ID == ns[0].ID }) {
			t.Errorf("the notice was not rescheduled: %v, %+v", err, again)
		}
		if err := db.NoticeFailed(ctx, ns[0].ID, "\xff"+reason); err != nil {
			t.Errorf("give up with an invalid error text: %v", err)
		}
	})
}

// TestPruneForgetsOldSeenEvents: seen events are kept for the retention and then forgotten, so
// the table does not grow forever; an event inside the window is still recognised as seen.
func TestPruneForgetsOldSeenEvents(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
		db.SetClock(func() time.Time { return now })
		for _, k := range []string{"Ev-old1", "Ev-old2"} {
			if first, err := db.FirstSeen(ctx, k); err != nil || !first {
				t.Fatalf("first sight of %s: %v, %v", k, first, err)
			}
		}
		now = now.Add(store.SeenEventsRetention)
		db.FirstSeen(ctx, "Ev-new")
		now = now.Add(time.Minute)
		n, err := db.Prune(ctx, store.SeenEventsRetention)
		if err != nil || n != 2 {
			t.Fatalf("pruned %d, %v; want the 2 events older than the retention", n, err)
		}
		if first, _ := db.FirstSeen(ctx, "Ev-new"); first {
			t.Errorf("an event inside the retention was forgotten")
		}
		if first, _ := db.FirstSeen(ctx, "Ev-old1"); !first {
			t.Errorf("a pruned event is still remembered")
		}
		if _, err := db.Prune(ctx, time.Minute); err == nil {
			t.Errorf("pruning inside Slack's redelivery window was accepted")
		}
	})
}
