package approval

import (
	"context"
	"fmt"
	"time"

	"github.com/expensebot/expensebot"
)

// Submit stores an accepted expense and queues its assessment. It reports whether the expense is
// new: a second submission with the same idempotency key returns the first, and created false.
// Returns EINVALID for an expense that breaks a rule, and an internal error when it could not be
// saved.
func (s *Service) Submit(ctx context.Context, e expensebot.Expense) (expensebot.Expense, bool, error) {
	saved, created, err := s.store.Submit(ctx, e)
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			return saved, false, fmt.Errorf("approval: submit for %s: %w", e.SubmitterID, err)
		}
		return saved, false, err
	}
	if !created {
		s.log.Info("duplicate submission ignored", "expense_id", saved.ID)
		return saved, false, nil
	}
	s.log.Info("expense submitted", "expense_id", saved.ID, "user_id", saved.SubmitterID, "amount", saved.Amount.String())
	s.homes.mark(saved.SubmitterID)
	s.enqueue(saved.ID)
	return saved, true, nil
}

// process assesses and routes an accepted expense: the AI's advice, then the policy's route,
// recorded with its notices in one transaction. It is also how work resumes after a restart.
func (s *Service) process(ctx context.Context, id int64) {
	e, err := s.store.StartAssessment(ctx, id, s.cfg.AssessLease)
	if err != nil {
		if expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			s.log.Error("start assessment", "expense_id", id, "err", err)
		}
		return
	}
	var assessment *expensebot.Assessment
	if s.assessor != nil {
		start := time.Now()
		assessment, err = s.assessor.Assess(ctx, e)
		if err != nil {
			s.log.Warn("AI assessment failed; a person will decide", "expense_id", id, "err", err, "latency_ms", time.Since(start).Milliseconds())
		}
	}
	routed, err := s.store.Route(ctx, id, assessment, s.route(e, assessment))
	if err != nil {
		if expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			s.log.Error("route", "expense_id", id, "err", err)
		}
		return
	}
	s.log.Info("expense routed", "expense_id", id, "status", routed.Status, "approvals_required", routed.ApprovalsRequired)
	s.kick()
	s.homes.mark(routed.SubmitterID)
	if routed.Status == expensebot.StatusPendingReview {
		s.homes.markReviewers()
	}
}
