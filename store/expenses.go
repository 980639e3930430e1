package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// expenseRow is an expenses row as the database holds it.
type expenseRow struct {
	ID                int64          `db:"id"`
	TeamID            string         `db:"team_id"`
	SubmitterID       string         `db:"submitter_id"`
	AmountMinor       int64          `db:"amount_minor"`
	Currency          string         `db:"currency"`
	Category          string         `db:"category"`
	Description       string         `db:"description"`
	IncurredOn        time.Time      `db:"incurred_on"`
	ReceiptFileIDs    string         `db:"receipt_file_ids"`
	Status            string         `db:"status"`
	IdempotencyKey    string         `db:"idempotency_key"`
	Assessment        sql.NullString `db:"assessment"`
	ReviewReasons     string         `db:"review_reasons"`
	ApprovalsRequired int            `db:"approvals_required"`
	ReviewChannel     string         `db:"review_channel"`
	ReviewMessageTS   string         `db:"review_message_ts"`
	FirstApprover     string         `db:"first_approver"`
	FirstApprovedAt   sql.NullTime   `db:"first_approved_at"`
	DecidedBy         string         `db:"decided_by"`
	DecidedAt         sql.NullTime   `db:"decided_at"`
	DecisionReason    string         `db:"decision_reason"`
	RouteReviewers    string         `db:"route_reviewers"`
	RulesVersion      string         `db:"rules_version"`
	CreatedAt         time.Time      `db:"created_at"`
	UpdatedAt         time.Time      `db:"updated_at"`
	HomeCurrency      string         `db:"home_currency"`
	HomeAmountMinor   sql.NullInt64  `db:"home_amount_minor"`
	Rate              string         `db:"rate"`
	RateSource        string         `db:"rate_source"`
	RateDate          sql.NullTime   `db:"rate_date"`
	SubmittedBy       string         `db:"submitted_by"`
	CallbackURL       string         `db:"callback_url"`
	RequestHash       string         `db:"request_hash"`
	Findings          string         `db:"findings"`
}

const expenseColumns = `id, team_id, submitter_id, amount_minor, currency, category, description, incurred_on,
	receipt_file_ids, status, idempotency_key, assessment, review_reasons, approvals_required, review_channel,
	review_message_ts, first_approver, first_approved_at, decided_by, decided_at, decision_reason, route_reviewers, rules_version, created_at, updated_at,
	home_currency, home_amount_minor, rate, rate_source, rate_date,
	submitted_by, callback_url, request_hash, findings`

