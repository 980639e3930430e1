package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/jmoiron/sqlx"
)

// The life of an expense after the first click: a question and its answer, withdrawal, and the
// timers that remind, escalate and expire. Every change is one transaction with its audit event
// and notices, conditional on the status it starts from, so of two racing requests or two
// instances exactly one changes the expense.

// change runs fn in a transaction on expense id, locked as it stands, and maps errors the way
// every lifecycle method documents: ENOTFOUND, the *expensebot.Error fn returned, or an internal
// error naming op.
func (s *DB) change(ctx context.Context, op string, id int64, fn func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error)) (expensebot.Expense, error) {
	var out expensebot.Expense
	err := s.tx(ctx, func(tx *sqlx.Tx) error {
		e, err := s.lockExpense(ctx, tx, id)
		if err != nil {
			return err
		}
		out = e
		out, err = fn(tx, e, s.now())
		return err
	})
	switch {
	case isNoRows(err):
		return out, notFound(id)
	case err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL:
		return out, fmt.Errorf("store: %s expense %d: %w", op, id, err)
	}
	return out, err
}

// updated applies an UPDATE … RETURNING on expense id that must change exactly one row.
func (s *DB) updated(ctx context.Context, tx *sqlx.Tx, id int64, set string, args ...any) (expensebot.Expense, error) {
	e, err := getExpense(ctx, tx, s.q("UPDATE expenses SET "+set+" RETURNING "+expenseColumns), args...)
	if isNoRows(err) {
		return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d changed at the same moment; please look again.", id)
	}
	return e, err
}

// checkText trims a question or answer and checks its length.
func checkText(text, what string) (string, error) {
	text = strings.TrimSpace(text)
	if !expensebot.Visible(text) {
		return "", expensebot.Errorf(expensebot.EINVALID, "Please write the %s.", what)
	}
	if err := validText("text", what, text); err != nil {
		return "", err
	}
	if n := len([]rune(text)); n > expensebot.MaxQuestion {
		return "", expensebot.Errorf(expensebot.EINVALID, "The %s is too long (%d characters, at most %d).", what, n, expensebot.MaxQuestion)
	}
	return text, nil
}

// AskInfo records a reviewer's question to the submitter of a pending expense, which moves to
// needs_info until they answer: its timers stand still, its card shows the question, and the
// question goes to the card's thread and to the submitter. onBehalfOf names the away reviewer the
// asker stands in for, if any. Returns EINVALID for an empty or long question, EFORBIDDEN for the
// submitter, ECONFLICT (with the expense) when it is not pending, ENOTFOUND.
func (s *DB) AskInfo(ctx context.Context, id int64, reviewer, onBehalfOf, question string) (expensebot.Expense, error) {
	question, err := checkText(question, "question")
	if err != nil {
		return expensebot.Expense{}, err
	}
	return s.change(ctx, "ask about", id, func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error) {
		switch {
		case e.SubmitterID == reviewer || e.SubmitterID == onBehalfOf:
			return e, expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot ask about your own expense #%d; another reviewer must.", id)
		case e.Status == expensebot.StatusNeedsInfo:
			return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d already has a question waiting for its submitter's answer.", id)
		case e.Status != expensebot.StatusPendingReview:
			return e, expensebot.Decided(e)
		}
		e, err := s.updated(ctx, tx, id, `status = ?, question = ?, question_by = ?, question_for = ?, paused_at = ?, updated_at = ?
			WHERE id = ? AND status = ?`, expensebot.StatusNeedsInfo, question, reviewer, onBehalfOf, now, now, id, expensebot.StatusPendingReview)
		if err != nil {
			return e, err
		}
		detail := map[string]any{"question": question}
		if onBehalfOf != "" {
			detail["on_behalf_of"] = onBehalfOf
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventInfoRequested, reviewer, detail)); err != nil {
			return e, err
		}
		return e, s.addNotices(ctx, tx,
			expensebot.Notice{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventInfoRequested, Actor: reviewer},
			expensebot.Notice{Kind: expensebot.NoticeComment, ExpenseID: id, Event: expensebot.EventInfoRequested, Actor: reviewer, Text: question})
	})
}

