package store

import (
	"context"
	"fmt"
	"time"
)

// SeenEventsRetention is how long a Slack event id is remembered by [DB.FirstSeen]. Slack
// redelivers an unacknowledged event for a few minutes (three retries over about five minutes),
// so a day is far past any redelivery while keeping the table a day's events long.
const SeenEventsRetention = 24 * time.Hour

// Prune forgets what the store keeps only for a while: the Slack event ids seen more than
// olderThan ago (use [SeenEventsRetention]). It returns how many rows it removed. It is safe to
// call from several instances at once and at any time; an event id forgotten and then delivered
// again would be handled twice, so olderThan under ten minutes (inside Slack's redelivery window) is
// refused with an error.
//
// The other tables that grow are not caches: expenses, their audit trail and outbox are records;
// people and rate_documents hold one row per person and per rates URL, replaced in place.
func (s *DB) Prune(ctx context.Context, olderThan time.Duration) (int64, error) {
	if olderThan < 10*time.Minute {
		return 0, fmt.Errorf("store: prune: keeping seen events for %v is shorter than Slack's redelivery window", olderThan)
	}
	res, err := s.db.ExecContext(ctx, s.q("DELETE FROM seen_events WHERE seen_at < ?"), s.now().Add(-olderThan))
	if err != nil {
		return 0, fmt.Errorf("store: prune seen events: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
