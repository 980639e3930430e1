package approval

import (
	"context"
	"fmt"

	"github.com/expensebot/expensebot"
)

// ActionSpotCheck is a spot check's Confirm or Flag, and ActionSpotSettle a flagged one's Clear
// or Do not pay, as recorded when they are refused.
const (
	ActionSpotCheck  = "spot_check"
	ActionSpotSettle = "spot_settle"
)

// AuthorizeSpotCheck loads expense id and its spot check and checks that user may confirm or
// flag it: one of the configured reviewers (spot checks follow no route), never the submitter.
// A refusal is recorded in the audit trail. Returns EFORBIDDEN, ENOTFOUND, ECONFLICT with the
// spot check as it stands when it was already resolved, or an internal error.
func (s *Service) AuthorizeSpotCheck(ctx context.Context, user string, id int64) (expensebot.Expense, expensebot.SpotCheck, error) {
	e, err := s.store.Expense(ctx, id)
	if err != nil {
		return e, expensebot.SpotCheck{}, err
	}
	sc, err := s.store.SpotCheck(ctx, id)
	if err != nil {
		return e, sc, err
	}
	refuse := func(err *expensebot.Error) (expensebot.Expense, expensebot.SpotCheck, error) {
		s.log.Info("spot check refused", "expense_id", id, "user_id", user, "why", err.Message)
		if aerr := s.store.AppendEvent(ctx, expensebot.NewEvent(id, expensebot.EventRefused, user, map[string]string{"action": ActionSpotCheck, "why": err.Message})); aerr != nil {
			s.log.Error("audit refusal", "expense_id", id, "err", aerr)
		}
		return e, sc, err
	}
	ok, err := s.reviewers.allowed(ctx, user, nil)
	switch {
	case err != nil:
		s.log.Warn("reviewer lookup failed; refusing", "user_id", user, "err", err)
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "I could not check who may decide expenses just now (Slack did not answer). Please try again in a minute."))
	case !ok:
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "Only the configured reviewers can confirm or flag spot checks."))
	case e.SubmitterID == user:
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot spot-check your own expense; another reviewer must."))
	case sc.Status != expensebot.SpotCheckDrawn:
		return e, sc, expensebot.Errorf(expensebot.ECONFLICT, "The spot check of expense #%d was already %s.", id, sc.Status)
	}
	return e, sc, nil
}

// ResolveSpotCheck records, exactly once, that user found nothing wrong with a spot-checked
// expense (flag false) or what they found (flag true, finding required). The automatic approval
// stands either way; a flag is told to finance in the message's thread. Errors as
// [Service.AuthorizeSpotCheck], and EINVALID for a flag without a finding.
func (s *Service) ResolveSpotCheck(ctx context.Context, user string, id int64, flag bool, finding string) (expensebot.SpotCheck, error) {
	if _, sc, err := s.AuthorizeSpotCheck(ctx, user, id); err != nil {
		return sc, err
	}
	sc, err := s.store.ResolveSpotCheck(ctx, id, user, flag, finding)
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			return sc, fmt.Errorf("approval: spot check of expense %d: %w", id, err)
		}
		return sc, err
	}
	s.log.Info("spot check resolved", "expense_id", id, "user_id", user, "status", sc.Status)
	s.lookups.Person(user)
	s.kick()
	return sc, nil
}

