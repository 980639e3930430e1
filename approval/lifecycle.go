package approval

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
)

// The life of an expense after the first click, as people drive it: a reviewer's question and the
// submitter's answer, withdrawal, resubmission, and reviewers' delegations while they are away.

// internal wraps an internal error with the operation; errors meant for people pass unchanged.
func internal(err error, format string, args ...any) error {
	if err == nil || expensebot.ErrorCode(err) != expensebot.EINTERNAL {
		return err
	}
	return fmt.Errorf("approval: "+format+": %w", append(args, err)...)
}

// changed schedules the App Homes an expense's change shows in, and wakes the notice deliverer.
func (s *Service) changed(e expensebot.Expense) {
	s.kick()
	s.homes.Mark(e.SubmitterID)
	s.homes.MarkReviewers()
}

// AskInfo records a reviewer's question to the submitter of a pending expense: it waits, as
// needs_info, for their answer, with its reminders paused, and the question goes to the card's
// thread and to the submitter's DM. A delegate asks for the reviewer they stand in for. See
// [Service.Authorize] for who may; EINVALID for an empty or long question.
func (s *Service) AskInfo(ctx context.Context, user string, id int64, question string) error {
	_, forWhom, err := s.authorize(ctx, user, id, ActionAsk)
	if err != nil {
		return err
	}
	e, err := s.store.AskInfo(ctx, id, user, forWhom, question)
	if err != nil {
		return internal(err, "ask about expense %d", id)
	}
	s.log.Info("question asked", "expense_id", id, "user_id", user, "on_behalf_of", forWhom)
	s.cfg.Observer.Outcome(string(e.Status))
	s.changed(e)
	return nil
}

// OpenQuestion returns expense id if user may answer its question: its submitter, while it waits
// for the answer. EFORBIDDEN, ECONFLICT or ENOTFOUND otherwise.
func (s *Service) OpenQuestion(ctx context.Context, user string, id int64) (expensebot.Expense, error) {
	e, err := s.store.Expense(ctx, id)
	switch {
	case err != nil:
		return e, err
	case e.SubmitterID != user:
		return e, expensebot.Errorf(expensebot.EFORBIDDEN, "Only the submitter of expense #%d can answer its question.", id)
	case !e.Status.Info().Submitter.Has(expensebot.ActAnswer):
		return e, expensebot.Errorf(expensebot.ECONFLICT, "Expense #%d has no question waiting for an answer (it is %s).", id, strings.ToLower(e.Status.Label()))
	}
	return e, nil
}

// Answer records the submitter's answer to the open question on expense id: the answer goes to
// the card's thread and the expense back to the reviewers, its card redrawn with the buttons.
// EFORBIDDEN for anyone but the submitter, ECONFLICT when no question is open, EINVALID for an
// empty or long answer.
func (s *Service) Answer(ctx context.Context, user string, id int64, answer string) error {
	e, err := s.store.Answer(ctx, id, user, answer, s.rules().settings.Timing.RemindAfter)
	if err != nil {
		return internal(err, "answer on expense %d", id)
	}
	s.log.Info("question answered", "expense_id", id, "user_id", user)
	s.changed(e)
	return nil
}

// Withdraw takes a pending or needs_info expense out of review at its submitter's request.
// EFORBIDDEN for anyone else, ECONFLICT (with the expense) when it is in another status.
func (s *Service) Withdraw(ctx context.Context, user string, id int64) (expensebot.Expense, error) {
	e, err := s.store.Withdraw(ctx, id, user)
	if err != nil {
		return e, internal(err, "withdraw expense %d", id)
	}
	s.log.Info("expense withdrawn", "expense_id", id, "user_id", user)
	s.cfg.Observer.Outcome(string(e.Status))
	s.changed(e)
	return e, nil
}

// Resubmittable returns expense id if user may edit it and submit it again: see
// [expensebot.Expense.CheckResubmit]. The resubmission itself is a [Service.Submit] of an expense
// whose ResubmitOf is id, assessed and routed afresh.
func (s *Service) Resubmittable(ctx context.Context, user string, id int64) (expensebot.Expense, error) {
	e, err := s.store.Expense(ctx, id)
	if err != nil {
		return e, err
	}
	return e, e.CheckResubmit(user)
}

// Delegate records that reviewer is away until until and delegate decides for them meanwhile:
// wherever reviewer may decide (never on the delegate's own expenses), the delegate may too, gets
// the reminders, and each decision says it was made for reviewer. Delegations do not chain, and
// one that would close a loop is refused (ECONFLICT). EINVALID for oneself or a date past.
func (s *Service) Delegate(ctx context.Context, reviewer, delegate string, until time.Time) error {
	if err := s.store.Delegate(ctx, expensebot.Delegation{Reviewer: reviewer, Delegate: delegate, Until: until}); err != nil {
		return internal(err, "delegate for %s", reviewer)
	}
	s.log.Info("delegation set", "user_id", reviewer, "delegate_id", delegate, "until", until)
	s.homes.Mark(reviewer)
	s.homes.Mark(delegate)
	return nil
}

// EndDelegation ends reviewer's delegation: they are back.
func (s *Service) EndDelegation(ctx context.Context, reviewer string) error {
	if err := s.store.EndDelegation(ctx, reviewer); err != nil {
		return internal(err, "end delegation of %s", reviewer)
	}
	s.log.Info("delegation ended", "user_id", reviewer)
	s.homes.MarkReviewers()
	return nil
}

// activeFor returns the delegations in force now whose reviewer may decide e: their delegates
// may decide it too, and are reminded of it.
func (s *Service) activeFor(ctx context.Context, e expensebot.Expense, all []expensebot.Delegation) []expensebot.Delegation {
	var out []expensebot.Delegation
	for _, d := range all {
		if !d.Active(s.Now()) || d.Delegate == e.SubmitterID || d.Reviewer == e.SubmitterID {
			continue
		}
		if ok, _ := s.reviewers.allowed(ctx, d.Reviewer, s.deciders(e)); ok {
			out = append(out, d)
		}
	}
	return out
}
