package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
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

// SubmitAll stores the submissions in one transaction, each with its audit events. A submission
// with the IdempotencyKey of a stored expense creates nothing and reports that expense with
// Created false. With a positive hold, each new expense is stored with its assessment begun, held
// for hold by the caller (see [DB.StartAssessment]): accepting and starting its assessment are one
// state change. A submission that breaks a rule, or holds text a database cannot keep (a NUL byte,
// invalid UTF-8: EINVALID), has its own Err and the others are stored; so does one whose row the
// database refuses all the same (see submitGroup). Returns an error only when the database fails
// as a whole: then none is stored.
//
// Receipts in a submission's Expense.Receipts (checked, hashed, maybe read: a draft's) are kept
// with the new expense, as [DB.AddReceipts] keeps them, when its ReceiptFileIDs name them.
//
// An expense with ResubmitOf set resubmits that one, in the same transaction: both point at each
// other, the old one's audit trail says so and its card is redrawn, and an old one still waiting
// for an answer (needs_info) is withdrawn in favour of the new. Only the old expense's submitter
// may resubmit it (EFORBIDDEN), only once, and only when rejected, expired or needs_info
// (ECONFLICT); ENOTFOUND when there is no such expense. Such a submission is not stored.
func (s *DB) SubmitAll(ctx context.Context, subs []expensebot.Submission, hold time.Duration) error {
	return s.submitGroup(ctx, subs, hold, s.now())
}

// submitGroup is SubmitAll at now. When the database refuses a row's data (a bad character that
// got past checkExpenseText, a broken constraint), the transaction is lost for the whole group:
// the group is then split in two and each half committed on its own, down to the one submission
// the database refuses, which gets EINVALID. One bad row costs a few more transactions (about
// twice the base-2 logarithm of the group's size) and only its own submission.
func (s *DB) submitGroup(ctx context.Context, subs []expensebot.Submission, hold time.Duration, now time.Time) error {
	err := s.submitTx(ctx, subs, hold, now)
	switch {
	case err == nil:
		return nil
	case !refusedData(err) || ctx.Err() != nil:
		return fmt.Errorf("store: submit %d expenses: %w", len(subs), err)
	case len(subs) == 1:
		subs[0].Saved, subs[0].Created = expensebot.Expense{}, false
		subs[0].Err = expensebot.Errorf(expensebot.EINVALID, "This expense could not be saved as written (the database refused its text); please check the description and try again.")
		return nil
	}
	half := len(subs) / 2
	if err := s.submitGroup(ctx, subs[:half], hold, now); err != nil {
		return err
	}
	return s.submitGroup(ctx, subs[half:], hold, now)
}

