package delivery

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expensebot/expensebot"
)

// slowReceivers answers callbacks as their receivers would: the host slow.example takes 9 s to
// answer each, every other host answers at once. It records when each callback got through.
type slowReceivers struct {
	start time.Time
	mu    sync.Mutex
	at    map[int64]time.Duration
}

func (r *slowReceivers) Send(ctx context.Context, n expensebot.Notice, _ *expensebot.Expense) (*expensebot.AuditEvent, error) {
	if n.Dest == "slow.example" {
		select {
		case <-time.After(9 * time.Second):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at[n.ID] = time.Since(r.start)
	return nil, nil
}

func (r *slowReceivers) Channel(context.Context, expensebot.Notice) string { return "" }

func callback(id int64, host string) expensebot.Notice {
	return expensebot.Notice{ID: id, ExpenseID: id, Kind: expensebot.NoticeCallback, Dest: host}
}

// TestSlowReceiverDelaysNoOtherClient: one client's receiver answers in 9 s; three of its
// callbacks and two of other clients' are due at once. The other clients' callbacks arrive at
// once (they used to wait behind the slow ones in one lane: ~27 s); the slow receiver's arrive
// one after the other, in order, at its own pace.
func TestSlowReceiverDelaysNoOtherClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ob := newOutbox(callback(1, "slow.example"), callback(2, "slow.example"), callback(3, "slow.example"),
			callback(4, "fast.example"), callback(5, "other.example:8443"))
		r := &slowReceivers{start: time.Now(), at: map[int64]time.Duration{}}
		ctx, cancel := context.WithCancel(context.Background())
		dl := New(ob, r, Config{}, quiet)
		done := make(chan struct{})
		go func() { defer close(done); dl.Run(ctx, context.Background()) }()
		time.Sleep(30 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		for _, id := range []int64{4, 5} {
			if at, ok := r.at[id]; !ok || at != 0 {
				t.Errorf("callback %d to another client arrived at +%s (%v), want at once", id, at, ok)
			}
		}
		for i, id := range []int64{1, 2, 3} {
			if want := time.Duration(i+1) * 9 * time.Second; r.at[id] != want {
				t.Errorf("slow receiver's callback %d at +%s, want +%s (one at a time, in order)", id, r.at[id], want)
			}
		}
	})
}
