-- Prune (seen events older than a day) finds them by time. (SQLite's 0011 also rebuilds the
-- expenses table for its status CHECK, which PostgreSQL changed in place in 0007.)
CREATE INDEX seen_events_by_time ON seen_events (seen_at);
