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

// relatedLimit bounds what the finance controls read about one person: far more expenses than
// anyone submits in a month and a few days, and a guard against a pathological history.
const relatedLimit = 500

// Related returns submitter's expenses incurred between from and to (dates, both included), other
// than the one with id exclude, oldest first: the history the finance controls weigh.
func (s *DB) Related(ctx context.Context, submitter string, exclude int64, from, to time.Time) ([]expensebot.Expense, error) {
	return s.list(ctx, "expenses related to #"+fmt.Sprint(exclude),
		"WHERE submitter_id = ? AND id <> ? AND incurred_on >= ? AND incurred_on <= ? ORDER BY id LIMIT ?",
		submitter, exclude, dateOnly(from), dateOnly(to), relatedLimit)
}

// RelatedAll returns the expenses of any of submitters incurred between from and to (dates, both
// included), oldest first: the histories of a group of expenses routed together, read at once, for
// the caller to narrow to each. complete is false when a guard of relatedLimit per submitter cut
// the list short; the caller then reads each history with Related.
func (s *DB) RelatedAll(ctx context.Context, submitters []string, from, to time.Time) (list []expensebot.Expense, complete bool, err error) {
	if len(submitters) == 0 {
		return nil, true, nil
	}
	limit := relatedLimit * len(submitters)
	if s.dialect == Postgres {
		list, err = s.list(ctx, "expenses related to a group", "WHERE submitter_id = ANY(?::text[]) AND incurred_on >= ? AND incurred_on <= ? ORDER BY id LIMIT ?",
			pq.Array(submitters), dateOnly(from), dateOnly(to), limit)
	} else {
		q, args, qerr := sqlx.In("WHERE submitter_id IN (?) AND incurred_on >= ? AND incurred_on <= ? ORDER BY id LIMIT ?", submitters, dateOnly(from), dateOnly(to), limit)
		if qerr != nil {
			return nil, false, fmt.Errorf("store: expenses related to a group: %w", qerr)
		}
		var rows []expenseRow
		if err = s.db.SelectContext(ctx, &rows, s.q("SELECT "+expenseColumns+" FROM expenses "+q), args...); err == nil {
			list = make([]expensebot.Expense, len(rows))
			for i, r := range rows {
				if list[i], err = r.expense(); err != nil {
					break
				}
			}
		} else {
			err = fmt.Errorf("store: list expenses related to a group: %w", err)
		}
	}
	if err != nil {
		return nil, false, err
	}
	return list, len(list) < limit, nil
}

// Receipted returns anyone's expenses incurred between from and to (dates, both included) that
// carry a receipt a model read, each with those receipts, oldest first and at most relatedLimit:
// what the duplicate control compares a receipt's facts with.
func (s *DB) Receipted(ctx context.Context, from, to time.Time) ([]expensebot.Expense, error) {
	list, err := s.list(ctx, "expenses with receipts read",
		"WHERE incurred_on >= ? AND incurred_on <= ? AND id IN (SELECT expense_id FROM receipts WHERE reading IS NOT NULL) ORDER BY id LIMIT ?",
		dateOnly(from), dateOnly(to), relatedLimit)
	if err != nil || len(list) == 0 {
		return list, err
	}
	var rows []receiptRow
	err = s.db.SelectContext(ctx, &rows, s.q(`SELECT r.expense_id, r.file_id, r.name, r.filetype, r.mimetype, r.size, r.sha256,
		r.added_by, r.added_at, r.reading, r.duplicate_of, NULL AS dup_channel, NULL AS dup_ts
		FROM receipts r JOIN expenses e ON e.id = r.expense_id
		WHERE e.incurred_on >= ? AND e.incurred_on <= ? AND e.id <= ? AND r.reading IS NOT NULL ORDER BY r.expense_id, r.added_at, r.file_id`),
		dateOnly(from), dateOnly(to), list[len(list)-1].ID)
	if err != nil {
		return nil, fmt.Errorf("store: receipts read between %s and %s: %w", from.Format(time.DateOnly), to.Format(time.DateOnly), err)
	}
	at := make(map[int64]int, len(list))
	for i, e := range list {
		at[e.ID] = i
	}
	for _, r := range rows {
		if i, ok := at[r.ExpenseID]; ok {
			rc, err := r.receipt()
			if err != nil {
				return nil, err
			}
			list[i].Receipts = append(list[i].Receipts, rc)
		}
	}
	return list, nil
}

