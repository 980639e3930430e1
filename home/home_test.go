package home

import (
	"slices"
	"testing"
	"time"
)

// TestHeldBackHomesGoFirst: App Home refreshes the pace held back are published before any
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
	h.putBack([]string{"UA", "UB"}) // UC was published; the pace held back the rest
	h.markReviewers()               // a new card: every viewer is out of date again
	if got := h.take(); !slices.Equal(got, []string{"UA", "UB", "UC"}) {
		t.Errorf("take = %v, want the held back first, in order, then the rest", got)
	}
}
