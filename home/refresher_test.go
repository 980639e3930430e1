package home

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/notify"
)

// pending is a store with a queue of pending expenses and nothing else.
type pending struct{ queue []expensebot.Expense }

func (pending) FirstSeen(context.Context, string) (bool, error) { return true, nil }
func (pending) History(context.Context, string, expensebot.Status, int, int) ([]expensebot.Expense, int, error) {
	return nil, 0, nil
}
func (pending) Questions(context.Context, string) ([]expensebot.Expense, error) { return nil, nil }
func (pending) Totals(context.Context, string) ([]expensebot.Total, error)      { return nil, nil }
func (pending) MonthlyTotals(context.Context, string, time.Time) ([]expensebot.Total, error) {
	return nil, nil
}
func (pending) Delegations(context.Context) ([]expensebot.Delegation, error) { return nil, nil }
func (p pending) Pending(context.Context, int) ([]expensebot.Expense, error) { return p.queue, nil }
func (pending) ExpensesSince(context.Context, time.Time) ([]expensebot.Expense, error) {
	return nil, nil
}
func (pending) SpotChecks(context.Context, time.Time) ([]expensebot.SpotCheck, error) {
	return nil, nil
}

// rights lets URev decide everything but their own expenses.
type rights struct{}

func (rights) Reviewer(_ context.Context, user string) bool { return user == "UREV" }
func (rights) MayDecide(_ context.Context, user string, _ expensebot.Expense, _ []expensebot.Delegation) (string, bool) {
	return "", user == "UREV"
}

// publisher records each publish; it refuses the first one for user refuse with a Retry-After.
type publisher struct {
	refuse string

	mu    sync.Mutex
	views []string
	got   map[string]View
}

func (p *publisher) PublishHome(_ context.Context, user string, v View) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if user == p.refuse {
		p.refuse = ""
		return &notify.RetryAfterError{Wait: 2 * time.Second, Err: errors.New("ratelimited")}
	}
	p.views = append(p.views, user)
	if p.got == nil {
		p.got = map[string]View{}
	}
	p.got[user] = v
	return nil
}

func (p *publisher) published() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.views)
}

// TestRefreshesCoalesce: many changes in a burst cost one publish per viewer; someone who never
// opened their App Home gets none; refreshes the platform refused wait out its pause, in order.
// A reviewer's queue holds what they may decide, not their own.
func TestRefreshesCoalesce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := pending{queue: []expensebot.Expense{{ID: 1, SubmitterID: "UEMP"}, {ID: 2, SubmitterID: "UREV"}}}
		pub := &publisher{}
		r := New(st, rights{}, pub, Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); r.Run(ctx, context.Background()) }()

		r.Opened(ctx, "", "UEMP")
		r.Opened(ctx, "", "UREV")
		if got := pub.published(); !slices.Equal(got, []string{"UEMP", "UREV"}) {
			t.Fatalf("opening published %v", got)
		}
		pub.mu.Lock()
		pub.refuse = "UEMP"
		pub.mu.Unlock()
		for range 5 {
			r.Mark("UEMP")
			r.Mark("UOTHER") // never opened theirs
			r.MarkReviewers()
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := pub.published()[2:]; len(got) != 0 {
			t.Errorf("during the pause published %v, want none: the platform asked to wait", got)
		}
		time.Sleep(3 * time.Second)
		synctest.Wait()
		if got := pub.published()[2:]; !slices.Equal(got, []string{"UEMP", "UREV"}) {
			t.Errorf("after the pause published %v, want each viewer once, the refused first (UOTHER never opened theirs)", got)
		}
		pub.mu.Lock()
		q := pub.got["UREV"]
		pub.mu.Unlock()
		if !q.Reviewer || q.QueueTotal != 1 || len(q.Queue) != 1 || q.Queue[0].ID != 1 {
			t.Errorf("reviewer's queue %+v, want expense 1 only (not their own)", q.Queue)
		}
		cancel()
		<-done
	})
}