// submitTx stores subs in one transaction (see SubmitAll).
func (s *DB) submitTx(ctx context.Context, subs []expensebot.Submission, hold time.Duration, now time.Time) error {
	// Held, an expense keeps the status submitted (what its submitter is told) while its
	// assessment has begun: the hold is what keeps other instances off it.
	status, heldUntil := expensebot.StatusSubmitted, sql.NullTime{}
	if hold > 0 {
		heldUntil = sql.NullTime{Time: now.Add(hold), Valid: true}
	}
	var events []expensebot.AuditEvent
	return s.tx(ctx, func(tx *sqlx.Tx) error {
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
			if err := s.checkExpenseText(e); err != nil {
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
			saved, err := getExpense(ctx, tx, s.q(insertExpensesValues(1)),
				newExpenseValues(e, status, heldUntil, now, resubmits, s.owner)...)
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
			actor, detail := submittedDetail(e)
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
		events = append(events, evs...)
		// Receipts that arrive checked and read with the submission (a draft's) are kept with it,
		// in the same transaction: its assessment finds them and reads nothing again.
		for i := range subs {
			sub := &subs[i]
			if !sub.Created || len(sub.Expense.Receipts) == 0 {
				continue
			}
			for _, r := range sub.Expense.Receipts {
				if !slices.Contains(sub.Saved.ReceiptFileIDs, r.FileID) {
					continue
				}
				evs, _, err := s.insertReceipt(ctx, tx, sub.Saved.ID, r, sub.Saved.SubmitterID, now)
				if err != nil {
					return err
				}
				events = append(events, evs...)
			}
			if sub.Saved.Receipts, err = s.receiptsOf(ctx, tx, sub.Saved.ID); err != nil {
				return err
			}
		}
		return s.appendEvents(ctx, tx, events...)
	})
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
	rows := make([][]any, len(insert))
	for j, i := range insert {
		rows[j] = newExpenseValues(subs[i].Expense, status, heldUntil, now, sql.NullInt64{}, s.owner)
	}
	var saved0 []expenseRow
	if s.dialect == Postgres {
		// One statement of fixed text for any group, prepared once (see appendEvents).
		if err := s.selectPrepared(ctx, tx, &saved0, insertExpensesPostgres, unnestArgs(rows)...); err != nil {
			return nil, err
		}
	} else if err := tx.SelectContext(ctx, &saved0, s.q(insertExpensesValues(len(rows))), slices.Concat(rows...)...); err != nil {
		return nil, err
	}
	saved := make(map[string]expensebot.Expense, len(insert))
	created := make(map[string]bool, len(saved0))
	for _, r := range saved0 {
		e, err := r.expense()
		if err != nil {
			return nil, err
		}
		saved[r.IdempotencyKey], created[r.IdempotencyKey] = e, true
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
			e, err := r.expense()
			if err != nil {
				return nil, err
			}
			saved[r.IdempotencyKey] = e
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
		actor, detail := submittedDetail(e)
		events = append(events, submittedEvents(sub.Saved.ID, actor, detail, hold)...)
	}
	return events, nil
}

// submittedDetail returns the actor and the detail of a new expense's submitted event. The actor
// is the system that submitted for the person, when one did.
func submittedDetail(e expensebot.Expense) (actor string, detail map[string]any) {
	actor, detail = e.SubmitterID, map[string]any{
		"amount_minor": e.Amount.Minor, "currency": e.Amount.Currency, "category": e.Category,
		"description": e.Description, "incurred_on": e.IncurredOn.Format(time.DateOnly),
		"receipts": len(e.ReceiptFileIDs), "idempotency_key": e.IdempotencyKey,
	}
	if e.SubmittedBy != "" {
		actor, detail["submitter_id"], detail["callback"] = e.SubmittedBy, e.SubmitterID, e.CallbackURL != ""
	}
	return actor, detail
}

// newExpenseColumns is the one definition of the row a submission writes: its columns in order,
// each with its PostgreSQL type; shared marks the values every row of a group commit has in
// common (the group's status, hold and time; a group resubmits nothing), which the PostgreSQL
// group INSERT passes once rather than as an array. newExpenseValues gives the values in this
// order, and both INSERT texts are built from it.
var newExpenseColumns = []struct {
	name, pgType string
	shared       bool
}{
	{"team_id", "text", false}, {"submitter_id", "text", false}, {"amount_minor", "bigint", false},
	{"currency", "text", false}, {"category", "text", false}, {"description", "text", false},
	{"incurred_on", "date", false}, {"receipt_file_ids", "text", false}, {"status", "text", true},
	{"assessing_until", "timestamptz", true}, {"idempotency_key", "text", false},
	{"created_at", "timestamptz", true}, {"updated_at", "timestamptz", true},
	{"submitted_by", "text", false}, {"callback_url", "text", false}, {"request_hash", "text", false},
	{"resubmit_of", "bigint", true}, {"assess_owner", "text", true}, {"assess_attempt", "bigint", true},
}

// newExpenseValues is the row of newExpenseColumns for e.
func newExpenseValues(e expensebot.Expense, status expensebot.Status, heldUntil sql.NullTime, now time.Time, resubmitOf sql.NullInt64, owner string) []any {
	attempt := 0 // a held expense is held by owner, its first hold
	if heldUntil.Valid {
		attempt = 1
	} else {
		owner = ""
	}
	return []any{e.TeamID, e.SubmitterID, e.Amount.Minor, e.Amount.Currency, e.Category, e.Description,
		e.IncurredOn, jsonText(e.ReceiptFileIDs), string(status), heldUntil, e.IdempotencyKey, now, now,
		e.SubmittedBy, e.CallbackURL, e.RequestHash, resubmitOf, owner, attempt}
}

// insertExpensesValues is the INSERT of n new expenses as a VALUES list: a single submission on
// both engines, and a group on SQLite. An idempotency key already stored inserts nothing.
func insertExpensesValues(n int) string {
	names := make([]string, len(newExpenseColumns))
	for i, c := range newExpenseColumns {
		names[i] = c.name
	}
	return "INSERT INTO expenses (" + strings.Join(names, ", ") + ") VALUES " + values(n, len(names)) +
		" ON CONFLICT (idempotency_key) DO NOTHING RETURNING " + expenseColumns
}

// insertExpensesPostgres is the INSERT of a group of new expenses from arrays, one element each:
// one text for any group, so PostgreSQL parses and plans it once. Its parameters are the shared
// values, then one array per other column (see unnestArgs).
var insertExpensesPostgres = func() string {
	var names, selects, arrays, aliases []string
	for i, c := range newExpenseColumns {
		names = append(names, c.name)
		if c.shared {
			selects = append(selects, "?::"+c.pgType)
			continue
		}
		alias := fmt.Sprintf("c%d", i)
		selects, aliases = append(selects, alias), append(aliases, alias)
		arrays = append(arrays, "?::"+c.pgType+"[]")
	}
	return "INSERT INTO expenses (" + strings.Join(names, ", ") + ")\n\tSELECT " + strings.Join(selects, ", ") +
		"\n\tFROM unnest(" + strings.Join(arrays, ", ") + ") AS n(" + strings.Join(aliases, ", ") + ")" +
		"\n\tON CONFLICT (idempotency_key) DO NOTHING RETURNING " + expenseColumns
}()

// unnestArgs turns rows of newExpenseValues into the parameters of insertExpensesPostgres: the
// shared values of the first row, then each other column as a typed array.
func unnestArgs(rows [][]any) []any {
	var shared, arrays []any
	for j, c := range newExpenseColumns {
		if c.shared {
			shared = append(shared, rows[0][j])
			continue
		}
		switch c.pgType {
		case "bigint":
			col := make([]int64, len(rows))
			for i, r := range rows {
				col[i] = r[j].(int64)
			}
			arrays = append(arrays, pq.Array(col))
		case "date":
			col := make([]string, len(rows))
			for i, r := range rows {
				col[i] = r[j].(time.Time).Format(time.DateOnly)
			}
			arrays = append(arrays, pq.Array(col))
		default:
			col := make([]string, len(rows))
			for i, r := range rows {
				col[i] = r[j].(string)
			}
			arrays = append(arrays, pq.Array(col))
		}
	}
	return append(shared, arrays...)
}
