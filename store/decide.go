package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// Decide records a reviewer's approve or reject on a pending expense, exactly once. Every update
// is conditional on the state just read, so of two reviewers racing (or one double click) one wins
// and the other gets an ECONFLICT error (expensebot.Decided) with the expense as it now stands, so
// the edge can say who decided and when.
//
// On a two-approval expense the first approval is recorded and the expense stays pending; a second,
// different reviewer's approval finalises it. A rejection is final at any point. The submitter can
// never decide their own expense, nor a delegate for them. A delegate's decision (OnBehalfOf) is
// recorded with the reviewer they stand in for, and counts as both people: the second of two
// approvals must come from someone else.
func (s *DB) Decide(ctx context.Context, d expensebot.Decision) (expensebot.Expense, error) {
	if err := d.Validate(); err != nil {
		return expensebot.Expense{}, err
	}
	var e expensebot.Expense
	// A lost race on the first of two approvals is retried: the loser's approval may still be the
	// second one.
	for range 3 {
		var retry bool
		err := s.tx(ctx, func(tx *sqlx.Tx) error {
			var err error
			e, retry, err = s.decide(ctx, tx, d)
			return err
		})
		if retry {
			continue
		}
		if isNoRows(err) {
			return e, notFound(d.ExpenseID)
		}
		if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			return e, fmt.Errorf("store: decide expense %d: %w", d.ExpenseID, err)
		}
		return e, err
	}
	return e, fmt.Errorf("store: decide expense %d: too much contention", d.ExpenseID)
}

func (s *DB) decide(ctx context.Context, tx *sqlx.Tx, d expensebot.Decision) (e expensebot.Expense, retry bool, err error) {
	e, err = s.byID(ctx, tx, d.ExpenseID)
	if err != nil {
		return e, false, err
	}
	if err := decidable(e, d); err != nil {
		return e, false, err
	}
	now := s.now()
	if d.Outcome == expensebot.Approve && e.ApprovalsRequired == 2 && e.FirstApprover == "" {
		res, err := tx.ExecContext(ctx, s.q(`UPDATE expenses SET first_approver = ?, first_approver_for = ?, first_approved_at = ?, updated_at = ?
			WHERE id = ? AND status = ? AND first_approver = ''`),
			d.Reviewer, d.OnBehalfOf, now, now, e.ID, expensebot.StatusPendingReview)
		if err != nil {
			return e, false, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return e, true, nil
		}
		detail := map[string]any{"approvals_required": 2, "reason": d.Reason}
		if d.OnBehalfOf != "" {
			detail["on_behalf_of"] = d.OnBehalfOf
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(e.ID, expensebot.EventFirstApproval, d.Reviewer, detail)); err != nil {
			return e, false, err
		}
		if err := s.addNotices(ctx, tx, decisionNotices(e.ID, expensebot.EventFirstApproval, d.Reviewer)...); err != nil {
			return e, false, err
		}
		e.FirstApprover, e.FirstApproverFor, e.FirstApprovedAt, e.UpdatedAt = d.Reviewer, d.OnBehalfOf, now, now
		return e, false, nil
	}
	status, kind := expensebot.StatusApproved, expensebot.EventApproved
	if d.Outcome == expensebot.Reject {
		status, kind = expensebot.StatusRejected, expensebot.EventRejected
	}
	res, err := tx.ExecContext(ctx, s.q(`UPDATE expenses SET status = ?, decided_by = ?, decided_for = ?, decided_at = ?, decision_reason = ?,
		remind_at = NULL, escalate_at = NULL, expires_at = NULL, updated_at = ?
		WHERE id = ? AND status = ? AND first_approver = ?`),
		status, d.Reviewer, d.OnBehalfOf, now, strings.TrimSpace(d.Reason), now, e.ID, expensebot.StatusPendingReview, e.FirstApprover)
	if err != nil {
		return e, false, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return e, true, nil
	}
	detail := map[string]any{"reason": strings.TrimSpace(d.Reason)}
	if e.FirstApprover != "" {
		detail["first_approver"] = e.FirstApprover
		if e.FirstApproverFor != "" {
			detail["first_approver_for"] = e.FirstApproverFor
		}
	}
	if d.OnBehalfOf != "" {
		detail["on_behalf_of"] = d.OnBehalfOf
	}
	if err := s.appendEvents(ctx, tx, expensebot.NewEvent(e.ID, kind, d.Reviewer, detail)); err != nil {
		return e, false, err
	}
	notices := append(decisionNotices(e.ID, kind, d.Reviewer), expensebot.CallbackNotices(e, kind, d.Reviewer)...)
	if err := s.addNotices(ctx, tx, notices...); err != nil {
		return e, false, err
	}
	e.Status, e.DecidedBy, e.DecidedFor, e.DecidedAt, e.DecisionReason, e.UpdatedAt = status, d.Reviewer, d.OnBehalfOf, now, strings.TrimSpace(d.Reason), now
	e.RemindAt, e.EscalateAt, e.ExpiresAt = time.Time{}, time.Time{}, time.Time{}
	return e, false, nil
}