func (r expenseRow) expense() expensebot.Expense {
	e := expensebot.Expense{
		ID: r.ID, TeamID: r.TeamID, SubmitterID: r.SubmitterID,
		Amount:   expensebot.Money{Minor: r.AmountMinor, Currency: r.Currency},
		Category: r.Category, Description: r.Description, IncurredOn: r.IncurredOn.UTC(),
		Status: expensebot.Status(r.Status), IdempotencyKey: r.IdempotencyKey,
		ApprovalsRequired: r.ApprovalsRequired, ReviewChannel: r.ReviewChannel, ReviewMessageTS: r.ReviewMessageTS,
		FirstApprover: r.FirstApprover, DecidedBy: r.DecidedBy, DecisionReason: r.DecisionReason,
		RulesVersion: r.RulesVersion, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		SubmittedBy: r.SubmittedBy, CallbackURL: r.CallbackURL, RequestHash: r.RequestHash,
	}
	_ = json.Unmarshal([]byte(r.ReceiptFileIDs), &e.ReceiptFileIDs)
	_ = json.Unmarshal([]byte(r.RouteReviewers), &e.Reviewers)
	_ = json.Unmarshal([]byte(r.ReviewReasons), &e.ReviewReasons)
	_ = json.Unmarshal([]byte(r.Findings), &e.Findings)
	if r.Assessment.Valid {
		var a expensebot.Assessment
		if json.Unmarshal([]byte(r.Assessment.String), &a) == nil {
			e.Assessment = &a
		}
	}
	if r.FirstApprovedAt.Valid {
		e.FirstApprovedAt = r.FirstApprovedAt.Time.UTC()
	}
	if r.DecidedAt.Valid {
		e.DecidedAt = r.DecidedAt.Time.UTC()
	}
	e.HomeAmount = expensebot.Money{Minor: r.HomeAmountMinor.Int64, Currency: r.HomeCurrency}
	if r.Rate != "" {
		e.Rate = expensebot.Rate{From: r.Currency, To: r.HomeCurrency, Value: r.Rate, Source: r.RateSource, Date: r.RateDate.Time.UTC()}
	}
	return e
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "[]"
	}
	return string(b)
}

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
func (s *DB) SubmitAll(ctx context.Context, subs []expensebot.Submission, hold time.Duration) error {
	now := s.now()
	// Held, an expense keeps the status submitted (what its submitter is told) while its
	// assessment has begun: the hold is what keeps other instances off it.
	status, heldUntil := expensebot.StatusSubmitted, sql.NullTime{}
	if hold > 0 {
		heldUntil = sql.NullTime{Time: now.Add(hold), Valid: true}
	}
	// Checked and normalised first; then one INSERT for the group, one SELECT for keys already
	// stored, and one INSERT of events: three round trips and one commit, however many.
	first := map[string]int{} // idempotency key → the submission that inserts it
	var insert []int
	for i := range subs {
		sub := &subs[i]
		sub.Saved, sub.Created, sub.Err = expensebot.Expense{}, false, nil
		e := &sub.Expense
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
		if _, seen := first[e.IdempotencyKey]; !seen {
			first[e.IdempotencyKey] = i
			insert = append(insert, i)
		}
	}
	if len(insert) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var q strings.Builder
		q.WriteString(`INSERT INTO expenses (team_id, submitter_id, amount_minor, currency, category,
			description, incurred_on, receipt_file_ids, status, assessing_until, idempotency_key, created_at, updated_at,
			submitted_by, callback_url, request_hash) VALUES `)
		args := make([]any, 0, 16*len(insert))
		for j, i := range insert {
			if j > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			e := subs[i].Expense
			args = append(args, e.TeamID, e.SubmitterID, e.Amount.Minor, e.Amount.Currency, e.Category, e.Description,
				e.IncurredOn, jsonText(e.ReceiptFileIDs), status, heldUntil, e.IdempotencyKey, now, now,
				e.SubmittedBy, e.CallbackURL, e.RequestHash)
		}
		q.WriteString(" ON CONFLICT (idempotency_key) DO NOTHING RETURNING " + expenseColumns)
		var rows []expenseRow
		if err := tx.SelectContext(ctx, &rows, s.q(q.String()), args...); err != nil {
			return err
		}
		saved := make(map[string]expensebot.Expense, len(insert))
		created := make(map[string]bool, len(rows))
		for _, r := range rows {
			saved[r.IdempotencyKey], created[r.IdempotencyKey] = r.expense(), true
		}
		var stored []string // keys an earlier submission holds
		for _, i := range insert {
			if k := subs[i].Expense.IdempotencyKey; !created[k] {
				stored = append(stored, k)
			}
		}
		if len(stored) > 0 {
			sq, sargs, err := sqlx.In("SELECT "+expenseColumns+" FROM expenses WHERE idempotency_key IN (?)", stored)
			if err != nil {
				return err
			}
			var old []expenseRow
			if err := tx.SelectContext(ctx, &old, s.q(sq), sargs...); err != nil {
				return err
			}
			for _, r := range old {
				saved[r.IdempotencyKey] = r.expense()
			}
		}
		var events []expensebot.AuditEvent
		for i := range subs {
			sub := &subs[i]
			if sub.Err != nil {
				continue
			}
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
			events = append(events, expensebot.NewEvent(sub.Saved.ID, expensebot.EventSubmitted, actor, detail))
			if hold > 0 {
				events = append(events, expensebot.NewEvent(sub.Saved.ID, expensebot.EventAssessing, expensebot.ActorSystem, nil))
			}
		}
		return s.appendEvents(ctx, tx, events...)
	})
	if err != nil {
		for i := range subs {
			subs[i].Saved, subs[i].Created = expensebot.Expense{}, false
		}
		return fmt.Errorf("store: submit %d expenses: %w", len(subs), err)
	}
	return nil
}