func dateOnly(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// ExpenseQuery selects expenses for the exports and the report. A zero field selects everything;
// times bound a half-open range [From, Before).
type ExpenseQuery struct {
	Statuses      []expensebot.Status
	DecidedFrom   time.Time
	DecidedBefore time.Time
	CreatedFrom   time.Time
	CreatedBefore time.Time
	SkipExported  bool // leave out expenses a marked accounting export already wrote
}

// Expenses returns the expenses q selects, in id order.
func (s *DB) Expenses(ctx context.Context, q ExpenseQuery) ([]expensebot.Expense, error) {
	var where []string
	var args []any
	if len(q.Statuses) > 0 {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(q.Statuses)), ", ")
		where = append(where, "status IN ("+marks+")")
		for _, st := range q.Statuses {
			args = append(args, st)
		}
	}
	bound := func(col, op string, t time.Time) {
		if !t.IsZero() {
			where = append(where, col+" "+op+" ?")
			args = append(args, t.UTC())
		}
	}
	bound("decided_at", ">=", q.DecidedFrom)
	bound("decided_at", "<", q.DecidedBefore)
	bound("created_at", ">=", q.CreatedFrom)
	bound("created_at", "<", q.CreatedBefore)
	if q.SkipExported {
		where = append(where, "export_batch IS NULL")
	}
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ") + " "
	}
	return s.list(ctx, "expenses", cond+"ORDER BY id", args...)
}

