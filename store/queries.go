package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
)

func (s *DB) list(ctx context.Context, what, query string, args ...any) ([]expensebot.Expense, error) {
	var rows []expenseRow
	if err := s.selectPrepared(ctx, s.db, &rows, "SELECT "+expenseColumns+" FROM expenses "+query, args...); err != nil {
		return nil, fmt.Errorf("store: list %s: %w", what, err)
	}
	out := make([]expensebot.Expense, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.expense(); err != nil {
			return nil, fmt.Errorf("store: list %s: %w", what, err)
		}
	}
	return out, nil
}

// BySubmitter returns a page of one person's expenses, newest first: at most limit of them with an
// id below beforeID (0 for the first page).
func (s *DB) BySubmitter(ctx context.Context, user string, beforeID int64, limit int) ([]expensebot.Expense, error) {
	if beforeID <= 0 {
		beforeID = 1<<63 - 1
	}
	return s.list(ctx, "expenses of "+user, "WHERE submitter_id = ? AND id < ? ORDER BY id DESC LIMIT ?", user, beforeID, limit)
}

// History returns a page of one person's expenses, newest first: at most limit of them after
// skipping offset, in one status (all when status is ""), with how many there are in all.
func (s *DB) History(ctx context.Context, user string, status expensebot.Status, offset, limit int) ([]expensebot.Expense, int, error) {
	var total int
	if err := s.db.GetContext(ctx, &total, s.q("SELECT count(*) FROM expenses WHERE submitter_id = ? AND (? = '' OR status = ?)"), user, status, status); err != nil {
		return nil, 0, fmt.Errorf("store: count expenses of %s: %w", user, err)
	}
	list, err := s.list(ctx, "expenses of "+user, "WHERE submitter_id = ? AND (? = '' OR status = ?) ORDER BY id DESC LIMIT ? OFFSET ?",
		user, status, status, limit, max(offset, 0))
	return list, total, err
}

// Questions returns one person's expenses waiting for their answer to a reviewer's question,
// oldest question first.
func (s *DB) Questions(ctx context.Context, user string) ([]expensebot.Expense, error) {
	return s.list(ctx, "questions to "+user, "WHERE submitter_id = ? AND status = ? ORDER BY paused_at, id", user, expensebot.StatusNeedsInfo)
}

// MonthlyTotals returns one person's counts and sums per month (of the date incurred), status and
// currency, for the months from since on, newest month first.
func (s *DB) MonthlyTotals(ctx context.Context, user string, since time.Time) ([]expensebot.Total, error) {
	var rows []struct {
		IncurredOn time.Time `db:"incurred_on"`
		Status     string    `db:"status"`
		Currency   string    `db:"currency"`
		Minor      int64     `db:"amount_minor"`
	}
	// Grouped here rather than in SQL: the two engines name a date's month differently, and one
	// person's expenses of a few months are few.
	if err := s.db.SelectContext(ctx, &rows, s.q(`SELECT incurred_on, status, currency, amount_minor FROM expenses
		WHERE submitter_id = ? AND incurred_on >= ?`), user, since.UTC()); err != nil {
		return nil, fmt.Errorf("store: monthly totals of %s: %w", user, err)
	}
	type key struct {
		month    time.Time
		status   string
		currency string
	}
	sums := map[key]*expensebot.Total{}
	var out []*expensebot.Total
	for _, r := range rows {
		d := r.IncurredOn.UTC()
		k := key{time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC), r.Status, r.Currency}
		t := sums[k]
		if t == nil {
			t = &expensebot.Total{Month: k.month, Status: expensebot.Status(r.Status), Sum: expensebot.Money{Currency: r.Currency}}
			sums[k] = t
			out = append(out, t)
		}
		t.Count++
		t.Sum.Minor += r.Minor
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.Month.Equal(b.Month) {
			return a.Month.After(b.Month)
		}
		if a.Status != b.Status {
			return a.Status < b.Status
		}
		return a.Sum.Currency < b.Sum.Currency
	})
	totals := make([]expensebot.Total, len(out))
	for i, t := range out {
		totals[i] = *t
	}
	return totals, nil
}

// Pending returns expenses awaiting a reviewer, oldest first.
func (s *DB) Pending(ctx context.Context, limit int) ([]expensebot.Expense, error) {
	return s.list(ctx, "pending expenses", "WHERE status = ? ORDER BY created_at, id LIMIT ?", expensebot.StatusPendingReview, limit)
}

// Unfinished returns expenses accepted but not yet routed, oldest first: submitted ones, and
// those whose assessment's holder let its lease run out. It is the work to resume after a crash or
// restart; an assessment another instance is doing is not in it.
func (s *DB) Unfinished(ctx context.Context) ([]expensebot.Expense, error) {
	return s.list(ctx, "unfinished expenses", "WHERE status IN (?, ?) AND (assessing_until IS NULL OR assessing_until < ?) ORDER BY id",
		expensebot.StatusSubmitted, expensebot.StatusAssessing, s.now())
}

