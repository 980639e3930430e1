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
	"github.com/lib/pq"
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
	ResubmitOf        sql.NullInt64  `db:"resubmit_of"`
	ResubmittedAs     sql.NullInt64  `db:"resubmitted_as"`
	Question          string         `db:"question"`
	QuestionBy        string         `db:"question_by"`
	QuestionFor       string         `db:"question_for"`
	PausedAt          sql.NullTime   `db:"paused_at"`
	RemindAt          sql.NullTime   `db:"remind_at"`
	EscalateAt        sql.NullTime   `db:"escalate_at"`
	ExpiresAt         sql.NullTime   `db:"expires_at"`
	EscalatedTo       string         `db:"escalated_to"`
	FirstApproverFor  string         `db:"first_approver_for"`
	DecidedFor        string         `db:"decided_for"`
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
	ExportBatch       sql.NullInt64  `db:"export_batch"`
	PaidAt            sql.NullTime   `db:"paid_at"`
	PaidBy            string         `db:"paid_by"`
	PaidReference     string         `db:"paid_reference"`
	AssessOwner       string         `db:"assess_owner"`
	AssessAttempt     int            `db:"assess_attempt"`
}

const expenseColumns = `id, team_id, submitter_id, amount_minor, currency, category, description, incurred_on,
	receipt_file_ids, status, idempotency_key, assessment, review_reasons, approvals_required, review_channel,
	review_message_ts, first_approver, first_approved_at, decided_by, decided_at, decision_reason, route_reviewers, rules_version, created_at, updated_at,
	home_currency, home_amount_minor, rate, rate_source, rate_date,
	submitted_by, callback_url, request_hash, findings,
	resubmit_of, resubmitted_as, question, question_by, question_for, paused_at, remind_at, escalate_at, expires_at, escalated_to,
	first_approver_for, decided_for, export_batch, paid_at, paid_by, paid_reference, assess_owner, assess_attempt`

// timeOf is a nullable timestamp as the domain holds it: zero for NULL.
func timeOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// nullTime is a timestamp for the database: NULL for zero.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: t.UTC(), Valid: true}
}

// after is now+d, or zero (NULL) when d turns the timer off.
func after(now time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return time.Time{}
	}
	return now.Add(d)
}

// unreadable is the error for a stored value of expense id that cannot be decoded. It fails
// closed: the expense is not read at all, so that, say, a damaged route_reviewers is never taken
// for "no route stored" (which means the configured reviewers) and nobody decides it by mistake.
// Its code is EINTERNAL; the edges log it with this chain.
func unreadable(id int64, column, raw string, err error) error {
	return fmt.Errorf("store: expense %d: stored %s %q cannot be decoded: %v: %w", id, column, expensebot.Truncate(raw, 80), err,
		expensebot.Errorf(expensebot.EINTERNAL, "Expense #%d has stored data that cannot be read, so it stays as it is until an administrator repairs it.", id))
}

func (r expenseRow) expense() (expensebot.Expense, error) {
	e := expensebot.Expense{
		ID: r.ID, TeamID: r.TeamID, SubmitterID: r.SubmitterID,
		Amount:   expensebot.Money{Minor: r.AmountMinor, Currency: r.Currency},
		Category: r.Category, Description: r.Description, IncurredOn: r.IncurredOn.UTC(),
		Status: expensebot.Status(r.Status), IdempotencyKey: r.IdempotencyKey,
		ApprovalsRequired: r.ApprovalsRequired, ReviewChannel: r.ReviewChannel, ReviewMessageTS: r.ReviewMessageTS,
		FirstApprover: r.FirstApprover, DecidedBy: r.DecidedBy, DecisionReason: r.DecisionReason,
		RulesVersion: r.RulesVersion, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		SubmittedBy: r.SubmittedBy, CallbackURL: r.CallbackURL, RequestHash: r.RequestHash,
		ResubmitOf: r.ResubmitOf.Int64, ResubmittedAs: r.ResubmittedAs.Int64,
		Question: r.Question, QuestionBy: r.QuestionBy, QuestionFor: r.QuestionFor, PausedAt: timeOf(r.PausedAt),
		RemindAt: timeOf(r.RemindAt), EscalateAt: timeOf(r.EscalateAt), ExpiresAt: timeOf(r.ExpiresAt),
		FirstApproverFor: r.FirstApproverFor, DecidedFor: r.DecidedFor,
		ExportBatch: r.ExportBatch.Int64, PaidAt: timeOf(r.PaidAt), PaidBy: r.PaidBy, PaidReference: r.PaidReference,
		HeldBy: r.AssessOwner, HoldAttempt: r.AssessAttempt,
	}
	for _, c := range []struct {
		column, raw string
		into        any
	}{
		{"route_reviewers", r.RouteReviewers, &e.Reviewers}, {"escalated_to", r.EscalatedTo, &e.EscalatedTo},
		{"receipt_file_ids", r.ReceiptFileIDs, &e.ReceiptFileIDs}, {"review_reasons", r.ReviewReasons, &e.ReviewReasons},
		{"findings", r.Findings, &e.Findings},
	} {
		if err := json.Unmarshal([]byte(c.raw), c.into); err != nil {
			return expensebot.Expense{}, unreadable(r.ID, c.column, c.raw, err)
		}
	}
	if r.Assessment.Valid {
		var a expensebot.Assessment
		if err := json.Unmarshal([]byte(r.Assessment.String), &a); err != nil {
			return expensebot.Expense{}, unreadable(r.ID, "assessment", r.Assessment.String, err)
		}
		e.Assessment = &a
	}
	e.FirstApprovedAt, e.DecidedAt = timeOf(r.FirstApprovedAt), timeOf(r.DecidedAt)
	e.HomeAmount = expensebot.Money{Minor: r.HomeAmountMinor.Int64, Currency: r.HomeCurrency}
	if r.Rate != "" {
		e.Rate = expensebot.Rate{From: r.Currency, To: r.HomeCurrency, Value: r.Rate, Source: r.RateSource, Date: r.RateDate.Time.UTC()}
	}
	return e, nil
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "[]"
	}
	return string(b)
}