// MarkExported records that one run of the accounting export in format wrote the expenses ids: a
// batch, the batch on each expense, and an "exported" event in each one's audit trail, in one
// transaction. Returns the batch's id, or ECONFLICT, marking nothing, when another run marked any
// of them first.
func (s *DB) MarkExported(ctx context.Context, ids []int64, format string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	var batch int64
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		if err := tx.GetContext(ctx, &batch, s.q("INSERT INTO export_batches (format, expenses, created_at) VALUES (?, ?, ?) RETURNING id"),
			format, len(ids), now); err != nil {
			return err
		}
		// In chunks: both engines limit the parameters of one statement.
		for chunk := range chunks(ids, 1000) {
			q, args, err := sqlx.In("UPDATE expenses SET export_batch = ? WHERE export_batch IS NULL AND id IN (?)", batch, chunk)
			if err != nil {
				return err
			}
			res, err := tx.ExecContext(ctx, s.q(q), args...)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != int64(len(chunk)) {
				return expensebot.Errorf(expensebot.ECONFLICT, "%d of these expenses were marked exported by another run meanwhile; nothing was marked. Run the export again.", int64(len(chunk))-n)
			}
			evs := make([]expensebot.AuditEvent, len(chunk))
			for i, id := range chunk {
				evs[i] = expensebot.NewEvent(id, expensebot.EventExported, expensebot.ActorExport, map[string]any{"batch": batch, "format": format})
				evs[i].At = now
			}
			if err := s.appendEvents(ctx, tx, evs...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.ECONFLICT {
			return 0, err
		}
		return 0, fmt.Errorf("store: mark %d expenses exported: %w", len(ids), err)
	}
	return batch, nil
}

func chunks(ids []int64, n int) func(func([]int64) bool) {
	return func(yield func([]int64) bool) {
		for len(ids) > 0 {
			k := min(n, len(ids))
			if !yield(ids[:k]) {
				return
			}
			ids = ids[k:]
		}
	}
}

// SavePerson remembers how Slack describes a person, replacing what was known.
func (s *DB) SavePerson(ctx context.Context, p expensebot.Person) error {
	return s.SavePeople(ctx, []expensebot.Person{p})
}

// SavePeople remembers how Slack describes people, replacing what was known, a few hundred to a
// statement: the names looked up together are written together. ps must not name a person twice.
func (s *DB) SavePeople(ctx context.Context, ps []expensebot.Person) error {
	now := s.now()
	for part := range slices.Chunk(ps, 500) {
		args := make([]any, 0, 4*len(part))
		for _, p := range part {
			args = append(args, p.ID, p.Name, p.DisplayName, now)
		}
		q := "INSERT INTO people (user_id, name, display_name, updated_at) VALUES " + values(len(part), 4) +
			" ON CONFLICT (user_id) DO UPDATE SET name = excluded.name, display_name = excluded.display_name, updated_at = excluded.updated_at"
		if _, err := s.db.ExecContext(ctx, s.q(q), args...); err != nil {
			if len(ps) == 1 {
				return fmt.Errorf("store: save person %s: %w", ps[0].ID, err)
			}
			return fmt.Errorf("store: save %d people: %w", len(ps), err)
		}
	}
	return nil
}

// People returns every person the bot has described, by user id.
func (s *DB) People(ctx context.Context) (map[string]expensebot.Person, error) {
	var rows []struct {
		ID          string    `db:"user_id"`
		Name        string    `db:"name"`
		DisplayName string    `db:"display_name"`
		UpdatedAt   time.Time `db:"updated_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT user_id, name, display_name, updated_at FROM people"); err != nil {
		return nil, fmt.Errorf("store: people: %w", err)
	}
	out := make(map[string]expensebot.Person, len(rows))
	for _, r := range rows {
		out[r.ID] = expensebot.Person{ID: r.ID, Name: r.Name, DisplayName: r.DisplayName, UpdatedAt: r.UpdatedAt.UTC()}
	}
	return out, nil
}

// DescribeReceipt keeps how Slack describes a receipt file of expense id (its permalink, and the
// SHA-256 of its content if the caller hashed it), for the accounting export. The receipts table
// is the one place a receipt is kept: a receipt the workflow checked already has its hash, which
// a description never replaces, so there is no need to download the file again to hash it. A file
// the workflow has not checked (yet) gets a row marked unchecked, which the workflow does not read
// and AddReceipts turns into the checked receipt. A hash that is not 64 hex digits is ignored.
func (s *DB) DescribeReceipt(ctx context.Context, id int64, f expensebot.ReceiptFile) error {
	now, sum := s.now(), describedHash(f.SHA256)
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO receipts (expense_id, file_id, size, sha256, added_by, added_at, checked, permalink, described_at)
		VALUES (?, ?, 0, ?, '', ?, FALSE, ?, ?) ON CONFLICT (expense_id, file_id) DO UPDATE SET permalink = excluded.permalink,
		described_at = excluded.described_at,
		sha256 = CASE WHEN receipts.checked OR excluded.sha256 = '' THEN receipts.sha256 ELSE excluded.sha256 END`),
		id, f.FileID, sum, now, f.Permalink, now)
	if err != nil {
		return fmt.Errorf("store: describe receipt %s of expense %d: %w", f.FileID, id, err)
	}
	return nil
}

// describedHash is a hash from a description as the receipts table keeps it: "" unless it is a
// SHA-256 in hex.
func describedHash(sum string) string {
	if len(sum) != 64 {
		return ""
	}
	for _, c := range sum {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return ""
		}
	}
	return sum
}