func getExpense(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (expensebot.Expense, error) {
	var r expenseRow
	if err := sqlx.GetContext(ctx, q, &r, query, args...); err != nil {
		return expensebot.Expense{}, err
	}
	return r.expense(), nil
}

// byID loads one expense through q (the database or a transaction).
func (s *DB) byID(ctx context.Context, q sqlx.QueryerContext, id int64) (expensebot.Expense, error) {
	return getExpense(ctx, q, s.q("SELECT "+expenseColumns+" FROM expenses WHERE id = ?"), id)
}

func notFound(id int64) error {
	return expensebot.Errorf(expensebot.ENOTFOUND, "There is no expense #%d.", id)
}

// Expense returns the expense with the given id, or an ENOTFOUND error.
func (s *DB) Expense(ctx context.Context, id int64) (expensebot.Expense, error) {
	e, err := s.byID(ctx, s.db, id)
	if isNoRows(err) {
		return e, notFound(id)
	}
	if err == nil {
		e, err = s.withReceipts(ctx, s.db, e)
	}
	if err != nil {
		return e, fmt.Errorf("store: get expense %d: %w", id, err)
	}
	return e, nil
}

// appendEvents adds events to the audit trail in one statement.
func (s *DB) appendEvents(ctx context.Context, tx *sqlx.Tx, evs ...expensebot.AuditEvent) error {
	if len(evs) == 0 {
		return nil
	}
	q := "INSERT INTO audit_events (expense_id, kind, actor, at, detail) VALUES "
	args := make([]any, 0, 5*len(evs))
	for i, ev := range evs {
		if ev.At.IsZero() {
			ev.At = s.now()
		}
		if len(ev.Detail) == 0 {
			ev.Detail = json.RawMessage("{}")
		}
		if i > 0 {
			q += ", "
		}
		q += "(?, ?, ?, ?, ?)"
		args = append(args, ev.ExpenseID, ev.Kind, ev.Actor, ev.At.UTC(), string(ev.Detail))
	}
	if _, err := tx.ExecContext(ctx, s.q(q), args...); err != nil {
		return fmt.Errorf("append %s event: %w", evs[0].Kind, err)
	}
	return nil
}

// AppendEvent adds one event to the audit trail on its own, for facts that change no state (a
// refused decision, a notification sent).
func (s *DB) AppendEvent(ctx context.Context, ev expensebot.AuditEvent) error {
	err := s.tx(ctx, func(tx *sqlx.Tx) error { return s.appendEvents(ctx, tx, ev) })
	if err != nil {
		return fmt.Errorf("store: expense %d: %w", ev.ExpenseID, err)
	}
	return nil
}

// StartAssessment moves a submitted expense to assessing and holds it for lease: the time one
// assessment may take. An expense already assessing is taken over only when its holder's lease
// ran out (the holder crashed or stopped); until then this returns ECONFLICT, as it does for any
// later status, so that no two instances ask the AI about one expense at once.
func (s *DB) StartAssessment(ctx context.Context, id int64, lease time.Duration) (expensebot.Expense, error) {
	var e expensebot.Expense
	var took bool
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		var err error
		e, err = getExpense(ctx, tx, s.q(`UPDATE expenses SET status = ?, assessing_until = ?, updated_at = ?
			WHERE id = ? AND status IN (?, ?) AND (assessing_until IS NULL OR assessing_until < ?) RETURNING `+expenseColumns),
			expensebot.StatusAssessing, now.Add(lease), now, id, expensebot.StatusSubmitted, expensebot.StatusAssessing, now)
		if isNoRows(err) {
			e, err = s.byID(ctx, tx, id) // held by another instance, or long past it
			return err
		}
		if err != nil {
			return err
		}
		took = true
		return s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventAssessing, expensebot.ActorSystem, nil))
	})
	if isNoRows(err) {
		return e, notFound(id)
	}
	if err != nil {
		return e, fmt.Errorf("store: start assessment of expense %d: %w", id, err)
	}
	if !took {
		if e.Status == expensebot.StatusAssessing || e.Status == expensebot.StatusSubmitted {
			return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d is being assessed.", id)
		}
		return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d is already %s.", id, e.Status.Label())
	}
	return e, nil
}