func getExpense(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (expensebot.Expense, error) {
	var r expenseRow
	if err := sqlx.GetContext(ctx, q, &r, query, args...); err != nil {
		return expensebot.Expense{}, err
	}
	return r.expense()
}

// getExpensePrepared is getExpense for a statement of fixed text, not yet rebound, run prepared.
func (s *DB) getExpensePrepared(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (expensebot.Expense, error) {
	var r expenseRow
	if err := s.getPrepared(ctx, q, &r, query, args...); err != nil {
		return expensebot.Expense{}, err
	}
	return r.expense()
}

// byID loads one expense through q (the database or a transaction).
func (s *DB) byID(ctx context.Context, q sqlx.QueryerContext, id int64) (expensebot.Expense, error) {
	return s.getExpensePrepared(ctx, q, "SELECT "+expenseColumns+" FROM expenses WHERE id = ?", id)
}

// lockExpense loads one expense in tx and holds it until tx ends, for a change computed from its
// current state (timers moved on, a question answered). SQLite's transactions already hold the
// whole database (they begin IMMEDIATE); PostgreSQL locks the row.
func (s *DB) lockExpense(ctx context.Context, tx *sqlx.Tx, id int64) (expensebot.Expense, error) {
	q := "SELECT " + expenseColumns + " FROM expenses WHERE id = ?"
	if s.dialect == Postgres {
		q += " FOR UPDATE"
	}
	return getExpense(ctx, tx, s.q(q), id)
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
	for i := range evs {
		if evs[i].At.IsZero() {
			evs[i].At = s.now()
		}
		if len(evs[i].Detail) == 0 {
			evs[i].Detail = json.RawMessage("{}")
		}
	}
	var err error
	if s.dialect == Postgres {
		// One statement of fixed text for any number of events, prepared once: a VALUES list
		// would be parsed and planned anew for every batch size.
		ids, kinds, actors, ats, details := make([]int64, len(evs)), make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs)), make([]string, len(evs))
		for i, ev := range evs {
			ids[i], kinds[i], actors[i], ats[i], details[i] = ev.ExpenseID, ev.Kind, ev.Actor, ev.At.UTC().Format(time.RFC3339Nano), string(ev.Detail)
		}
		err = s.execPrepared(ctx, tx, insertEventsPostgres, pq.Array(ids), pq.Array(kinds), pq.Array(actors), pq.Array(ats), pq.Array(details))
	} else {
		args := make([]any, 0, 5*len(evs))
		for _, ev := range evs {
			args = append(args, sql.NullInt64{Int64: ev.ExpenseID, Valid: ev.ExpenseID != 0}, ev.Kind, ev.Actor, ev.At.UTC(), string(ev.Detail))
		}
		_, err = tx.ExecContext(ctx, s.q("INSERT INTO audit_events (expense_id, kind, actor, at, detail) VALUES "+values(len(evs), 5)), args...)
	}
	if err != nil {
		return fmt.Errorf("append %s event: %w", evs[0].Kind, err)
	}
	return nil
}

