package approval

import (
	"context"
	"fmt"

	"github.com/expensebot/expensebot"
)

// Actions a person takes on an expense, as recorded when they are refused.
const (
	ActionApprove = "approve"
	ActionReject  = "reject"
	ActionComment = "comment"
	ActionAsk     = "ask"
)

// Authorize loads expense id and checks that user may act on it: a reviewer of its route (directly
// or through a user group) or the delegate of one who is away, never its submitter, and only
// while it is pending. A refusal is recorded in the audit trail. Returns EFORBIDDEN when user may
// not, ECONFLICT with the expense as it stands when it is already decided or waits for its
// submitter's answer, ENOTFOUND, or an internal error.
func (s *Service) Authorize(ctx context.Context, user string, id int64, action string) (expensebot.Expense, error) {
	e, _, err := s.authorize(ctx, user, id, action)
	return e, err
}

// authorize is Authorize that also says for whom user acts: "" in their own right, or the away
// reviewer they stand in for.
func (s *Service) authorize(ctx context.Context, user string, id int64, action string) (expensebot.Expense, string, error) {
	e, err := s.store.Expense(ctx, id)
	if err != nil {
		return e, "", err
	}
	refuse := func(err *expensebot.Error) (expensebot.Expense, string, error) {
		s.log.Info("decision refused", "expense_id", id, "user_id", user, "action", action, "why", err.Message)
		if aerr := s.store.AppendEvent(ctx, expensebot.NewEvent(id, expensebot.EventRefused, user, map[string]string{"action": action, "why": err.Message})); aerr != nil {
			s.log.Error("audit refusal", "expense_id", id, "err", aerr)
		}
		return e, "", err
	}
	delegations, err := s.store.Delegations(ctx)
	if err != nil {
		return e, "", fmt.Errorf("approval: authorize %s on expense %d: %w", user, id, err)
	}
	// The stored route decides, not today's configuration: a policy edited since the expense was
	// routed applies to new expenses only. Group membership is still looked up now.
	forWhom, ok, err := s.mayDecide(ctx, user, e, delegations)
	if err != nil && !ok {
		// Fail closed: a member list that cannot be refreshed is not trusted.
		s.log.Warn("reviewer lookup failed; refusing", "user_id", user, "err", err)
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "I could not check who may decide expenses just now (Slack did not answer). Please try again in a minute."))
	}
	switch {
	case !ok:
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "Only the configured reviewers (or their delegates while they are away) can approve, reject, ask about or comment on expenses."))
	case e.SubmitterID == user:
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot decide your own expense; another reviewer must."))
	case e.Status.Final(), e.Status == expensebot.StatusNeedsInfo:
		return e, "", expensebot.Decided(e)
	}
	return e, forWhom, nil
}

// mayDecide reports whether user may act on e as a reviewer: in their own right (forWhom is ""),
// or as the delegate of an away reviewer who may (forWhom names them). A delegate never acts for
// the expense's own submitter. err is set when a user group could not be expanded; ok may still
// be true through another way.
func (s *Service) mayDecide(ctx context.Context, user string, e expensebot.Expense, delegations []expensebot.Delegation) (forWhom string, ok bool, err error) {
	ok, err = s.reviewers.allowed(ctx, user, s.deciders(e))
	if ok {
		return "", true, nil
	}
	now := s.Now()
	for _, d := range delegations {
		if d.Delegate != user || !d.Active(now) || d.Reviewer == e.SubmitterID {
			continue
		}
		may, derr := s.reviewers.allowed(ctx, d.Reviewer, s.deciders(e))
		if may {
			return d.Reviewer, true, nil
		}
		if derr != nil {
			err = derr
		}
	}
	return "", false, err
}

// Decide records a reviewer's approval or rejection exactly once. The loser of a race gets
// ECONFLICT with the expense as it now stands; see [Service.Authorize] for the other errors.
func (s *Service) Decide(ctx context.Context, d expensebot.Decision) (expensebot.Expense, error) {
	e, forWhom, err := s.authorize(ctx, d.Reviewer, d.ExpenseID, string(d.Outcome))
	if err != nil {
		return e, err
	}
	d.OnBehalfOf = forWhom
	e, err = s.store.Decide(ctx, d)
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.ECONFLICT {
			s.log.Info("decision lost a race", "expense_id", d.ExpenseID, "user_id", d.Reviewer, "winner", e.DecidedBy)
		}
		return e, err
	}
	s.log.Info("expense decided", "expense_id", e.ID, "user_id", d.Reviewer, "on_behalf_of", d.OnBehalfOf, "decision", d.Outcome, "status", e.Status)
	if e.Status.Final() {
		s.cfg.Observer.Outcome(string(e.Status))
	}
	s.lookups.Person(d.Reviewer)
	s.kick()
	s.homes.Mark(e.SubmitterID)
	s.homes.MarkReviewers()
	return e, nil
}

// Comment adds a reviewer's remark to a pending expense; it is posted under the card and sent to
// the submitter, and the expense stays pending.
func (s *Service) Comment(ctx context.Context, user string, id int64, text string) error {
	if _, err := s.Authorize(ctx, user, id, ActionComment); err != nil {
		return err
	}
	if _, err := s.store.Comment(ctx, id, user, text); err != nil {
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			return fmt.Errorf("approval: comment on expense %d: %w", id, err)
		}
		return err
	}
	s.kick()
	return nil
}

// History returns user's latest expenses, newest first.
func (s *Service) History(ctx context.Context, user string, limit int) ([]expensebot.Expense, error) {
	return s.store.BySubmitter(ctx, user, 0, limit)
}
