package store

import (
	"context"
	"time"

	"github.com/expensebot/expensebot"
)

// Changed returns a page of expenses changed at or after since, in the order they last changed:
// those after the position (afterChange, afterID) of the previous page's last expense (zero for
// the first page), at most limit. A non-empty submittedBy narrows them to the expenses that
// client submitted (Expense.SubmittedBy).
func (s *DB) Changed(ctx context.Context, submittedBy string, since, afterChange time.Time, afterID int64, limit int) ([]expensebot.Expense, error) {
	if afterChange.Before(since) {
		afterChange, afterID = since, 0
	}
	where := "WHERE (updated_at > ? OR (updated_at = ? AND id > ?))"
	args := []any{afterChange.UTC(), afterChange.UTC(), afterID}
	if submittedBy != "" {
		where = "WHERE submitted_by = ? AND (updated_at > ? OR (updated_at = ? AND id > ?))"
		args = append([]any{submittedBy}, args...)
	}
	return s.list(ctx, "changed expenses", where+" ORDER BY updated_at, id LIMIT ?", append(args, limit)...)
}