// decidable says why d cannot be applied to e as it stands, or nil.
func decidable(e expensebot.Expense, d expensebot.Decision) error {
	first := expensebot.Principals(e.FirstApprover, e.FirstApproverFor)
	switch {
	case e.SubmitterID == d.Reviewer:
		return expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot decide your own expense #%d; another reviewer must.", e.ID)
	case e.SubmitterID == d.OnBehalfOf:
		return expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot decide expense #%d for its own submitter; another reviewer must.", e.ID)
	case e.Status.Routed() && !e.Status.Info().Reviewers.Has(expensebot.ActDecide):
		return expensebot.Decided(e)
	case !e.Status.Info().Reviewers.Has(expensebot.ActDecide):
		return expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d is not ready for review yet (%s).", e.ID, e.Status.Label())
	case d.Outcome == expensebot.Approve && e.FirstApprover == d.Reviewer:
		return expensebot.Errorf(expensebot.ECONFLICT, "You already gave the first approval of expense #%d; a second, different reviewer must approve it.", e.ID)
	case d.Outcome == expensebot.Approve && e.FirstApprover != "" && slices.ContainsFunc(expensebot.Principals(d.Reviewer, d.OnBehalfOf), func(p string) bool { return slices.Contains(first, p) }):
		return expensebot.Errorf(expensebot.ECONFLICT, "The first approval of expense #%d was given by or for the same person; a second, different reviewer must approve it.", e.ID)
	}
	return nil
}

// Comment adds a reviewer's comment to a pending expense without changing its state.
func (s *DB) Comment(ctx context.Context, id int64, user, text string) (expensebot.Expense, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return expensebot.Expense{}, expensebot.Errorf(expensebot.EINVALID, "Please write a comment.")
	}
	if len(text) > expensebot.MaxDescription {
		return expensebot.Expense{}, expensebot.Errorf(expensebot.EINVALID, "The comment is too long (at most %d characters).", expensebot.MaxDescription)
	}
	var e expensebot.Expense
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		var err error
		e, err = s.byID(ctx, tx, id)
		if err != nil {
			return err
		}
		if !e.Status.Info().Reviewers.Has(expensebot.ActComment) {
			return expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d is %s; comments are for pending expenses.", id, e.Status.Label())
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventCommented, user, map[string]string{"comment": text})); err != nil {
			return err
		}
		return s.addNotices(ctx, tx, expensebot.Notice{Kind: expensebot.NoticeComment, ExpenseID: id, Event: expensebot.EventCommented, Actor: user, Text: text})
	})
	if isNoRows(err) {
		return e, notFound(id)
	}
	if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		return e, fmt.Errorf("store: comment on expense %d: %w", id, err)
	}
	return e, err
}

// decisionNotices redraw the approvals message and tell the submitter about a decision.
func decisionNotices(id int64, event, reviewer string) []expensebot.Notice {
	return []expensebot.Notice{
		{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: event, Actor: reviewer},
		{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: event, Actor: reviewer},
	}
}
