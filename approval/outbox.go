package approval

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
)

// Notices are delivered after the commit that queued them and retried until they get through: a
// RetryAfterError waits as asked; other failures back off exponentially up to five minutes. A
// notice that can never be delivered is set aside as failed and logged for an operator.

const (
	noticeBatch   = 32
	maxBackoff    = 5 * time.Minute
	giveUpAfter   = 25
	idleRecheck   = time.Second
	deliverWorker = 8
	recordTimeout = 5 * time.Second
)

// RetryAfterError is a delivery the platform asked to try again after Wait.
type RetryAfterError struct {
	Wait time.Duration
	Err  error
}

func (e *RetryAfterError) Error() string { return fmt.Sprintf("retry after %s: %v", e.Wait, e.Err) }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// BlockedError is a delivery refused for a reason only an administrator can fix: the bot is not
// in the channel, the channel is archived or gone, the token was revoked. Retrying soon cannot
// help; a channel check releases it once the channel works.
type BlockedError struct{ Err error }

func (e *BlockedError) Error() string { return e.Err.Error() }
func (e *BlockedError) Unwrap() error { return e.Err }

// blockedRetry is how long a blocked notice waits when no check releases it earlier.
const blockedRetry = time.Hour

// PermanentError is a delivery that will fail however often it is tried.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// deliverLoop claims due notices until ctx ends and delivers them on work, which outlives ctx so
// that a post in flight at shutdown finishes and is recorded instead of being repeated later.
func (s *Service) deliverLoop(ctx, work context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		n := s.deliverDue(ctx, work)
		if ctx.Err() != nil {
			return
		}
		if n == noticeBatch {
			continue // more may be due
		}
		t.Reset(idleRecheck)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// deliverDue delivers the notices due now, several at a time, and returns how many it claimed.
func (s *Service) deliverDue(ctx, work context.Context) int {
	lease := s.cfg.NoticeLease
	if ctx.Err() != nil {
		return 0
	}
	// The claim runs on work, not ctx: a claim cancelled half way could commit without its
	// notices reaching us, and they would wait a whole lease for another instance.
	notices, err := s.store.ClaimNotices(work, noticeBatch, lease)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("claim notices", "err", err)
		}
		return 0
	}
	if len(notices) == 0 {
		return 0
	}
	// The lease is short, so that notices of an instance that died are taken over within seconds,
	// and renewed while this batch is worked on, so that a slow Slack does not hand them over.
	ids := make([]int64, len(notices))
	for i, n := range notices {
		ids[i] = n.ID
	}
	renewing := make(chan struct{})
	var renewer sync.WaitGroup
	renewer.Go(func() {
		t := time.NewTicker(lease / 3)
		defer t.Stop()
		for {
			select {
			case <-renewing:
				return
			case <-t.C:
				if err := s.store.RenewNotices(work, ids, lease); err != nil && work.Err() == nil {
					s.log.Warn("renew notice leases", "err", err)
				}
			}
		}
	})
	defer func() { close(renewing); renewer.Wait() }()
	// Notices of one expense are claimed one at a time, so delivering in parallel keeps each
	// expense's order.
	sem := make(chan struct{}, deliverWorker)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var done []expensebot.Delivered
	for _, n := range notices {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if d, ok := s.deliverOne(work, n); ok {
				mu.Lock()
				done = append(done, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// The batch's deliveries are recorded together, one commit for many; a crash before it
	// leaves them to be found in Slack by the next attempt, not posted twice.
	if len(done) > 0 {
		rec, cancel := context.WithTimeout(context.WithoutCancel(work), recordTimeout)
		if err := s.store.NoticesDone(rec, done); err != nil {
			s.log.Error("notices done", "notices", len(done), "err", err)
		}
		cancel()
	}
	return len(notices)
}

// deliverOne delivers n and returns it as delivered, for the caller to record; a failure is
// recorded here, with its retry.
func (s *Service) deliverOne(ctx context.Context, n expensebot.Notice) (expensebot.Delivered, bool) {
	start := time.Now()
	ev, err := s.deliver(ctx, n)
	if err == nil {
		s.log.Debug("notice delivered", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "latency_ms", time.Since(start).Milliseconds())
		return expensebot.Delivered{NoticeID: n.ID, Event: ev}, true
	}
	// Recording the outcome must happen even when ctx was cancelled at the drain timeout.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var ra *RetryAfterError
	var perm *PermanentError
	var blocked *BlockedError
	delay := min(time.Duration(1<<min(n.Attempts, 12))*time.Second, maxBackoff)
	switch {
	case errors.As(err, &ra):
		delay = ra.Wait
	case errors.As(err, &blocked):
		channel := s.noticeChannel(rec, n)
		s.log.Error("Slack refused a notice until an administrator acts; it waits for the channel to work", "notice_id", n.ID, "kind", n.Kind,
			"expense_id", n.ExpenseID, "channel", channel, "err", err)
		tell := n.Kind == expensebot.NoticePostReview // the submitter hears once that the card waits
		if err := s.store.NoticeBlocked(rec, n, channel, err.Error(), blockedRetry, tell); err != nil {
			s.log.Error("block notice", "notice_id", n.ID, "err", err)
		}
		return expensebot.Delivered{}, false
	case errors.As(err, &perm) && n.Attempts+1 >= 3, n.Attempts+1 >= giveUpAfter:
		s.log.Error("notice given up", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "attempts", n.Attempts+1, "err", err)
		if err := s.store.NoticeFailed(rec, n.ID, err.Error()); err != nil {
			s.log.Error("notice failed", "notice_id", n.ID, "err", err)
		}
		return expensebot.Delivered{}, false
	}
	s.log.Warn("notice not delivered; will retry", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "retry_in", delay, "err", err)
	if err := s.store.NoticeRetry(rec, n.ID, delay, err.Error()); err != nil {
		s.log.Error("notice retry", "notice_id", n.ID, "err", err)
	}
	return expensebot.Delivered{}, false
}

// deliver sends one notice, drawn from the expense as it is now, and returns the audit event that
// records the delivery, if any.
func (s *Service) deliver(ctx context.Context, n expensebot.Notice) (*expensebot.AuditEvent, error) {
	e, err := s.store.Expense(ctx, n.ExpenseID)
	if err != nil {
		return nil, err
	}
	switch n.Kind {
	case expensebot.NoticePostReview:
		if e.ReviewMessageTS != "" {
			return nil, nil // posted before a crash; the update notices redraw it
		}
		if e.ReviewChannel == "" {
			e.ReviewChannel = s.cfg.ApprovalsChannel
		}
		ch, ts, err := s.msg.PostReview(ctx, e, n)
		if err != nil {
			return nil, fmt.Errorf("post approval card: %w", err)
		}
		if err := s.store.SetReviewMessage(ctx, e.ID, ch, ts); err != nil {
			return nil, err
		}
		return nil, nil
	case expensebot.NoticeUpdateReview:
		if e.ReviewMessageTS == "" {
			return nil, nil // the post notice draws the current state
		}
		if err := s.msg.UpdateReview(ctx, e); err != nil {
			return nil, fmt.Errorf("update approval card: %w", err)
		}
		return nil, nil
	case expensebot.NoticeTellSubmitter:
		if err := s.msg.TellSubmitter(ctx, e, n); err != nil {
			return nil, fmt.Errorf("DM submitter: %w", err)
		}
		return notified(e, n), nil
	case expensebot.NoticeComment:
		if err := s.msg.PostComment(ctx, e, n); err != nil {
			return nil, fmt.Errorf("comment: %w", err)
		}
		return notified(e, n), nil
	case expensebot.NoticeCallback:
		if s.cfg.Callbacks == nil {
			// Kept, not failed: the operator may yet configure callbacks and restart.
			return nil, &RetryAfterError{Wait: maxBackoff, Err: errors.New("API callbacks are not configured")}
		}
		ev, err := s.cfg.Callbacks.Callback(ctx, e, n)
		if err != nil {
			return nil, fmt.Errorf("callback: %w", err)
		}
		return &ev, nil
	}
	return nil, &PermanentError{fmt.Errorf("unknown notice kind %q", n.Kind)}
}

// noticeChannel is the channel a notice posts to, for naming what blocks it.
func (s *Service) noticeChannel(ctx context.Context, n expensebot.Notice) string {
	if n.Kind == expensebot.NoticeTellSubmitter {
		return ""
	}
	e, err := s.store.Expense(ctx, n.ExpenseID)
	if err != nil || e.ReviewChannel == "" {
		return s.cfg.ApprovalsChannel
	}
	return e.ReviewChannel
}

func notified(e expensebot.Expense, n expensebot.Notice) *expensebot.AuditEvent {
	ev := expensebot.NewEvent(e.ID, expensebot.EventNotified, expensebot.ActorSystem, map[string]string{"to": e.SubmitterID, "about": n.Event})
	return &ev
}