// ReceiptFiles returns every receipt file the store keeps, checked or only described, by file
// id: its permalink, the SHA-256 of its content ("" when unknown) and when it was last described
// (or checked, when it was never described).
func (s *DB) ReceiptFiles(ctx context.Context) (map[string]expensebot.ReceiptFile, error) {
	var rows []struct {
		ID          string       `db:"file_id"`
		Permalink   string       `db:"permalink"`
		SHA256      string       `db:"sha256"`
		DescribedAt sql.NullTime `db:"described_at"`
		AddedAt     time.Time    `db:"added_at"`
	}
	if err := s.db.SelectContext(ctx, &rows, "SELECT file_id, permalink, sha256, described_at, added_at FROM receipts"); err != nil {
		return nil, fmt.Errorf("store: receipt files: %w", err)
	}
	// A file on several expenses (a duplicate receipt) has one content and one link: what any of
	// its rows knows.
	out := make(map[string]expensebot.ReceiptFile, len(rows))
	for _, r := range rows {
		f := out[r.ID]
		f.FileID = r.ID
		f.Permalink, f.SHA256 = max(f.Permalink, r.Permalink), max(f.SHA256, r.SHA256)
		at := r.AddedAt
		if r.DescribedAt.Valid {
			at = r.DescribedAt.Time
		}
		if at = at.UTC(); at.After(f.UpdatedAt) {
			f.UpdatedAt = at
		}
		out[r.ID] = f
	}
	return out, nil
}

type spotRow struct {
	ExpenseID int64        `db:"expense_id"`
	Rate      float64      `db:"rate"`
	Draw      float64      `db:"draw"`
	Status    string       `db:"status"`
	Channel   string       `db:"channel"`
	MessageTS string       `db:"message_ts"`
	CheckedBy string       `db:"checked_by"`
	CheckedAt sql.NullTime `db:"checked_at"`
	Finding   string       `db:"finding"`
	CreatedAt time.Time    `db:"created_at"`
	SettledBy string       `db:"settled_by"`
	SettledAt sql.NullTime `db:"settled_at"`
	Settle    string       `db:"settlement"`
}

const spotColumns = "expense_id, rate, draw, status, channel, message_ts, checked_by, checked_at, finding, created_at, settled_by, settled_at, settlement"

func (r spotRow) spotCheck() expensebot.SpotCheck {
	sc := expensebot.SpotCheck{ExpenseID: r.ExpenseID, Rate: r.Rate, Draw: r.Draw, Status: r.Status, Channel: r.Channel,
		MessageTS: r.MessageTS, CheckedBy: r.CheckedBy, Finding: r.Finding, CreatedAt: r.CreatedAt.UTC(),
		SettledBy: r.SettledBy, Settlement: r.Settle}
	if r.CheckedAt.Valid {
		sc.CheckedAt = r.CheckedAt.Time.UTC()
	}
	if r.SettledAt.Valid {
		sc.SettledAt = r.SettledAt.Time.UTC()
	}
	return sc
}

// drawSpotCheck records, within the transaction that approves expense id automatically, that
// the draw d selected it for a spot check.
func (s *DB) drawSpotCheck(ctx context.Context, tx *sqlx.Tx, id int64, d expensebot.SpotDraw, now time.Time) error {
	_, err := tx.ExecContext(ctx, s.q("INSERT INTO spot_checks (expense_id, rate, draw, status, created_at) VALUES (?, ?, ?, ?, ?)"),
		id, d.Rate, d.Draw, expensebot.SpotCheckDrawn, now)
	if err != nil {
		return fmt.Errorf("draw spot check: %w", err)
	}
	return nil
}

// SpotCheck returns the spot check of expense id, or ENOTFOUND when it was not drawn for one.
func (s *DB) SpotCheck(ctx context.Context, id int64) (expensebot.SpotCheck, error) {
	var r spotRow
	err := s.db.GetContext(ctx, &r, s.q("SELECT "+spotColumns+" FROM spot_checks WHERE expense_id = ?"), id)
	if isNoRows(err) {
		return expensebot.SpotCheck{}, expensebot.Errorf(expensebot.ENOTFOUND, "Expense #%d was not drawn for a spot check.", id)
	}
	if err != nil {
		return expensebot.SpotCheck{}, fmt.Errorf("store: spot check of expense %d: %w", id, err)
	}
	return r.spotCheck(), nil
}

