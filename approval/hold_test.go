package approval

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fakeHolder keeps holds as the database does: each runs out at its time unless renewed, and
// one taken by another instance is lost.
type fakeHolder struct {
	mu       sync.Mutex
	until    map[int64]time.Time
	taken    map[int64]bool
	lapsed   []int64 // holds found run out when renewed: another instance could have taken them
	released map[int64]int
}

func newFakeHolder() *fakeHolder {
	return &fakeHolder{until: map[int64]time.Time{}, taken: map[int64]bool{}, released: map[int64]int{}}
}

func (f *fakeHolder) RenewAssessments(_ context.Context, ids []int64, lease time.Duration) ([]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lost []int64
	for _, id := range ids {
		if f.taken[id] {
			lost = append(lost, id)
			continue
		}
		if u, ok := f.until[id]; ok && time.Now().After(u) {
			f.lapsed = append(f.lapsed, id)
		}
		f.until[id] = time.Now().Add(lease)
	}
	return lost, nil
}

func (f *fakeHolder) ReleaseAssessment(_ context.Context, id int64, attempt int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.released[id] = attempt
	delete(f.until, id)
	return nil
}

// TestHoldsRenewedWhileWorkRuns: a hold of 10 s is kept for a minute of work (a model limiter's
// wait, a slow answer) without ever running out, a hold taken over stops its work within a third
// of a lease, and what is left at the end is given back with its attempt number.
func TestHoldsRenewedWhileWorkRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lease = 10 * time.Second
		f := newFakeHolder()
		h := newHolds(f, lease, slog.New(slog.NewTextHandler(io.Discard, nil)))
		h.add(1, 3)
		h.add(2, 1)
		f.mu.Lock()
		f.until[1], f.until[2] = time.Now().Add(lease), time.Now().Add(lease)
		f.mu.Unlock()
		work1, ok := h.work(t.Context(), 1, 3)
		if !ok {
			t.Fatal("hold 1 under attempt 3 not found")
		}
		if _, ok := h.work(t.Context(), 1, 2); ok {
			t.Error("a stale attempt was given work")
		}
		work2, _ := h.work(t.Context(), 2, 1)

		stop, done := make(chan struct{}), make(chan struct{})
		go func() { defer close(done); h.run(t.Context(), stop) }()

		time.Sleep(time.Minute)
		synctest.Wait()
		if work1.Err() != nil || work2.Err() != nil {
			t.Fatal("work stopped while its hold was renewed")
		}
		f.mu.Lock()
		if len(f.lapsed) > 0 {
			t.Errorf("holds ran out between renewals: %v", f.lapsed)
		}
		f.taken[2] = true // another instance took expense 2 over
		f.mu.Unlock()

		time.Sleep(lease / 3)
		synctest.Wait()
		if work2.Err() == nil {
			t.Error("work on a hold taken over was not stopped within a third of a lease")
		}
		if work1.Err() != nil {
			t.Error("the other hold's work stopped too")
		}

		close(stop)
		<-done
		h.release(context.Background())
		if got := f.released; len(got) != 1 || got[1] != 3 {
			t.Errorf("released %v, want expense 1 under attempt 3 only (2 was lost)", got)
		}
		if work1.Err() == nil {
			t.Error("work on a released hold goes on")
		}
		if ids := h.ids(); !slices.Equal(ids, []int64{}) {
			t.Errorf("holds left after release: %v", ids)
		}
	})
}