// An expense id of 0 is an event of no expense (rules_changed): NULL.
const insertEventsPostgres = `INSERT INTO audit_events (expense_id, kind, actor, at, detail)
	SELECT nullif(u.e, 0), u.k, u.a, u.t, u.d FROM unnest(?::bigint[], ?::text[], ?::text[], ?::timestamptz[], ?::jsonb[]) AS u (e, k, a, t, d)`

// AppendEvent adds one event to the audit trail on its own, for facts that change no state (a
// refused decision, a notification sent).
func (s *DB) AppendEvent(ctx context.Context, ev expensebot.AuditEvent) error {
	err := s.tx(ctx, func(tx *sqlx.Tx) error { return s.appendEvents(ctx, tx, ev) })
	if err != nil {
		return fmt.Errorf("store: expense %d: %w", ev.ExpenseID, err)
	}
	return nil
}

// RenewAssessments extends, by lease from now, the holds this instance has on the expenses ids,
// and returns those it no longer holds: their hold ran out and another instance took it, or they
// were routed or withdrawn meanwhile. The caller drops the work on those.
func (s *DB) RenewAssessments(ctx context.Context, ids []int64, lease time.Duration) (lost []int64, err error) {
	if len(ids) == 0 {
		return nil, nil
	}
	q, args, err := sqlx.In(`UPDATE expenses SET assessing_until = ?
		WHERE id IN (?) AND status IN (?, ?) AND assess_owner = ? RETURNING id`,
		s.now().Add(lease), ids, expensebot.StatusSubmitted, expensebot.StatusAssessing, s.owner)
	if err != nil {
		return nil, fmt.Errorf("store: renew %d holds: %w", len(ids), err)
	}
	var kept []int64
	if err := s.db.SelectContext(ctx, &kept, s.q(q), args...); err != nil {
		return nil, fmt.Errorf("store: renew %d holds: %w", len(ids), err)
	}
	for _, id := range ids {
		if !slices.Contains(kept, id) {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// ReleaseAssessment gives back the hold on expense id taken under attempt, so that any instance
// may take it at once: an instance that stops hands its unfinished assessments over instead of
// making the others wait for its holds to run out. Returns an error wrapping ErrLostHold when
// this instance no longer holds it.
func (s *DB) ReleaseAssessment(ctx context.Context, id int64, attempt int) error {
	return s.fenceAssessment(ctx, "release", id, attempt, `UPDATE expenses SET assessing_until = NULL, assess_owner = ''
		WHERE id = ? AND status IN (?, ?) AND assess_owner = ? AND assess_attempt = ?`,
		id, expensebot.StatusSubmitted, expensebot.StatusAssessing, s.owner, attempt)
}

// fenceAssessment runs a write fenced by the hold (owner and attempt) and checks that it wrote.
func (s *DB) fenceAssessment(ctx context.Context, op string, id int64, attempt int, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return fmt.Errorf("store: %s hold on expense %d: %w", op, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: %s hold on expense %d: %w", op, id, err)
	} else if n == 0 {
		return fmt.Errorf("store: %s hold %d on expense %d: %w", op, attempt, id, expensebot.ErrLostHold)
	}
	return nil
}

// unlockedID matches the expense id given as its parameter; on PostgreSQL, only when no other
// transaction holds the row (SKIP LOCKED), so that a claim another instance is making this moment
// is not waited for: it is that instance's, and this claim finds nothing.
func (s *DB) unlockedID() string {
	if s.dialect == Postgres {
		return "(SELECT x.id FROM expenses x WHERE x.id = ?" + s.skipLocked("x") + ")"
	}
	return "?"
}

// StartAssessment moves a submitted expense to assessing and holds it for lease, in the name of
// this instance ([DB.Owner]) and with the next attempt number (Expense.HoldAttempt), which
// [DB.RenewAssessment], [DB.ReleaseAssessment] and the route (Routing.HoldAttempt) present. An expense already assessing is taken over only when its holder's lease
// ran out (the holder crashed or stopped); until then this returns ECONFLICT, as it does for any
// later status, so that no two instances ask the AI about one expense at once.
func (s *DB) StartAssessment(ctx context.Context, id int64, lease time.Duration) (expensebot.Expense, error) {
	var e expensebot.Expense
	var took bool
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		var err error
		e, err = getExpense(ctx, tx, s.q(`UPDATE expenses SET status = ?, assessing_until = ?, updated_at = ?,
				assess_owner = ?, assess_attempt = assess_attempt + 1
			WHERE id = `+s.unlockedID()+` AND status IN (?, ?) AND (assessing_until IS NULL OR assessing_until < ?) RETURNING `+expenseColumns),
			expensebot.StatusAssessing, now.Add(lease), now, s.owner, id, expensebot.StatusSubmitted, expensebot.StatusAssessing, now)
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
		if !e.Status.Routed() {
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
	rs := []expensebot.Routing{{ID: id, Assessment: a, Route: r}}
	if err := s.RouteAll(ctx, rs, 0); err != nil {
		return expensebot.Expense{}, err
	}
	return rs[0].Routed, rs[0].Err
}

// RouteAll records the routes of several expenses in one transaction, each as [DB.Route] does:
// the workflow routes the expenses assessed at about the same time together, so that the
// database commits once for many. Each Routing gets its own outcome (Err is ECONFLICT for an
// expense routed already, or ENOTFOUND); an error returned is the transaction's, and nothing of
// any of them is recorded.
//
// With claim above zero the DMs and callbacks queued are claimed for the caller for that long, as
// [DB.ClaimNotices] would, and returned in each Routing with their ids and destinations: the
// caller delivers them without reading them back. The rest (cards) wait in the outbox, counted
// in Waiting.
func (s *DB) RouteAll(ctx context.Context, rs []expensebot.Routing, claim time.Duration) error {
	if len(rs) == 0 {
		return nil
	}
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		now := s.now()
		var events []expensebot.AuditEvent
		// With claim, a route's DMs and callbacks are claimed for the caller; its card notices
		// wait in the outbox, whose claims keep the cards of a channel in order.
		var carried, waiting []expensebot.Notice
		var owner []int // carried[i] belongs to rs[owner[i]]
		for i := range rs {
			rs[i].Routed, rs[i].Notices, rs[i].Waiting, rs[i].Err = expensebot.Expense{}, nil, 0, nil
			evs, ns, err := s.route(ctx, tx, &rs[i], now)
			if err != nil {
				return err
			}
			events = append(events, evs...)
			for _, n := range ns {
				if claim > 0 && (n.Kind == expensebot.NoticeTellSubmitter || n.Kind == expensebot.NoticeCallback) {
					carried = append(carried, n)
					owner = append(owner, i)
				} else {
					waiting = append(waiting, n)
					rs[i].Waiting++
				}
			}
		}
		if err := s.appendEvents(ctx, tx, events...); err != nil {
			return err
		}
		if _, err := s.queueNotices(ctx, tx, time.Time{}, waiting...); err != nil {
			return err
		}
		ids, err := s.queueNotices(ctx, tx, now.Add(claim), carried...)
		if err != nil {
			return err
		}
		for i, n := range carried {
			r := &rs[owner[i]]
			n.ID = ids[i]
			switch n.Kind {
			case expensebot.NoticeTellSubmitter:
				n.Dest = r.Routed.SubmitterID
			case expensebot.NoticeCallback:
				n.Dest = expensebot.CallbackHost(r.Routed.CallbackURL)
			}
			r.Notices = append(r.Notices, n)
		}
		return nil
	})
	if err != nil {
		for i := range rs {
			rs[i].Routed, rs[i].Notices, rs[i].Waiting, rs[i].Err = expensebot.Expense{}, nil, 0, nil
		}
		if len(rs) == 1 {
			return fmt.Errorf("store: route expense %d: %w", rs[0].ID, err)
		}
		return fmt.Errorf("store: route %d expenses: %w", len(rs), err)
	}
	return nil
}

// route records one route in tx and returns the events and notices it makes; r.Err is set when
// the expense cannot be routed (nothing of it is then recorded).
func (s *DB) route(ctx context.Context, tx *sqlx.Tx, rt *expensebot.Routing, now time.Time) ([]expensebot.AuditEvent, []expensebot.Notice, error) {
	id, a, r := rt.ID, rt.Assessment, rt.Route
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
	// The timers start when a person is asked to decide.
	var remind, escalate, expire time.Time
	if !r.AutoApprove {
		remind, escalate, expire = after(now, r.Timing.RemindAfter), after(now, r.Timing.EscalateAfter), after(now, r.Timing.ExpireAfter)
	}
	query, args := routeQuery, []any{
		status, assessment, jsonText(r.Reasons), required, r.Channel, jsonText(r.Reviewers), r.Version, decidedBy, decidedAt, now,
		r.HomeAmount.Currency, home, r.Rate.Value, r.Rate.Source, rate, jsonText(r.Findings),
		nullTime(remind), nullTime(escalate), nullTime(expire),
		id, expensebot.StatusSubmitted, expensebot.StatusAssessing, rt.HoldAttempt, s.owner, rt.HoldAttempt}
	if rt.CheckReceipts {
		// The list is a column of the row, so that PostgreSQL checks it again on the row as a
		// receipt being attached leaves it (the count, a subquery, is checked on the snapshot).
		query, args = routeIfReceiptsQuery, append(args, jsonText(rt.ReceiptFileIDs), id, rt.Receipts)
	}
	e, err := s.getExpensePrepared(ctx, tx, query, args...)
	if isNoRows(err) {
		e, err = s.byID(ctx, tx, id)
		switch {
		case isNoRows(err):
			rt.Err = notFound(id)
		case err != nil:
			return nil, nil, err
		case !e.Status.Routed() && rt.HoldAttempt != 0 && (e.HeldBy != s.owner || e.HoldAttempt != rt.HoldAttempt):
			rt.Err = fmt.Errorf("store: route expense %d (hold %d, now %s's %d): %w", id, rt.HoldAttempt, e.HeldBy, e.HoldAttempt, expensebot.ErrLostHold)
		case !e.Status.Routed():
			rt.Err = fmt.Errorf("store: route expense %d: %w", id, expensebot.ErrNewReceipts)
		default:
			rt.Err = expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d was already routed (%s).", id, e.Status.Label())
		}
		return nil, nil, nil
	}
	if err == nil {
		e, err = s.withReceipts(ctx, tx, e)
	}
	if err != nil {
		return nil, nil, err
	}
	rt.Routed = e
	routed := map[string]any{"auto_approve": r.AutoApprove, "approvals_required": required, "reasons": r.Reasons, "channel": r.Channel,
		"reviewers": r.Reviewers, "rules_version": r.Version,
		"remind_after": r.Timing.RemindAfter.String(), "escalate_after": r.Timing.EscalateAfter.String(), "expire_after": r.Timing.ExpireAfter.String()}
	addConversion(routed, r)
	if len(r.Findings) > 0 {
		routed["findings"] = r.Findings
	}
	events := []expensebot.AuditEvent{
		expensebot.NewEvent(id, expensebot.EventAssessed, expensebot.ActorAI, a),
		expensebot.NewEvent(id, expensebot.EventRouted, expensebot.ActorPolicy, routed),
	}
	if !r.AutoApprove {
		notices := []expensebot.Notice{
			{Kind: expensebot.NoticePostReview, ExpenseID: id, Event: expensebot.EventRouted, Actor: expensebot.ActorPolicy},
			{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: expensebot.EventRouted, Actor: expensebot.ActorPolicy},
		}
		// The receipts kept before the route go into the card's thread, after the card.
		share, err := s.shareNotices(ctx, tx, id)
		if err != nil {
			return nil, nil, err
		}
		return events, append(notices, share...), nil
	}
	notices := []expensebot.Notice{{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: expensebot.EventAutoApproved, Actor: expensebot.ActorPolicy}}
	approved := map[string]any{"reasons": r.Reasons}
	if d := r.SpotCheck; d != nil {
		// Every draw is recorded, so that an auditor can see the sample was drawn fairly.
		approved["spot_check"] = d
		if d.Selected {
			if err := s.drawSpotCheck(ctx, tx, id, *d, now); err != nil {
				return nil, nil, err
			}
			notices = append(notices, expensebot.Notice{Kind: expensebot.NoticeSpotCheck, ExpenseID: id, Event: expensebot.EventAutoApproved, Actor: expensebot.ActorPolicy})
		}
	}
	events = append(events, expensebot.NewEvent(id, expensebot.EventAutoApproved, expensebot.ActorPolicy, approved))
	notices = append(notices, expensebot.CallbackNotices(e, expensebot.EventAutoApproved, expensebot.ActorPolicy)...)
	return events, notices, nil
}

// routeQuery records a route on an expense that has none yet; routeIfReceiptsQuery only while
// its receipts are the ones given.
const (
	routeSet = `UPDATE expenses SET status = ?, assessment = ?, review_reasons = ?,
	approvals_required = ?, review_channel = ?, route_reviewers = ?, rules_version = ?, decided_by = ?, decided_at = ?, updated_at = ?,
	home_currency = ?, home_amount_minor = ?, rate = ?, rate_source = ?, rate_date = ?, findings = ?,
	remind_at = ?, escalate_at = ?, expires_at = ?, timed = TRUE
	WHERE id = ? AND status IN (?, ?) AND (? = 0 OR (assess_owner = ? AND assess_attempt = ?))`
	routeQuery           = routeSet + " RETURNING " + expenseColumns
	routeIfReceiptsQuery = routeSet + " AND receipt_file_ids = ? AND (SELECT count(*) FROM receipts WHERE expense_id = ? AND checked) = ? RETURNING " + expenseColumns
)

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