// SpotChecks returns the spot checks drawn at or after since, oldest first.
func (s *DB) SpotChecks(ctx context.Context, since time.Time) ([]expensebot.SpotCheck, error) {
	var rows []spotRow
	if err := s.db.SelectContext(ctx, &rows, s.q("SELECT "+spotColumns+" FROM spot_checks WHERE created_at >= ? ORDER BY expense_id"), since.UTC()); err != nil {
		return nil, fmt.Errorf("store: spot checks: %w", err)
	}
	out := make([]expensebot.SpotCheck, len(rows))
	for i, r := range rows {
		out[i] = r.spotCheck()
	}
	return out, nil
}

// SetSpotMessage remembers where the spot-check message of expense id was posted.
func (s *DB) SetSpotMessage(ctx context.Context, id int64, channel, ts string) error {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("UPDATE spot_checks SET channel = ?, message_ts = ? WHERE expense_id = ?"), channel, ts, id); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventSpotPosted, expensebot.ActorSystem,
			map[string]string{"channel": channel, "ts": ts}))
	})
	if err != nil {
		return fmt.Errorf("store: set spot-check message of expense %d: %w", id, err)
	}
	return nil
}

// ResolveSpotCheck records, exactly once, that user confirmed the spot check of expense id
// (flag false) or flagged it with finding. A flag queues a notice that tells finance in the
// message's thread; either redraws the message. The expense's status never changes.
//
// Returns EINVALID for a flag without a finding, EFORBIDDEN when user submitted the expense,
// ENOTFOUND when it was not drawn, and ECONFLICT with the spot check as it stands when another
// person resolved it first.
func (s *DB) ResolveSpotCheck(ctx context.Context, id int64, user string, flag bool, finding string) (expensebot.SpotCheck, error) {
	finding = strings.TrimSpace(finding)
	switch {
	case flag && finding == "":
		return expensebot.SpotCheck{}, expensebot.Errorf(expensebot.EINVALID, "Please say what is wrong: finance will read it.")
	case len([]rune(finding)) > expensebot.MaxDescription:
		return expensebot.SpotCheck{}, expensebot.Errorf(expensebot.EINVALID, "The finding is too long (at most %d characters).", expensebot.MaxDescription)
	case !flag:
		finding = ""
	}
	status, kind := expensebot.SpotCheckConfirmed, expensebot.EventSpotConfirmed
	if flag {
		status, kind = expensebot.SpotCheckFlagged, expensebot.EventSpotFlagged
	}
	var sc expensebot.SpotCheck
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		e, err := s.byID(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.SubmitterID == user {
			return expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot spot-check your own expense; another reviewer must.")
		}
		now := s.now()
		var moved bool
		sc, moved, err = s.moveSpotCheck(ctx, tx, id, `UPDATE spot_checks SET status = ?, checked_by = ?, checked_at = ?, finding = ?
			WHERE expense_id = ? AND status = ?`, status, user, now, finding, id, expensebot.SpotCheckDrawn)
		if err != nil {
			return err
		}
		if !moved {
			return expensebot.Errorf(expensebot.ECONFLICT, "The spot check of expense #%d was already %s.", id, sc.Status)
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, kind, user, map[string]string{"finding": finding})); err != nil {
			return err
		}
		notices := []expensebot.Notice{{Kind: expensebot.NoticeUpdateSpot, ExpenseID: id, Event: kind, Actor: user}}
		if flag {
			notices = append(notices, expensebot.Notice{Kind: expensebot.NoticeSpotFinding, ExpenseID: id, Event: kind, Actor: user, Text: finding})
		}
		return s.addNotices(ctx, tx, notices...)
	})
	if isNoRows(err) {
		return sc, notFound(id)
	}
	if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		return sc, fmt.Errorf("store: resolve spot check of expense %d: %w", id, err)
	}
	return sc, err
}

