package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// Pay records the payout p of each expense of ids, each in its own transaction: an approved or
// auto_approved expense becomes paid, once, with its "paid" audit event and the notices that
// tell its submitter and redraw its card. An expense that cannot be paid (already paid, not
// approved, unknown) is refused with the reason and changes nothing; the others are paid all the
// same. The result has one entry per id, in order. An invalid payout refuses them all (EINVALID).
func (s *DB) Pay(ctx context.Context, ids []int64, p expensebot.Payout) ([]expensebot.Paid, error) {
	p.By, p.Reference = strings.TrimSpace(p.By), strings.TrimSpace(p.Reference)
	if err := p.Validate(); err != nil {
		return nil, err
	}
	out := make([]expensebot.Paid, len(ids))
	for i, id := range ids {
		e, err := s.pay(ctx, id, p)
		out[i] = expensebot.Paid{ID: id, Expense: e, Err: err}
	}
	return out, nil
}

func (s *DB) pay(ctx context.Context, id int64, p expensebot.Payout) (expensebot.Expense, error) {
	e, err := s.change(ctx, "pay", id, func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error) {
		if err := expensebot.Payable(e); err != nil {
			return e, err
		}
		// A spot check a reviewer flagged holds the money back until it is cleared (and for good
		// once upheld): the payout is refused, as the accounting export leaves it out.
		var held []string
		if err := tx.SelectContext(ctx, &held, s.q(`SELECT status FROM spot_checks WHERE expense_id = ? AND status IN (?, ?)`),
			id, expensebot.SpotCheckFlagged, expensebot.SpotCheckUpheld); err != nil {
			return e, err
		}
		if len(held) > 0 {
			return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d is held back: its spot check was flagged (%s) and not cleared; a reviewer or finance must clear it before it is paid.", id, held[0])
		}
		// Conditional on the status just read: of two payouts of one expense exactly one changes it.
		res, err := tx.ExecContext(ctx, s.q(`UPDATE expenses SET status = ?, paid_at = ?, paid_by = ?, paid_reference = ?, updated_at = ?
			WHERE id = ? AND status = ?`), expensebot.StatusPaid, now, p.By, p.Reference, now, id, e.Status)
		if err != nil {
			return e, err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return e, errLostPayout
		}
		detail := map[string]any{"by": p.By, "reference": p.Reference}
		if e.ExportBatch != 0 {
			detail["batch"] = e.ExportBatch
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventPaid, p.Actor, detail)); err != nil {
			return e, err
		}
		if err := s.addNotices(ctx, tx,
			expensebot.Notice{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventPaid, Actor: p.Actor},
			expensebot.Notice{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: expensebot.EventPaid, Actor: p.Actor, Text: p.Reference},
		); err != nil {
			return e, err
		}
		e.Status, e.PaidAt, e.PaidBy, e.PaidReference, e.UpdatedAt = expensebot.StatusPaid, now, p.By, p.Reference, now
		return e, nil
	})
	if err == errLostPayout {
		// Another payout changed it between the read and the update: say who paid it.
		if now, rerr := s.Expense(ctx, id); rerr == nil {
			if perr := expensebot.Payable(now); perr != nil {
				return now, perr
			}
		}
		return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d changed at the same moment; please look again.", id)
	}
	return e, err
}

// errLostPayout is a payout whose conditional update changed nothing: another one came first.
var errLostPayout = expensebot.Errorf(expensebot.ECONFLICT, "lost the race to pay")

// BatchExpenses returns the expenses a marked accounting export wrote as batch, in id order, or
// ENOTFOUND when there is no such batch.
func (s *DB) BatchExpenses(ctx context.Context, batch int64) ([]expensebot.Expense, error) {
	var n int
	if err := s.db.GetContext(ctx, &n, s.q("SELECT count(*) FROM export_batches WHERE id = ?"), batch); err != nil {
		return nil, fmt.Errorf("store: read batch %d: %w", batch, err)
	}
	if n == 0 {
		return nil, expensebot.Errorf(expensebot.ENOTFOUND, "There is no export batch %d.", batch)
	}
	return s.list(ctx, "batch expenses", "WHERE export_batch = ? ORDER BY id", batch)
}