// AuthorizeSpotSettle loads expense id and its spot check and checks that user may settle its
// flag (clear it or uphold it): one of the configured reviewers or of finance (EXPENSEBOT_FINANCE,
// users or user groups), never the submitter; whoever flagged it may settle it too. A refusal is
// recorded in the audit trail. Returns EFORBIDDEN, ENOTFOUND, ECONFLICT with the spot check as it
// stands when it is not flagged (settled already, or never flagged), or an internal error.
func (s *Service) AuthorizeSpotSettle(ctx context.Context, user string, id int64) (expensebot.Expense, expensebot.SpotCheck, error) {
	e, err := s.store.Expense(ctx, id)
	if err != nil {
		return e, expensebot.SpotCheck{}, err
	}
	sc, err := s.store.SpotCheck(ctx, id)
	if err != nil {
		return e, sc, err
	}
	refuse := func(err *expensebot.Error) (expensebot.Expense, expensebot.SpotCheck, error) {
		s.log.Info("spot check settlement refused", "expense_id", id, "user_id", user, "why", err.Message)
		if aerr := s.store.AppendEvent(ctx, expensebot.NewEvent(id, expensebot.EventRefused, user, map[string]string{"action": ActionSpotSettle, "why": err.Message})); aerr != nil {
			s.log.Error("audit refusal", "expense_id", id, "err", aerr)
		}
		return e, sc, err
	}
	ok, rerr := s.reviewers.allowed(ctx, user, nil)
	if !ok {
		var ferr error
		ok, ferr = s.reviewers.contains(ctx, s.cfg.Finance, user)
		if rerr == nil {
			rerr = ferr
		}
	}
	switch {
	case !ok && rerr != nil:
		s.log.Warn("reviewer or finance lookup failed; refusing", "user_id", user, "err", rerr)
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "I could not check who may settle spot checks just now (Slack did not answer). Please try again in a minute."))
	case !ok:
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "Only the configured reviewers and finance can clear a flagged spot check or say it must not be paid."))
	case e.SubmitterID == user:
		return refuse(expensebot.Errorf(expensebot.EFORBIDDEN, "You cannot settle the spot check of your own expense; another reviewer must."))
	case sc.Status != expensebot.SpotCheckFlagged:
		return e, sc, expensebot.Errorf(expensebot.ECONFLICT, "The spot check of expense #%d is not waiting to be settled: it is %s.", id, sc.Status)
	}
	return e, sc, nil
}

// SettleSpotCheck records, exactly once, that user cleared a flagged spot check (clear true: the
// expense may be exported for payment) or upheld it (it must not be paid), with a reason that
// finance is told in the message's thread. Errors as [Service.AuthorizeSpotSettle], and EINVALID
// without a reason.
func (s *Service) SettleSpotCheck(ctx context.Context, user string, id int64, clear bool, reason string) (expensebot.SpotCheck, error) {
	if _, sc, err := s.AuthorizeSpotSettle(ctx, user, id); err != nil {
		return sc, err
	}
	sc, err := s.store.SettleSpotCheck(ctx, id, user, clear, reason)
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			return sc, fmt.Errorf("approval: settle spot check of expense %d: %w", id, err)
		}
		return sc, err
	}
	s.log.Info("spot check settled", "expense_id", id, "user_id", user, "status", sc.Status)
	s.lookups.Person(user)
	s.kick()
	return sc, nil
}

// deliverSpot delivers the notices of a spot check: its message, its redraw, and the word to
// finance when it was flagged.
func (s *Service) deliverSpot(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error {
	sc, err := s.store.SpotCheck(ctx, e.ID)
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.ENOTFOUND {
			return &PermanentError{Err: err}
		}
		return err
	}
	switch n.Kind {
	case expensebot.NoticeSpotCheck:
		if sc.MessageTS != "" {
			return nil // posted before a crash
		}
		ch, ts, err := s.msg.PostSpotCheck(ctx, e, sc, s.rules().settings.ApprovalsChannel, n)
		if err != nil {
			return fmt.Errorf("post spot check: %w", err)
		}
		return s.store.SetSpotMessage(ctx, e.ID, ch, ts)
	case expensebot.NoticeUpdateSpot:
		if sc.MessageTS == "" {
			return nil // the post draws the current state
		}
		if err := s.msg.UpdateSpotCheck(ctx, e, sc); err != nil {
			return fmt.Errorf("update spot check: %w", err)
		}
		return nil
	}
	if err := s.msg.TellFinance(ctx, e, sc, n, s.cfg.Finance); err != nil {
		return fmt.Errorf("tell finance: %w", err)
	}
	return nil
}