// Totals returns counts and sums per status and currency; a non-empty submitter narrows them to
// that person's expenses.
func (s *DB) Totals(ctx context.Context, submitter string) ([]expensebot.Total, error) {
	var rows []struct {
		Status   string `db:"status"`
		Currency string `db:"currency"`
		Count    int    `db:"n"`
		Sum      int64  `db:"total"`
	}
	q := `SELECT status, currency, count(*) AS n, CAST(sum(amount_minor) AS BIGINT) AS total FROM expenses
		WHERE (? = '' OR submitter_id = ?) GROUP BY status, currency ORDER BY status, currency`
	if err := s.db.SelectContext(ctx, &rows, s.q(q), submitter, submitter); err != nil {
		return nil, fmt.Errorf("store: totals: %w", err)
	}
	out := make([]expensebot.Total, len(rows))
	for i, r := range rows {
		out[i] = expensebot.Total{Status: expensebot.Status(r.Status), Count: r.Count, Sum: expensebot.Money{Minor: r.Sum, Currency: r.Currency}}
	}
	return out, nil
}

type eventRow struct {
	ID        int64     `db:"id"`
	ExpenseID int64     `db:"expense_id"`
	Kind      string    `db:"kind"`
	Actor     string    `db:"actor"`
	At        time.Time `db:"at"`
	Detail    string    `db:"detail"`
}

func (r eventRow) event() expensebot.AuditEvent {
	return expensebot.AuditEvent{ID: r.ID, ExpenseID: r.ExpenseID, Kind: r.Kind, Actor: r.Actor, At: r.At.UTC(), Detail: json.RawMessage(r.Detail)}
}

// Events returns the audit trail of one expense, in order.
func (s *DB) Events(ctx context.Context, expenseID int64) ([]expensebot.AuditEvent, error) {
	var rows []eventRow
	if err := s.db.SelectContext(ctx, &rows, s.q("SELECT id, expense_id, kind, actor, at, "+s.detailTextOf("audit_events")+" AS detail FROM audit_events WHERE expense_id = ? ORDER BY id"), expenseID); err != nil {
		return nil, fmt.Errorf("store: events of expense %d: %w", expenseID, err)
	}
	out := make([]expensebot.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.event()
	}
	return out, nil
}

// ExportRow is one audit event joined with the expense it belongs to, as finance reads it.
type ExportRow struct {
	Event    expensebot.AuditEvent
	Expense  expensebot.Expense // as it is now
	StatusAt expensebot.Status  // the expense's status right after Event
}

// Export calls fn for every audit event at or after since (all when zero), in order, joined with its
// expense as it is now and the status the expense had at that event. The status is replayed from
// the expense's whole trail ([expensebot.StatusAfter]), so the events of those expenses before
// since are read too, but not passed to fn. It streams: memory grows with the number of expenses,
// not of events.
func (s *DB) Export(ctx context.Context, since time.Time, fn func(ExportRow) error) error {
	cols := qualify(expenseColumns, "e.")
	rows, err := s.db.QueryxContext(ctx, s.q(`SELECT a.id AS ev_id, a.kind AS ev_kind, a.actor AS ev_actor, a.at AS ev_at,
		`+s.detailTextOf("a")+` AS ev_detail, `+cols+`
		FROM audit_events a JOIN expenses e ON e.id = a.expense_id
		WHERE a.expense_id IN (SELECT expense_id FROM audit_events WHERE at >= ?) ORDER BY a.id`), since.UTC())
	if err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	defer rows.Close()
	status := map[int64]expensebot.Status{}
	for rows.Next() {
		var r struct {
			EvID     int64     `db:"ev_id"`
			EvKind   string    `db:"ev_kind"`
			EvActor  string    `db:"ev_actor"`
			EvAt     time.Time `db:"ev_at"`
			EvDetail string    `db:"ev_detail"`
			expenseRow
		}
		if err := rows.StructScan(&r); err != nil {
			return fmt.Errorf("store: export: %w", err)
		}
		ev := eventRow{ID: r.EvID, ExpenseID: r.ID, Kind: r.EvKind, Actor: r.EvActor, At: r.EvAt, Detail: r.EvDetail}.event()
		at := expensebot.StatusAfter(status[ev.ExpenseID], ev)
		status[ev.ExpenseID] = at
		if ev.At.Before(since) {
			continue
		}
		e, err := r.expenseRow.expense()
		if err != nil {
			return fmt.Errorf("store: export: %w", err)
		}
		if err := fn(ExportRow{Event: ev, Expense: e, StatusAt: at}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	return nil
}

func (s *DB) detailTextOf(alias string) string {
	if s.dialect == Postgres {
		return alias + ".detail::text"
	}
	return alias + ".detail"
}

// qualify prefixes every column of a comma-separated list with a table alias.
func qualify(columns, alias string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
