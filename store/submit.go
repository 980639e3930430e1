package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// This file holds how submissions are written: alone or in a group commit, with resubmissions
// checked in the same transaction.

// Submit stores one expense; see [DB.SubmitAll]. Its status is submitted, and the workflow's
// sweep assesses it.
func (s *DB) Submit(ctx context.Context, e expensebot.Expense) (saved expensebot.Expense, created bool, err error) {
	subs := []expensebot.Submission{{Expense: e}}
	if err := s.SubmitAll(ctx, subs, 0); err != nil {
		return expensebot.Expense{}, false, err
	}
	return subs[0].Saved, subs[0].Created, subs[0].Err
}

// SubmitAll stores the submissions in one transaction, each with its audit events: all commit or
// none. A submission with the IdempotencyKey of a stored expense creates nothing and reports that
// expense with Created false. With a positive hold, each new expense is stored with its assessment
// begun, held for hold by the caller (see [DB.StartAssessment]): accepting and starting its
// assessment are one state change. Returns an error only when the transaction fails; a submission that breaks a
// rule has its own Err and the others are stored.
//
// An expense with ResubmitOf set resubmits that one, in the same transaction: both point at each
// other, the old one's audit trail says so and its card is redrawn, and an old one still waiting
// for an answer (needs_info) is withdrawn in favour of the new. Only the old expense's submitter
// may resubmit it (EFORBIDDEN), only once, and only when rejected, expired or needs_info
// (ECONFLICT); ENOTFOUND when there is no such expense. Such a submission is not stored.
func (s *DB) SubmitAll(ctx context.Context, subs []expensebot.Submission, hold time.Duration) error {
	now := s.now()
	// Held, an expense keeps the status submitted (what its submitter is told) while its
	// assessment has begun: the hold is what keeps other instances off it.
	status, heldUntil := expensebot.StatusSubmitted, sql.NullTime{}
	if hold > 0 {
		heldUntil = sql.NullTime{Time: now.Add(hold), Valid: true}
	}
	var events []expensebot.AuditEvent
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		events = events[:0]
		var plain []int // submissions that resubmit nothing: one INSERT for all of them
		for i := range subs {
			sub := &subs[i]
			sub.Saved, sub.Created, sub.Err = expensebot.Expense{}, false, nil
			e := sub.Expense
			if err := e.Validate(now); err != nil {
				sub.Err = err
				continue
			}
			if e.IdempotencyKey == "" {
				sub.Err = fmt.Errorf("store: submit: an idempotency key is required")
				continue
			}
			if e.IncurredOn.IsZero() {
				e.IncurredOn = now
			}
			e.IncurredOn = time.Date(e.IncurredOn.Year(), e.IncurredOn.Month(), e.IncurredOn.Day(), 0, 0, 0, 0, time.UTC)
			if e.Category == "" {
				e.Category = "other"
			}
			sub.Expense = e
			if e.ResubmitOf == 0 {
				plain = append(plain, i) // written together below
				continue
			}
			var old expensebot.Expense
			var resubmits sql.NullInt64
			if e.ResubmitOf > 0 {
				resubmits = sql.NullInt64{Int64: e.ResubmitOf, Valid: true}
				var done bool
				var err error
				if old, done, err = s.checkResubmit(ctx, tx, sub); err != nil {
					return err
				} else if done {
					continue
				}
			}
			saved, err := getExpense(ctx, tx, s.q(`INSERT INTO expenses (team_id, submitter_id, amount_minor, currency, category,
				description, incurred_on, receipt_file_ids, status, assessing_until, idempotency_key, created_at, updated_at,
				submitted_by, callback_url, request_hash, resubmit_of)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT (idempotency_key) DO NOTHING RETURNING `+expenseColumns),
				e.TeamID, e.SubmitterID, e.Amount.Minor, e.Amount.Currency, e.Category, e.Description,
				e.IncurredOn, jsonText(e.ReceiptFileIDs), status, heldUntil, e.IdempotencyKey, now, now,
				e.SubmittedBy, e.CallbackURL, e.RequestHash, resubmits)
			if isNoRows(err) {
				sub.Saved, err = getExpense(ctx, tx, s.q("SELECT "+expenseColumns+" FROM expenses WHERE idempotency_key = ?"), e.IdempotencyKey)
				if err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			sub.Saved, sub.Created = saved, true
			// The actor is the system that submitted for the person, when one did.
			actor, detail := e.SubmitterID, map[string]any{
				"amount_minor": e.Amount.Minor, "currency": e.Amount.Currency, "category": e.Category,
				"description": e.Description, "incurred_on": e.IncurredOn.Format(time.DateOnly),
				"receipts": len(e.ReceiptFileIDs), "idempotency_key": e.IdempotencyKey,
			}
			if e.SubmittedBy != "" {
				actor, detail["submitter_id"], detail["callback"] = e.SubmittedBy, e.SubmitterID, e.CallbackURL != ""
			}
			if e.ResubmitOf > 0 {
				detail["resubmit_of"] = e.ResubmitOf
				evs, err := s.supersede(ctx, tx, old, saved)
				if err != nil {
					return err
				}
				events = append(events, evs...)
			}
			events = append(events, submittedEvents(saved.ID, actor, detail, hold)...)
		}
		evs, err := s.insertPlain(ctx, tx, subs, plain, status, heldUntil, now, hold)
		if err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, append(events, evs...)...)
	})
	if err != nil {
		return fmt.Errorf("store: submit %d expenses: %w", len(subs), err)
	}
	return nil
}

