package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// receiptRow is a receipts row as the database holds it.
type receiptRow struct {
	ExpenseID   int64          `db:"expense_id"`
	FileID      string         `db:"file_id"`
	Name        string         `db:"name"`
	Filetype    string         `db:"filetype"`
	Mimetype    string         `db:"mimetype"`
	Size        int64          `db:"size"`
	SHA256      string         `db:"sha256"`
	AddedBy     string         `db:"added_by"`
	AddedAt     time.Time      `db:"added_at"`
	Reading     sql.NullString `db:"reading"`
	DuplicateOf sql.NullInt64  `db:"duplicate_of"`
	DupChannel  sql.NullString `db:"dup_channel"`
	DupTS       sql.NullString `db:"dup_ts"`
}

func (r receiptRow) receipt() (expensebot.Receipt, error) {
	out := expensebot.Receipt{ExpenseID: r.ExpenseID, FileID: r.FileID, Name: r.Name, Filetype: r.Filetype, Mimetype: r.Mimetype,
		Size: r.Size, SHA256: r.SHA256, AddedBy: r.AddedBy, AddedAt: r.AddedAt.UTC()}
	if r.Reading.Valid {
		var rd expensebot.ReceiptReading
		if err := json.Unmarshal([]byte(r.Reading.String), &rd); err != nil {
			return expensebot.Receipt{}, unreadable(r.ExpenseID, "receipt reading of "+r.FileID, r.Reading.String, err)
		}
		out.Reading = &rd
	}
	if r.DuplicateOf.Valid {
		out.Duplicate = &expensebot.DuplicateReceipt{ExpenseID: r.DuplicateOf.Int64, ReviewChannel: r.DupChannel.String, ReviewMessageTS: r.DupTS.String}
	}
	return out, nil
}