// Route records the AI's assessment (nil when there was none) and the policy's route on a
// submitted or assessing expense: auto_approved, or pending_review. Events assessed, routed and
// (when automatic) auto_approved are written in the same transaction, with the notices that post
// the approvals message and tell the submitter.
func (s *DB) Route(ctx context.Context, id int64, a *expensebot.Assessment, r expensebot.Route) (expensebot.Expense, error) {
	var e expensebot.Expense
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		status, decidedBy, decidedAt := expensebot.StatusPendingReview, "", sql.NullTime{}
		if r.AutoApprove {
			status, decidedBy, decidedAt = expensebot.StatusAutoApproved, expensebot.ActorPolicy, sql.NullTime{Time: now, Valid: true}
		}
		required := r.ApprovalsRequired
		if required < 1 || r.AutoApprove {
			required = 1
		}
		var assessment sql.NullString
		if a != nil {
			b, _ := json.Marshal(a)
			assessment = sql.NullString{String: string(b), Valid: true}
		}
		home, rate := conversion(r)
		var err error
		e, err = getExpense(ctx, tx, s.q(`UPDATE expenses SET status = ?, assessment = ?, review_reasons = ?,
			approvals_required = ?, review_channel = ?, route_reviewers = ?, rules_version = ?, decided_by = ?, decided_at = ?, updated_at = ?,
			home_currency = ?, home_amount_minor = ?, rate = ?, rate_source = ?, rate_date = ?, findings = ?
			WHERE id = ? AND status IN (?, ?) RETURNING `+expenseColumns),
			status, assessment, jsonText(r.Reasons), required, r.Channel, jsonText(r.Reviewers), r.Version, decidedBy, decidedAt, now,
			r.HomeAmount.Currency, home, r.Rate.Value, r.Rate.Source, rate, jsonText(r.Findings),
			id, expensebot.StatusSubmitted, expensebot.StatusAssessing)
		if isNoRows(err) {
			if e, err = s.byID(ctx, tx, id); err != nil {
				return err
			}
			return expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d was already routed (%s).", id, e.Status.Label())
		}
		if err != nil {
			return err
		}
		routed := map[string]any{"auto_approve": r.AutoApprove, "approvals_required": required, "reasons": r.Reasons, "channel": r.Channel,
			"reviewers": r.Reviewers, "rules_version": r.Version}
		addConversion(routed, r)
		if len(r.Findings) > 0 {
			routed["findings"] = r.Findings
		}
		events := []expensebot.AuditEvent{
			expensebot.NewEvent(id, expensebot.EventAssessed, expensebot.ActorAI, a),
			expensebot.NewEvent(id, expensebot.EventRouted, expensebot.ActorPolicy, routed),
		}
		notices := []expensebot.Notice{{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: expensebot.EventAutoApproved, Actor: expensebot.ActorPolicy}}
		if r.AutoApprove {
			approved := map[string]any{"reasons": r.Reasons}
			if d := r.SpotCheck; d != nil {
				// Every draw is recorded, so that an auditor can see the sample was drawn fairly.
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
		} else {
			notices = []expensebot.Notice{
				{Kind: expensebot.NoticePostReview, ExpenseID: id, Event: expensebot.EventRouted, Actor: expensebot.ActorPolicy},
				{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: expensebot.EventRouted, Actor: expensebot.ActorPolicy},
			}
			// The receipts kept before the route go into the card's thread, after the card.
			share, err := s.shareNotices(ctx, tx, id)
			if err != nil {
				return err
			}
			notices = append(notices, share...)
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
		if expensebot.ErrorCode(err) == expensebot.ECONFLICT {
			return e, err
		}
		return e, fmt.Errorf("store: route expense %d: %w", id, err)
	}
	return e, nil
}

// conversion returns the columns of a route's home amount and rate date: NULL when no usable
// rate was known, or none was used.
func conversion(r expensebot.Route) (home sql.NullInt64, rateDate sql.NullTime) {
	if r.HomeAmount.Minor > 0 {
		home = sql.NullInt64{Int64: r.HomeAmount.Minor, Valid: true}
	}
	if r.Rate.Value != "" {
		rateDate = sql.NullTime{Time: r.Rate.Date.UTC(), Valid: true}
	}
	return home, rateDate
}

// addConversion records in a routed event's detail the amount the policy compared with its limits
// and the rate that converted it, as finance reads them back.
func addConversion(detail map[string]any, r expensebot.Route) {
	if r.HomeAmount.Currency == "" {
		return
	}
	detail["home_currency"] = r.HomeAmount.Currency
	detail["home_amount_minor"] = nil // no usable rate was known
	if r.HomeAmount.Minor > 0 {
		detail["home_amount_minor"] = r.HomeAmount.Minor
	}
	if r.Rate.Value != "" {
		detail["rate"], detail["rate_source"], detail["rate_date"] = r.Rate.Value, r.Rate.Source, r.Rate.Date.Format(time.DateOnly)
	}
}

// SetReviewMessage remembers where the approvals message for an expense was posted.
func (s *DB) SetReviewMessage(ctx context.Context, id int64, channel, ts string) error {
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q("UPDATE expenses SET review_channel = ?, review_message_ts = ?, updated_at = ? WHERE id = ?"),
			channel, ts, s.now(), id); err != nil {
			return err
		}
		return s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventReviewPosted, expensebot.ActorSystem,
			map[string]string{"channel": channel, "ts": ts}))
	})
	if err != nil {
		return fmt.Errorf("store: set review message of expense %d: %w", id, err)
	}
	return nil
}