// checkResubmit locks the expense sub resubmits, until the transaction ends, so that two
// resubmissions of one expense are one after the other, and checks that it may be resubmitted.
// When it may not, sub.Err says why; when it was resubmitted by this very submission already (a
// retry), sub.Saved is that; either way done is true and nothing is to be stored.
func (s *DB) checkResubmit(ctx context.Context, tx *sqlx.Tx, sub *expensebot.Submission) (old expensebot.Expense, done bool, err error) {
	e := sub.Expense
	old, err = s.lockExpense(ctx, tx, e.ResubmitOf)
	switch {
	case isNoRows(err):
		sub.Err = notFound(e.ResubmitOf)
		return old, true, nil
	case err != nil:
		return old, false, err
	case old.ResubmittedAs != 0:
		sub.Saved, err = getExpense(ctx, tx, s.q("SELECT "+expenseColumns+" FROM expenses WHERE idempotency_key = ?"), e.IdempotencyKey)
		if isNoRows(err) {
			sub.Saved, sub.Err = expensebot.Expense{}, old.CheckResubmit(e.SubmitterID)
			return old, true, nil
		}
		return old, true, err
	}
	if sub.Err = old.CheckResubmit(e.SubmitterID); sub.Err != nil {
		return old, true, nil
	}
	return old, false, nil
}

