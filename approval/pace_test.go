package approval

import (
	"slices"
	"testing"
	"time"
)

func TestBucket(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	b := newBucket(60, 2) // one a second, two at once
	steps := []struct {
		after time.Duration // since t0
		want  time.Duration
	}{
		{0, 0},           // the burst
		{0, 0},           //
		{0, time.Second}, // empty: the next is a second away, and nothing is spent
		{500 * time.Millisecond, 500 * time.Millisecond}, // half refilled
		{time.Second, 0},                // one refilled
		{time.Second, time.Second},      //
		{10 * time.Second, 0},           // a long pause refills up to the burst, no more
		{10 * time.Second, 0},           //
		{10 * time.Second, time.Second}, //
	}
	for i, s := range steps {
		if got := b.take(t0.Add(s.after)); got != s.want {
			t.Errorf("step %d at +%s: wait %s, want %s", i, s.after, got, s.want)
		}
	}
}

// TestHeldBackHomesGoFirst: App Home refreshes the tier held back are published before any
// marked since, in their order, so that a steady stream of changes at month end never leaves the
// same reviewers' App Homes stale.
func TestHeldBackHomesGoFirst(t *testing.T) {
	h := newHomes(time.Now)
	for _, u := range []string{"UC", "UA", "UB"} {
		h.opened(u)
		h.mark(u)
	}
	if got := h.take(); !slices.Equal(got, []string{"UC", "UA", "UB"}) {
		t.Fatalf("take = %v, want first marked first", got)
	}
	h.putBack([]string{"UA", "UB"}) // UC was published; the tier held back the rest
	h.markReviewers()               // a new card: every viewer is out of date again
	if got := h.take(); !slices.Equal(got, []string{"UA", "UB", "UC"}) {
		t.Errorf("take = %v, want the held back first, in order, then the rest", got)
	}
}