// receiptsOf loads the receipts of expense id through q, oldest first, each with where the
// earlier expense it duplicates has its card.
func (s *DB) receiptsOf(ctx context.Context, q sqlx.QueryerContext, id int64) ([]expensebot.Receipt, error) {
	var rows []receiptRow
	err := sqlx.SelectContext(ctx, q, &rows, s.q(`SELECT r.expense_id, r.file_id, r.name, r.filetype, r.mimetype, r.size, r.sha256,
		r.added_by, r.added_at, r.reading, r.duplicate_of, d.review_channel AS dup_channel, d.review_message_ts AS dup_ts
		FROM receipts r LEFT JOIN expenses d ON d.id = r.duplicate_of WHERE r.expense_id = ? AND r.checked ORDER BY r.added_at, r.file_id`), id)
	if err != nil {
		return nil, err
	}
	out := make([]expensebot.Receipt, len(rows))
	for i, r := range rows {
		if out[i], err = r.receipt(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Receipts returns the receipts kept for expense id, oldest first.
func (s *DB) Receipts(ctx context.Context, id int64) ([]expensebot.Receipt, error) {
	rs, err := s.receiptsOf(ctx, s.db, id)
	if err != nil {
		return nil, fmt.Errorf("store: receipts of expense %d: %w", id, err)
	}
	return rs, nil
}

// withReceipts loads the receipts of e when it names any.
func (s *DB) withReceipts(ctx context.Context, q sqlx.QueryerContext, e expensebot.Expense) (expensebot.Expense, error) {
	if len(e.ReceiptFileIDs) == 0 {
		return e, nil
	}
	rs, err := s.receiptsOf(ctx, q, e.ID)
	if err != nil {
		return e, err
	}
	e.Receipts = rs
	return e, nil
}

// AddReceipts keeps checked receipts for expense id, in one transaction: a row per file (a file
// already kept is left as it is), a receipt_added event with its id, name, type, size and hash
// and, when it was read, a receipt_read event with the facts, model, latency and tokens. A receipt
// whose SHA-256 is already on another expense, anyone's, is marked as its duplicate. The expense's
// receipt list becomes the files kept, so a file refused before this call is dropped from it.
// Receipts reach the card's thread by notices: now when the expense has a card (queued or posted),
// else with the card when it is routed to a person. Returns the expense with its receipts, or
// ENOTFOUND.
func (s *DB) AddReceipts(ctx context.Context, id int64, rs []expensebot.Receipt, actor string) (expensebot.Expense, error) {
	var e expensebot.Expense
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		// Locked: a route being recorded meanwhile either sees the new receipt list and refuses
		// (the expense is assessed again with it), or commits first and this sees it routed.
		if e, err = s.lockExpense(ctx, tx, id); err != nil {
			return err
		}
		now := s.now()
		var events []expensebot.AuditEvent
		var notices []expensebot.Notice
		for _, r := range rs {
			evs, inserted, err := s.insertReceipt(ctx, tx, id, r, actor, now)
			if err != nil {
				return err
			}
			if !inserted {
				continue // kept before: a retry, or the same file twice
			}
			events = append(events, evs...)
			if hasCard(e) {
				notices = append(notices, expensebot.Notice{Kind: expensebot.NoticeShareReceipt, ExpenseID: id, Event: expensebot.EventReceiptAdded, Actor: actor, Text: r.FileID})
			}
		}
		kept, err := s.receiptsOf(ctx, tx, id)
		if err != nil {
			return err
		}
		ids := make([]string, len(kept))
		for i, r := range kept {
			ids[i] = r.FileID
		}
		if !slices.Equal(ids, e.ReceiptFileIDs) {
			if _, err := tx.ExecContext(ctx, s.q("UPDATE expenses SET receipt_file_ids = ?, updated_at = ? WHERE id = ?"), jsonText(ids), now, id); err != nil {
				return err
			}
			e.UpdatedAt = now
		}
		e.ReceiptFileIDs, e.Receipts = ids, kept
		// A decided expense's card shows its receipts too; a pending one is redrawn by its re-route.
		if len(events) > 0 && e.Status.Final() && hasCard(e) {
			notices = append(notices, expensebot.Notice{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventReceiptAdded, Actor: actor})
		}
		if err := s.appendEvents(ctx, tx, events...); err != nil {
			return err
		}
		return s.addNotices(ctx, tx, notices...)
	})
	if isNoRows(err) {
		return e, notFound(id)
	}
	if err != nil {
		return e, fmt.Errorf("store: add receipts to expense %d: %w", id, err)
	}
	return e, nil
}

// insertReceipt keeps checked receipt r of expense id, marked as the duplicate of an earlier
// expense that carries the same bytes, and returns its receipt_added (and receipt_read) events;
// inserted is false when it was kept before.
func (s *DB) insertReceipt(ctx context.Context, tx *sqlx.Tx, id int64, r expensebot.Receipt, actor string, now time.Time) (events []expensebot.AuditEvent, inserted bool, err error) {
	var dup sql.NullInt64
	err = tx.GetContext(ctx, &dup, s.q("SELECT min(expense_id) FROM receipts WHERE sha256 = ? AND expense_id <> ? AND checked"), r.SHA256, id)
	if err != nil {
		return nil, false, fmt.Errorf("look for duplicate receipt: %w", err)
	}
	var reading sql.NullString
	if r.Reading != nil {
		b, _ := json.Marshal(r.Reading)
		reading = sql.NullString{String: string(b), Valid: true}
	}
	// A row only described for the export (see DescribeReceipt) becomes the checked
	// receipt, keeping its link; a checked one is left as it is.
	res, err := tx.ExecContext(ctx, s.q(`INSERT INTO receipts (expense_id, file_id, name, filetype, mimetype, size, sha256, added_by, added_at, reading, duplicate_of)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (expense_id, file_id) DO UPDATE SET name = excluded.name,
		filetype = excluded.filetype, mimetype = excluded.mimetype, size = excluded.size, sha256 = excluded.sha256,
		added_by = excluded.added_by, added_at = excluded.added_at, reading = excluded.reading,
		duplicate_of = excluded.duplicate_of, checked = TRUE WHERE NOT receipts.checked`),
		id, r.FileID, r.Name, r.Filetype, r.Mimetype, r.Size, r.SHA256, actor, now, reading, dup)
	if err != nil {
		return nil, false, fmt.Errorf("insert receipt: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, false, nil
	}
	added := map[string]any{"file_id": r.FileID, "name": r.Name, "filetype": r.Filetype, "mimetype": r.Mimetype, "size": r.Size, "sha256": r.SHA256}
	if dup.Valid {
		added["duplicate_of"] = dup.Int64
	}
	events = append(events, expensebot.NewEvent(id, expensebot.EventReceiptAdded, actor, added))
	if r.Reading != nil {
		events = append(events, expensebot.NewEvent(id, expensebot.EventReceiptRead, expensebot.ActorAI, map[string]any{
			"file_id": r.FileID, "facts": r.Reading.Facts, "model": r.Reading.Model, "prompt_version": r.Reading.PromptVersion,
			"latency_ms": r.Reading.LatencyMS, "prompt_tokens": r.Reading.PromptTokens, "completion_tokens": r.Reading.CompletionTokens,
			"offline": r.Reading.Offline, "error": r.Reading.Error, "check": r.Reading.Check}))
	}
	return events, true, nil
}

// hasCard reports whether e has a live approval card, posted or queued: it was routed to a
// person, and its status keeps the card current ([expensebot.StatusInfo.LiveCard]).
func hasCard(e expensebot.Expense) bool {
	return e.Status.Info().LiveCard && e.ReviewChannel != ""
}

// shareNotices put every receipt of expense id into its card's thread, after the card.
func (s *DB) shareNotices(ctx context.Context, tx *sqlx.Tx, id int64) ([]expensebot.Notice, error) {
	var files []string
	if err := tx.SelectContext(ctx, &files, s.q("SELECT file_id FROM receipts WHERE expense_id = ? AND checked ORDER BY added_at, file_id"), id); err != nil {
		return nil, fmt.Errorf("list receipts: %w", err)
	}
	out := make([]expensebot.Notice, len(files))
	for i, f := range files {
		out[i] = expensebot.Notice{Kind: expensebot.NoticeShareReceipt, ExpenseID: id, Event: expensebot.EventRouted, Actor: expensebot.ActorPolicy, Text: f}
	}
	return out, nil
}

// Reroute applies a new route to a pending expense after its receipts changed: its approvals
// required, findings and reasons become the new route's, and the card is redrawn; with an
// automatic approval it is approved by policy (the card says so, the submitter is told, and a
// selected spot-check draw is recorded as at routing).
//
// A control never fails open, so approvals already given bound the new route: an expense one
// reviewer has approved keeps needing two different reviewers and is never approved
// automatically (its reasons then say a second reviewer decides). Without an approval the new
// route's number stands, lower or higher.
//
// It is conditional on the reasons the caller routed from (before) and on the approvals given as
// read, so a decision, an approval or another re-route in between wins: that returns ECONFLICT
// with the expense as it stands. A route that changes nothing returns changed false.
func (s *DB) Reroute(ctx context.Context, id int64, before []string, r expensebot.Route) (e expensebot.Expense, changed bool, err error) {
	err = s.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		cur, err := s.byID(ctx, tx, id)
		if err != nil {
			return err
		}
		auto, reasons, required := r.AutoApprove, r.Reasons, r.ApprovalsRequired
		if required < 1 || auto {
			required = 1
		}
		if cur.FirstApprover != "" {
			// One approval is in: it was given towards two, so it must not decide alone, and a
			// person has already taken part.
			required = 2
			if auto {
				auto, reasons = false, []string{secondApprovalReason}
			}
		}
		if !auto && slices.Equal(before, reasons) && required == cur.ApprovalsRequired && jsonText(r.Findings) == jsonText(cur.Findings) {
			e = cur
			return nil
		}
		status, decidedBy, decidedAt := expensebot.StatusPendingReview, "", sql.NullTime{}
		if auto {
			status, decidedBy, decidedAt = expensebot.StatusAutoApproved, expensebot.ActorPolicy, sql.NullTime{Time: now, Valid: true}
		}
		e, err = getExpense(ctx, tx, s.q(`UPDATE expenses SET status = ?, review_reasons = ?, approvals_required = ?, findings = ?,
			decided_by = ?, decided_at = ?, updated_at = ?
			WHERE id = ? AND status = ? AND first_approver = ? AND review_reasons = ? RETURNING `+expenseColumns),
			status, jsonText(reasons), required, jsonText(r.Findings), decidedBy, decidedAt, now,
			id, expensebot.StatusPendingReview, cur.FirstApprover, jsonText(before))
		if isNoRows(err) {
			if e, err = s.byID(ctx, tx, id); err != nil {
				return err
			}
			return expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d changed while its receipt was checked (%s).", id, e.Status.Label())
		}
		if err != nil {
			return err
		}
		changed = true
		routed := map[string]any{"auto_approve": auto, "approvals_required": required, "reasons": reasons, "rerouted": "receipt", "rules_version": r.Version}
		if len(r.Findings) > 0 {
			routed["findings"] = r.Findings
		}
		events := []expensebot.AuditEvent{expensebot.NewEvent(id, expensebot.EventRouted, expensebot.ActorPolicy, routed)}
		notices := []expensebot.Notice{{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventRouted, Actor: expensebot.ActorPolicy}}
		if auto {
			approved := map[string]any{"reasons": reasons}
			notices = []expensebot.Notice{
				{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventAutoApproved, Actor: expensebot.ActorPolicy},
				{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: expensebot.EventAutoApproved, Actor: expensebot.ActorPolicy},
			}
			if d := r.SpotCheck; d != nil {
				// As at routing: every draw is recorded, a selected one is posted.
				approved["spot_check"] = d
				if d.Selected {
					if err := s.drawSpotCheck(ctx, tx, id, *d, now); err != nil {
						return err
					}
					notices = append(notices, expensebot.Notice{Kind: expensebot.NoticeSpotCheck, ExpenseID: id, Event: expensebot.EventAutoApproved, Actor: expensebot.ActorPolicy})
				}
			}
			events = append(events, expensebot.NewEvent(id, expensebot.EventAutoApproved, expensebot.ActorPolicy, approved))
			notices = append(notices, expensebot.CallbackNotices(e, expensebot.EventAutoApproved, expensebot.ActorPolicy)...)
		}
		if err := s.appendEvents(ctx, tx, events...); err != nil {
			return err
		}
		if err := s.addNotices(ctx, tx, notices...); err != nil {
			return err
		}
		e, err = s.withReceipts(ctx, tx, e)
		return err
	})
	if isNoRows(err) {
		return e, false, notFound(id)
	}
	if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		return e, false, fmt.Errorf("store: re-route expense %d: %w", id, err)
	}
	return e, changed, err
}

// secondApprovalReason replaces the reasons of an automatic route for an expense one reviewer
// has already approved: it is not approved automatically.
const secondApprovalReason = "one reviewer has already approved it, so a second reviewer decides"
