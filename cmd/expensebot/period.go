package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseSince reads a --since flag: a date (YYYY-MM-DD, from its start, UTC) or an age before now
// such as 90d, 12w, 1d12h or 36h.
func parseSince(cmd, s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	if n, ok := strings.CutSuffix(s, "w"); ok {
		if k, err := strconv.Atoi(n); err == nil && k >= 0 {
			return now.Add(-time.Duration(k) * 7 * 24 * time.Hour), nil
		}
	}
	if d, err := parseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, usageError{fmt.Sprintf("%s: --since %q is not a date like 2026-01-31 or an age like 90d, 12w, 1d12h or 36h", cmd, s)}
}

// parseUntil reads an --until flag: a date (YYYY-MM-DD) that is included, so the period ends at
// the start of the day after it.
func parseUntil(cmd, s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usageError{fmt.Sprintf("%s: --until %q is not a date like 2026-01-31", cmd, s)}
	}
	return t.AddDate(0, 0, 1), nil
}
