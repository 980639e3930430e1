package approval

import (
	"context"
	"slices"
	"time"

	"github.com/expensebot/expensebot"
)

// Timers live in the database: each pending expense carries when it is next reminded, when it
// is escalated and when it expires. Every instance looks for due ones every Config.TimerEvery and
// fires them through the store, whose conditional updates let exactly one instance fire each;
// a restart or a second instance neither loses nor repeats one.

// timerBatch is how many due expenses one look takes; the next look takes the rest.
const timerBatch = 100

// fireTimers fires due timers, logging a failure (the next pass tries again).
func (s *Service) fireTimers(ctx context.Context) {
	if _, err := s.RunTimers(ctx); err != nil && ctx.Err() == nil {
		s.log.Error("run timers", "err", err)
	}
}

// RunTimers fires the reminders, escalations and expiries due at the workflow's clock, and
// returns how many this call fired (others may have been fired by another instance). An expense
// due to expire is only expired; one due for both is escalated before it is reminded, so that the
// reminder names who was added.
func (s *Service) RunTimers(ctx context.Context) (int, error) {
	if n, err := s.store.ScheduleTimers(ctx, s.rules().settings.Timing); err != nil {
		return 0, err
	} else if n > 0 {
		s.log.Info("timers set for expenses routed without them", "expenses", n)
	}
	if n, err := s.expireDrafts(ctx); err != nil {
		if ctx.Err() == nil {
			s.log.Error("expire drafts", "err", err)
		}
	} else if n > 0 {
		s.log.Info("drafts expired", "drafts", n)
	}
	due, err := s.store.DueTimers(ctx, timerBatch)
	if err != nil {
		return 0, err
	}
	fired := 0
	count := func(what string, e expensebot.Expense, ok bool, err error) {
		switch {
		case err != nil:
			if ctx.Err() == nil {
				s.log.Error(what, "expense_id", e.ID, "err", err)
			}
		case ok:
			fired++
			s.log.Info(what, "expense_id", e.ID)
			s.homes.Mark(e.SubmitterID)
		}
	}
	now := s.Now()
	isDue := func(t time.Time) bool { return !t.IsZero() && !t.After(now) }
	for _, e := range due {
		if isDue(e.ExpiresAt) {
			ok, err := s.store.Expire(ctx, e.ID)
			count("expense expired", e, ok, err)
			if ok {
				s.cfg.Observer.Outcome(string(expensebot.StatusExpired))
			}
			continue
		}
		if isDue(e.EscalateAt) {
			reviewers, add := s.escalation(e)
			ok, err := s.store.Escalate(ctx, e.ID, reviewers, add)
			count("expense escalated", e, ok, err)
		}
		if isDue(e.RemindAt) {
			ok, err := s.store.Remind(ctx, e.ID, s.rules().settings.Timing.RemindAfter)
			count("reviewers reminded", e, ok, err)
		}
	}
	if fired > 0 {
		s.kick()
		s.homes.MarkReviewers()
	}
	return fired, nil
}

// escalation returns who may decide e once escalated, and who of them is new.
func (s *Service) escalation(e expensebot.Expense) (reviewers, add []string) {
	reviewers = slices.Clone(s.deciders(e))
	for _, id := range s.rules().settings.EscalateTo {
		if !slices.Contains(reviewers, id) {
			reviewers = append(reviewers, id)
			add = append(add, id)
		}
	}
	return reviewers, add
}
