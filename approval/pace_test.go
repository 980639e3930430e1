package approval

import (
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