// Answer records the submitter's answer to the open question and returns the expense to the
// reviewers: pending_review, its card redrawn, the answer in the card's thread. Escalation and
// expiry move on by the time the question was open, so that time does not count; reminders start
// over, next due remindAfter from now (zero: none). Returns EINVALID for an empty or long answer,
// EFORBIDDEN for anyone but the submitter, ECONFLICT when no question is open, ENOTFOUND.
func (s *DB) Answer(ctx context.Context, id int64, submitter, answer string, remindAfter time.Duration) (expensebot.Expense, error) {
	answer, err := checkText(answer, "answer")
	if err != nil {
		return expensebot.Expense{}, err
	}
	return s.change(ctx, "answer on", id, func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error) {
		switch {
		case e.SubmitterID != submitter:
			return e, expensebot.Errorf(expensebot.EFORBIDDEN, "Only the submitter of expense #%d can answer its question.", id)
		case e.Status != expensebot.StatusNeedsInfo:
			return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d has no question waiting for an answer (it is %s).", id, strings.ToLower(e.Status.Label()))
		}
		paused := max(now.Sub(e.PausedAt), 0)
		shift := func(t time.Time) time.Time {
			if t.IsZero() {
				return t
			}
			return t.Add(paused)
		}
		asker, asked := e.QuestionBy, e.Question
		e, err := s.updated(ctx, tx, id, `status = ?, question = '', question_by = '', question_for = '', paused_at = NULL,
			remind_at = ?, escalate_at = ?, expires_at = ?, updated_at = ? WHERE id = ? AND status = ?`,
			expensebot.StatusPendingReview, nullTime(after(now, remindAfter)), nullTime(shift(e.EscalateAt)), nullTime(shift(e.ExpiresAt)), now,
			id, expensebot.StatusNeedsInfo)
		if err != nil {
			return e, err
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventInfoProvided, submitter,
			map[string]any{"answer": answer, "question": asked, "asked_by": asker, "paused_seconds": int64(paused.Seconds())})); err != nil {
			return e, err
		}
		return e, s.addNotices(ctx, tx,
			expensebot.Notice{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventInfoProvided, Actor: submitter},
			expensebot.Notice{Kind: expensebot.NoticeThread, ExpenseID: id, Event: expensebot.EventInfoProvided, Actor: asker, Text: answer})
	})
}

// Withdraw takes a pending or needs_info expense out of review at its submitter's request: status
// withdrawn, its card redrawn without buttons, the API client that submitted it told. Returns EFORBIDDEN for anyone but the submitter,
// ECONFLICT when it is not pending or needs_info, ENOTFOUND.
func (s *DB) Withdraw(ctx context.Context, id int64, submitter string) (expensebot.Expense, error) {
	return s.change(ctx, "withdraw", id, func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error) {
		switch {
		case e.SubmitterID != submitter:
			return e, expensebot.Errorf(expensebot.EFORBIDDEN, "Only its submitter can withdraw expense #%d.", id)
		case e.Status == expensebot.StatusSubmitted || e.Status == expensebot.StatusAssessing:
			return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d is still being checked; you can withdraw it once it is with a reviewer.", id)
		case !e.Status.Withdrawable():
			return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d is already %s, so it cannot be withdrawn.", id, strings.ToLower(e.Status.Label()))
		}
		from := e.Status
		e, err := s.updated(ctx, tx, id, `status = ?, decided_by = ?, decided_at = ?, paused_at = NULL,
			remind_at = NULL, escalate_at = NULL, expires_at = NULL, updated_at = ? WHERE id = ? AND status = ?`,
			expensebot.StatusWithdrawn, submitter, now, now, id, from)
		if err != nil {
			return e, err
		}
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventWithdrawn, submitter, map[string]any{"from": from})); err != nil {
			return e, err
		}
		return e, s.addNotices(ctx, tx, append([]expensebot.Notice{{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventWithdrawn, Actor: submitter}},
			expensebot.CallbackNotices(e, expensebot.EventWithdrawn, submitter)...)...)
	})
}

// DueTimers returns up to limit pending expenses with a reminder, escalation or expiry due now,
// oldest first. It only reads: firing each is Remind, Escalate or Expire, which exactly one
// caller wins.
func (s *DB) DueTimers(ctx context.Context, limit int) ([]expensebot.Expense, error) {
	now := s.now()
	return s.list(ctx, "due timers", "WHERE status = ? AND (remind_at <= ? OR escalate_at <= ? OR expires_at <= ?) ORDER BY id LIMIT ?",
		expensebot.StatusPendingReview, now, now, now, limit)
}