// supersede links expense old, locked and checked by checkResubmit, to its resubmission, in the
// transaction that stores the new one, and returns the old one's audit events.
func (s *DB) supersede(ctx context.Context, tx *sqlx.Tx, old, resubmission expensebot.Expense) ([]expensebot.AuditEvent, error) {
	now := s.now()
	status, decidedBy, decidedAt := old.Status, old.DecidedBy, nullTime(old.DecidedAt)
	events := []expensebot.AuditEvent{expensebot.NewEvent(old.ID, expensebot.EventResubmitted, resubmission.SubmitterID, map[string]any{"resubmitted_as": resubmission.ID})}
	notices := []expensebot.Notice{{Kind: expensebot.NoticeUpdateReview, ExpenseID: old.ID, Event: expensebot.EventResubmitted, Actor: resubmission.SubmitterID}}
	if old.Status.Withdrawable() {
		// The resubmission answers the question: the old expense leaves the reviewers' hands.
		status, decidedBy, decidedAt = expensebot.StatusWithdrawn, resubmission.SubmitterID, nullTime(now)
		events = append(events, expensebot.NewEvent(old.ID, expensebot.EventWithdrawn, resubmission.SubmitterID, map[string]any{"resubmitted_as": resubmission.ID}))
		notices = append(notices, expensebot.CallbackNotices(old, expensebot.EventWithdrawn, resubmission.SubmitterID)...)
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE expenses SET resubmitted_as = ?, status = ?, decided_by = ?, decided_at = ?, paused_at = NULL,
		remind_at = NULL, escalate_at = NULL, expires_at = NULL, updated_at = ? WHERE id = ? AND status = ? AND resubmitted_as IS NULL`),
		resubmission.ID, status, decidedBy, decidedAt, now, old.ID, old.Status)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// The old expense is locked and was checked in this transaction: this cannot happen.
		return nil, fmt.Errorf("expense %d changed while it was being resubmitted", old.ID)
	}
	return events, s.addNotices(ctx, tx, notices...)
}

// submittedEvents are the audit events of a new expense: submitted and, when it is held for its
// assessment, assessing.
func submittedEvents(id int64, actor string, detail map[string]any, hold time.Duration) []expensebot.AuditEvent {
	evs := []expensebot.AuditEvent{expensebot.NewEvent(id, expensebot.EventSubmitted, actor, detail)}
	if hold > 0 {
		evs = append(evs, expensebot.NewEvent(id, expensebot.EventAssessing, expensebot.ActorSystem, nil))
	}
	return evs
}

// insertExpensesPostgres inserts a group of submissions from arrays, one element each.
const insertExpensesPostgres = `INSERT INTO expenses (team_id, submitter_id, amount_minor, currency, category,
	description, incurred_on, receipt_file_ids, status, assessing_until, idempotency_key, created_at, updated_at,
	submitted_by, callback_url, request_hash)
	SELECT t, s, a, c, cat, d, i, r, ?, ?::timestamptz, k, ?::timestamptz, ?::timestamptz, b, cb, h
	FROM unnest(?::text[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::date[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])
		AS n(t, s, a, c, cat, d, i, r, k, b, cb, h)
	ON CONFLICT (idempotency_key) DO NOTHING RETURNING ` + expenseColumns

// insertPlain writes the submissions at idx (checked, resubmitting nothing) with one multi-row
// INSERT, reads the earlier expenses of keys already stored with one SELECT, fills in each
// submission's outcome and returns the new expenses' audit events: a group commit costs three
// round trips however many it holds.
func (s *DB) insertPlain(ctx context.Context, tx *sqlx.Tx, subs []expensebot.Submission, idx []int, status expensebot.Status, heldUntil sql.NullTime, now time.Time, hold time.Duration) ([]expensebot.AuditEvent, error) {
	if len(idx) == 0 {
		return nil, nil
	}
	first := map[string]int{} // key → the submission that inserts it
	var insert []int
	for _, i := range idx {
		if _, seen := first[subs[i].Expense.IdempotencyKey]; !seen {
			first[subs[i].Expense.IdempotencyKey] = i
			insert = append(insert, i)
		}
	}
	var rows []expenseRow
	if s.dialect == Postgres {
		// One statement of fixed text for any group, prepared once (see appendEvents).
		n := len(insert)
		teams, submitters, currencies, categories, descriptions := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		incurred, receipts, keys, by, callbacks, hashes := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		amounts := make([]int64, n)
		for j, i := range insert {
			e := subs[i].Expense
			teams[j], submitters[j], amounts[j], currencies[j], categories[j], descriptions[j] = e.TeamID, e.SubmitterID, e.Amount.Minor, e.Amount.Currency, e.Category, e.Description
			incurred[j], receipts[j], keys[j] = e.IncurredOn.Format(time.DateOnly), jsonText(e.ReceiptFileIDs), e.IdempotencyKey
			by[j], callbacks[j], hashes[j] = e.SubmittedBy, e.CallbackURL, e.RequestHash
		}
		if err := s.selectPrepared(ctx, tx, &rows, insertExpensesPostgres, status, heldUntil, now, now,
			pq.Array(teams), pq.Array(submitters), pq.Array(amounts), pq.Array(currencies), pq.Array(categories), pq.Array(descriptions),
			pq.Array(incurred), pq.Array(receipts), pq.Array(keys), pq.Array(by), pq.Array(callbacks), pq.Array(hashes)); err != nil {
			return nil, err
		}
	} else {
		args := make([]any, 0, 16*len(insert))
		for _, i := range insert {
			e := subs[i].Expense
			args = append(args, e.TeamID, e.SubmitterID, e.Amount.Minor, e.Amount.Currency, e.Category, e.Description,
				e.IncurredOn, jsonText(e.ReceiptFileIDs), status, heldUntil, e.IdempotencyKey, now, now,
				e.SubmittedBy, e.CallbackURL, e.RequestHash)
		}
		q := `INSERT INTO expenses (team_id, submitter_id, amount_minor, currency, category,
			description, incurred_on, receipt_file_ids, status, assessing_until, idempotency_key, created_at, updated_at,
			submitted_by, callback_url, request_hash) VALUES ` + values(len(insert), 16) +
			" ON CONFLICT (idempotency_key) DO NOTHING RETURNING " + expenseColumns
		if err := tx.SelectContext(ctx, &rows, s.q(q), args...); err != nil {
			return nil, err
		}
	}
	saved := make(map[string]expensebot.Expense, len(insert))
	created := make(map[string]bool, len(rows))
	for _, r := range rows {
		saved[r.IdempotencyKey], created[r.IdempotencyKey] = r.expense(), true
	}
	var stored []string
	for _, i := range insert {
		if k := subs[i].Expense.IdempotencyKey; !created[k] {
			stored = append(stored, k)
		}
	}
	if len(stored) > 0 {
		sq, sargs, err := sqlx.In("SELECT "+expenseColumns+" FROM expenses WHERE idempotency_key IN (?)", stored)
		if err != nil {
			return nil, err
		}
		var old []expenseRow
		if err := tx.SelectContext(ctx, &old, s.q(sq), sargs...); err != nil {
			return nil, err
		}
		for _, r := range old {
			saved[r.IdempotencyKey] = r.expense()
		}
	}
	var events []expensebot.AuditEvent
	for _, i := range idx {
		sub := &subs[i]
		e := sub.Expense
		sub.Saved = saved[e.IdempotencyKey]
		sub.Created = created[e.IdempotencyKey] && first[e.IdempotencyKey] == i
		if !sub.Created {
			continue
		}
		// The actor is the system that submitted for the person, when one did.
		actor, detail := e.SubmitterID, map[string]any{
			"amount_minor": e.Amount.Minor, "currency": e.Amount.Currency, "category": e.Category,
			"description": e.Description, "incurred_on": e.IncurredOn.Format(time.DateOnly),
			"receipts": len(e.ReceiptFileIDs), "idempotency_key": e.IdempotencyKey,
		}
		if e.SubmittedBy != "" {
			actor, detail["submitter_id"], detail["callback"] = e.SubmittedBy, e.SubmitterID, e.CallbackURL != ""
		}
		events = append(events, submittedEvents(sub.Saved.ID, actor, detail, hold)...)
	}
	return events, nil
}