// SettleSpotCheck records, exactly once, how a flagged spot check of expense id was settled by
// user, with reason: cleared (the expense may be exported for payment) or upheld (it must not be
// paid, and stays out of the export). The flag and who made it are kept. It appends the event,
// redraws the message and tells finance in its thread, in one transaction; the expense's status
// never changes.
//
// Returns EINVALID without a reason or with one too long, EFORBIDDEN when user submitted the
// expense, ENOTFOUND when it was not drawn, and ECONFLICT with the spot check as it stands when
// it is not flagged: settled by someone first, or never flagged.
func (s *DB) SettleSpotCheck(ctx context.Context, id int64, user string, clear bool, reason string) (expensebot.SpotCheck, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return expensebot.SpotCheck{}, expensebot.Errorf(expensebot.EINVALID, "Please say why: finance will read it.")
	case len([]rune(reason)) > expensebot.MaxDescription:
		return expensebot.SpotCheck{}, expensebot.Errorf(expensebot.EINVALID, "The reason is too long (at most %d characters).", expensebot.MaxDescription)
	}
	status, kind := expensebot.SpotCheckUpheld, expensebot.EventSpotUpheld
	if clear {
		status, kind = expensebot.SpotCheckCleared, expensebot.EventSpotCleared
	}
	var sc expensebot.SpotCheck
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		e, err := s.byID(ctx, tx, id)
		if err != nil {
			return err
		}
		if e.SubmitterID == user {
			return expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot settle the spot check of your own expense; another reviewer must.")
		}
		var moved bool
		sc, moved, err = s.moveSpotCheck(ctx, tx, id, `UPDATE spot_checks SET status = ?, settled_by = ?, settled_at = ?, settlement = ?
			WHERE expense_id = ? AND status = ?`, status, user, s.now(), reason, id, expensebot.SpotCheckFlagged)
		if err != nil {
			return err
		}
		if !moved {
			return expensebot.Errorf(expensebot.ECONFLICT, "The spot check of expense #%d is not waiting to be settled: it is %s.", id, sc.Status)
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, kind, user, map[string]string{"reason": reason, "finding": sc.Finding, "flagged_by": sc.CheckedBy})); err != nil {
			return err
		}
		return s.addNotices(ctx, tx,
			expensebot.Notice{Kind: expensebot.NoticeUpdateSpot, ExpenseID: id, Event: kind, Actor: user},
			expensebot.Notice{Kind: expensebot.NoticeSpotFinding, ExpenseID: id, Event: kind, Actor: user, Text: reason})
	})
	if isNoRows(err) {
		return sc, notFound(id)
	}
	if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		return sc, fmt.Errorf("store: settle spot check of expense %d: %w", id, err)
	}
	return sc, err
}

// ExpensesSince returns the expenses created at or after from, in id order: what a report of
// the period since then reads.
func (s *DB) ExpensesSince(ctx context.Context, from time.Time) ([]expensebot.Expense, error) {
	return s.Expenses(ctx, ExpenseQuery{CreatedFrom: from})
}

// moveSpotCheck runs update, a conditional UPDATE of expense id's spot check, in tx and returns
// the spot check it changed (moved true); when the condition held no longer, the spot check as it
// stands (moved false), so that the caller can say who came first. ENOTFOUND when id was never
// drawn.
func (s *DB) moveSpotCheck(ctx context.Context, tx *sqlx.Tx, id int64, update string, args ...any) (sc expensebot.SpotCheck, moved bool, err error) {
	var r spotRow
	err = sqlx.GetContext(ctx, tx, &r, s.q(update+" RETURNING "+spotColumns), args...)
	if isNoRows(err) {
		if err := sqlx.GetContext(ctx, tx, &r, s.q("SELECT "+spotColumns+" FROM spot_checks WHERE expense_id = ?"), id); err != nil {
			if isNoRows(err) {
				return sc, false, expensebot.Errorf(expensebot.ENOTFOUND, "Expense #%d was not drawn for a spot check.", id)
			}
			return sc, false, err
		}
		return r.spotCheck(), false, nil
	}
	if err != nil {
		return sc, false, err
	}
	return r.spotCheck(), true, nil
}
