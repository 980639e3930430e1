package lookup

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestRememberedLookupsAreBounded: after more people and files than maxRemembered have been
// looked up, what the lookups remember stays within the bound; names past their TTL go first.
func TestRememberedLookupsAreBounded(t *testing.T) {
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	l := New(nil, nil, func() time.Time { return now }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	l.mu.Lock()
	l.seen["UOLD"] = now.Add(-2 * personTTL)
	for i := range maxRemembered {
		l.people[fmt.Sprintf("U%06d", i)] = true
		l.files[receipt{expense: int64(i), file: fmt.Sprintf("F%06d", i)}] = true
	}
	l.mu.Unlock()
	l.take()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.seen) > maxRemembered || len(l.fetched) > maxRemembered {
		t.Fatalf("remembered %d people and %d files; want at most %d each", len(l.seen), len(l.fetched), maxRemembered)
	}
	if _, ok := l.seen["UOLD"]; ok {
		t.Error("a name past its TTL was kept while the bound was exceeded")
	}
	if len(l.seen) != maxRemembered {
		t.Errorf("remembered %d people; want the %d fresh ones kept", len(l.seen), maxRemembered)
	}
}
