package approval

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/pace"
)

// TestQueueServesPeopleFirst: a worker takes every queued interactive expense before any bulk
// one, and each priority in the order queued.
func TestQueueServesPeopleFirst(t *testing.T) {
	q := NewQueue()
	for _, x := range []queued{{id: 1, prio: pace.Bulk}, {id: 2, prio: pace.Bulk}, {id: 3, prio: pace.Interactive}, {id: 4, prio: pace.Bulk}, {id: 5, prio: pace.Interactive}} {
		if !q.push(x) {
			t.Fatalf("push %d refused", x.id)
		}
	}
	if hi, lo := q.Lengths(); hi != 2 || lo != 3 {
		t.Errorf("lengths = %d interactive, %d bulk; want 2, 3", hi, lo)
	}
	var got []int64
	for range 5 {
		x, ok := q.pop(context.Background())
		if !ok {
			t.Fatal("pop ended")
		}
		got = append(got, x.id)
	}
	want := []int64{3, 5, 1, 2, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("served %v, want %v", got, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, ok := q.pop(ctx); ok {
		t.Error("pop on an empty queue returned after its context ended")
	}
}

func TestBusyReasonInWords(t *testing.T) {
	for _, tt := range []struct {
		waited time.Duration
		want   string
	}{
		{0, "within 1 second of"},
		{45 * time.Second, "within 45 seconds of"},
		{10*time.Minute + 2*time.Second, "within 10 minutes of"},
		{3 * time.Hour, "within 3 hours of"},
	} {
		if got := busyReason(tt.waited); !strings.Contains(got, tt.want) {
			t.Errorf("busyReason(%v) = %q, want it to say %q", tt.waited, got, tt.want)
		}
	}
}
