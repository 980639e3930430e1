package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expensebot/expensebot/metrics"
)

// TestScrapeCostsNoQuery: the backlog is read by Refresh, on the owner's ticker; scrapes, however
// many, only read what the last refresh found.
func TestScrapeCostsNoQuery(t *testing.T) {
	var reads atomic.Int64
	m := metrics.New(func(ctx context.Context) ([]metrics.Backlog, error) {
		reads.Add(1)
		return []metrics.Backlog{{Channel: "C1", Count: 3, Oldest: 90 * time.Second}}, nil
	})
	scrape := func() string {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	for range 50 {
		scrape()
	}
	if n := reads.Load(); n != 0 {
		t.Fatalf("50 scrapes read the backlog %d times, want 0", n)
	}
	m.Refresh(context.Background())
	body := scrape()
	for _, want := range []string{`expensebot_outbox_backlog{channel="C1"} 3`, `expensebot_outbox_oldest_seconds{channel="C1"} 90`, "expensebot_outbox_backlog_up 1"} {
		if !strings.Contains(body, want) {
			t.Errorf("after a refresh, /metrics lacks %q", want)
		}
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("backlog read %d times, want 1 (the refresh)", n)
	}
}