// ScheduleTimers sets the timers of pending expenses that have none yet, from now: those routed
// before timers existed, or by an instance of an older version during a rolling upgrade. It
// returns how many it scheduled.
func (s *DB) ScheduleTimers(ctx context.Context, t expensebot.Timing) (int, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, s.q(`UPDATE expenses SET remind_at = ?, escalate_at = ?, expires_at = ?, timed = TRUE
		WHERE status = ? AND timed = FALSE`),
		nullTime(after(now, t.RemindAfter)), nullTime(after(now, t.EscalateAfter)), nullTime(after(now, t.ExpireAfter)), expensebot.StatusPendingReview)
	if err != nil {
		return 0, fmt.Errorf("store: schedule timers: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// nextTick is the first time after now on the cadence start, start+every, …: a reminder that was
// due while no instance ran is sent once, not once for every period missed.
func nextTick(start, now time.Time, every time.Duration) time.Time {
	if every <= 0 {
		return time.Time{}
	}
	next := start.Add(every)
	if !next.After(now) {
		next = next.Add((now.Sub(next)/every + 1) * every)
	}
	return next
}

// Remind fires the reminder of a pending expense if it is due, and reports whether this call
// fired it: the audit event, and a notice that mentions who may decide in the card's thread. The
// next one is due every later on the same cadence (never, when every is zero). Of several
// instances calling at once, exactly one fires it.
func (s *DB) Remind(ctx context.Context, id int64, every time.Duration) (bool, error) {
	fired := false
	_, err := s.change(ctx, "remind about", id, func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error) {
		if e.Status != expensebot.StatusPendingReview || e.RemindAt.IsZero() || e.RemindAt.After(now) {
			return e, nil // another instance fired it, or the expense moved on
		}
		e, err := s.updated(ctx, tx, id, "remind_at = ? WHERE id = ? AND status = ? AND remind_at <= ?",
			nullTime(nextTick(e.RemindAt, now, every)), id, expensebot.StatusPendingReview, now)
		if err != nil {
			return e, err
		}
		fired = true
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventReminded, expensebot.ActorSystem,
			map[string]any{"reviewers": e.Reviewers, "next_at": e.RemindAt})); err != nil {
			return e, err
		}
		return e, s.addNotices(ctx, tx, expensebot.Notice{Kind: expensebot.NoticeThread, ExpenseID: id, Event: expensebot.EventReminded, Actor: expensebot.ActorSystem})
	})
	return fired, err
}

// Escalate fires the escalation of a pending expense if it is due, and reports whether this call
// fired it. reviewers is who may decide it from now on, add those of them who could not before:
// stored with the expense in one transaction with the audit event, the card redrawn and a reply
// in its thread. With nothing to add the timer is only cleared.
func (s *DB) Escalate(ctx context.Context, id int64, reviewers, add []string) (bool, error) {
	fired := false
	_, err := s.change(ctx, "escalate", id, func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error) {
		if e.Status != expensebot.StatusPendingReview || e.EscalateAt.IsZero() || e.EscalateAt.After(now) {
			return e, nil
		}
		if len(add) == 0 {
			_, err := tx.ExecContext(ctx, s.q("UPDATE expenses SET escalate_at = NULL WHERE id = ?"), id)
			return e, err
		}
		e, err := s.updated(ctx, tx, id, `route_reviewers = ?, escalated_to = ?, escalate_at = NULL, updated_at = ?
			WHERE id = ? AND status = ? AND escalate_at <= ?`,
			jsonText(reviewers), jsonText(append(e.EscalatedTo, add...)), now, id, expensebot.StatusPendingReview, now)
		if err != nil {
			return e, err
		}
		fired = true
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventEscalated, expensebot.ActorSystem,
			map[string]any{"added": add, "reviewers": reviewers})); err != nil {
			return e, err
		}
		return e, s.addNotices(ctx, tx,
			expensebot.Notice{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventEscalated, Actor: expensebot.ActorSystem},
			expensebot.Notice{Kind: expensebot.NoticeThread, ExpenseID: id, Event: expensebot.EventEscalated, Actor: expensebot.ActorSystem, Text: strings.Join(add, ",")})
	})
	return fired, err
}

// Expire ends a pending expense nobody decided in time, if its expiry is due, and reports whether
// this call expired it: status expired (an outcome of its own, never a rejection), its card
// redrawn without buttons, its submitter (and the API client that submitted it) told.
func (s *DB) Expire(ctx context.Context, id int64) (bool, error) {
	fired := false
	_, err := s.change(ctx, "expire", id, func(tx *sqlx.Tx, e expensebot.Expense, now time.Time) (expensebot.Expense, error) {
		if e.Status != expensebot.StatusPendingReview || e.ExpiresAt.IsZero() || e.ExpiresAt.After(now) {
			return e, nil
		}
		e, err := s.updated(ctx, tx, id, `status = ?, decided_by = ?, decided_at = ?, remind_at = NULL, escalate_at = NULL, expires_at = NULL,
			updated_at = ? WHERE id = ? AND status = ? AND expires_at <= ?`,
			expensebot.StatusExpired, expensebot.ActorSystem, now, now, id, expensebot.StatusPendingReview, now)
		if err != nil {
			return e, err
		}
		fired = true
		if err := s.appendEvents(ctx, tx, expensebot.NewEvent(id, expensebot.EventExpired, expensebot.ActorSystem,
			map[string]any{"first_approver": e.FirstApprover})); err != nil {
			return e, err
		}
		return e, s.addNotices(ctx, tx, append([]expensebot.Notice{
			{Kind: expensebot.NoticeUpdateReview, ExpenseID: id, Event: expensebot.EventExpired, Actor: expensebot.ActorSystem},
			{Kind: expensebot.NoticeTellSubmitter, ExpenseID: id, Event: expensebot.EventExpired, Actor: expensebot.ActorSystem},
		}, expensebot.CallbackNotices(e, expensebot.EventExpired, expensebot.ActorSystem)...)...)
	})
	return fired, err
}
