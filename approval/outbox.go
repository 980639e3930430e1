package approval

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// RetryAfterError is a delivery the platform asked to try again after Wait. Method names the
// Web API method that was refused, when the pause is the method's rather than one
// conversation's ("" or chat.postMessage: the conversation's).
type RetryAfterError struct {
	Wait   time.Duration
	Method string
	Err    error
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

// deliverLoop claims due notices until ctx ends and hands them to their lanes, which deliver on
// work: work outlives ctx, so that a post in flight at shutdown finishes and is recorded instead
// of being repeated later. Then the lanes stop starting posts, and what they had not started is
// handed back at once.
func (s *Service) deliverLoop(ctx, work context.Context) {
	d := newDispatcher(s, work)
	s.disp.Store(d)
	stopRecorder := make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Go(func() { d.recordLoop(stopRecorder) })
	helpers.Go(func() { s.renewLoop(ctx, d) })
	defer func() {
		s.disp.Store(nil)
		left := d.stop()
		close(stopRecorder)
		helpers.Wait()
		rec, cancel := context.WithTimeout(context.WithoutCancel(work), recordTimeout)
		defer cancel()
		if err := s.store.ReleaseNotices(rec, left); err != nil {
			s.log.Error("hand back notices", "notices", len(left), "err", err)
		}
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		if ctx.Err() != nil {
			return
		}
		claimed := 0
		if room := min(d.room(), noticeBatch); room > 0 {
			// The claim runs on work, not ctx: a claim cancelled half way could commit without
			// its notices reaching us, and they would wait a whole lease for another instance.
			notices, err := s.store.ClaimNotices(work, room, s.cfg.NoticeLease)
			if err != nil && work.Err() == nil {
				s.log.Error("claim notices", "err", err)
			}
			d.add(notices)
			claimed = len(notices)
		}
		if claimed == noticeBatch {
			continue // more may be due
		}
		t.Reset(idleRecheck)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-d.freed:
		case <-t.C:
		}
	}
}

// renewLoop keeps the leases of the notices in flight, every third of a lease, until ctx ends.
// The lease is short, so that notices of an instance that died are taken over within seconds; the
// renewal keeps a slow Slack from handing them over while they are worked on.
func (s *Service) renewLoop(ctx context.Context, d *dispatcher) {
	t := time.NewTicker(s.cfg.NoticeLease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.store.RenewNotices(d.work, d.ids(), s.cfg.NoticeLease); err != nil && d.work.Err() == nil {
				s.log.Warn("renew notice leases", "err", err)
			}
		}
	}
}

// deliverOne delivers n and returns it as delivered, for the caller to record. When Slack asked
// to wait, it returns how long and for which method (the caller keeps the notice and waits);
// any other failure is recorded here, with its retry. routed, when not nil, is the expense as
// its route left it, for a notice that tells of the route.
func (s *Service) deliverOne(ctx context.Context, n expensebot.Notice, routed *expensebot.Expense) (delivered expensebot.Delivered, ok bool, retry time.Duration, method string) {
	start := time.Now()
	ev, err := s.deliver(ctx, n, routed)
	if err == nil {
		s.log.Debug("notice delivered", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "latency_ms", time.Since(start).Milliseconds())
		return expensebot.Delivered{NoticeID: n.ID, Event: ev}, true, 0, ""
	}
	// Slack's 429 (a Method is named) is waited out in the lane, in memory, keeping the order;
	// other retries (a callback receiver's) go through the database with their attempts counted.
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.Method != "" && ra.Wait > 0 && ra.Wait <= maxBackoff && ctx.Err() == nil {
		s.log.Info("Slack asked to wait; the conversation's lane waits", "notice_id", n.ID, "method", ra.Method, "retry_in", ra.Wait)
		return expensebot.Delivered{}, false, ra.Wait, ra.Method
	}
	// Recording the outcome must happen even when ctx was cancelled at the drain timeout.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
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
		return expensebot.Delivered{}, false, 0, ""
	case errors.As(err, &perm) && n.Attempts+1 >= 3, n.Attempts+1 >= giveUpAfter:
		s.log.Error("notice given up", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "attempts", n.Attempts+1, "err", err)
		if err := s.store.NoticeFailed(rec, n.ID, err.Error()); err != nil {
			s.log.Error("notice failed", "notice_id", n.ID, "err", err)
		}
		return expensebot.Delivered{}, false, 0, ""
	}
	s.log.Warn("notice not delivered; will retry", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "retry_in", delay, "err", err)
	if err := s.store.NoticeRetry(rec, n.ID, delay, err.Error()); err != nil {
		s.log.Error("notice retry", "notice_id", n.ID, "err", err)
	}
	return expensebot.Delivered{}, false, 0, ""
}

// deliver sends one notice, drawn from the expense as it is now (or as routed, when the notice
// tells of the route and came with it), and returns the audit event that records the delivery,
// if any.
func (s *Service) deliver(ctx context.Context, n expensebot.Notice, routed *expensebot.Expense) (*expensebot.AuditEvent, error) {
	var e expensebot.Expense
	if routed != nil {
		e = *routed
	} else {
		var err error
		if e, err = s.store.Expense(ctx, n.ExpenseID); err != nil {
			return nil, err
		}
	}
	switch n.Kind {
	case expensebot.NoticeSpotCheck, expensebot.NoticeUpdateSpot, expensebot.NoticeSpotFinding:
		return nil, s.deliverSpot(ctx, e, n)
	case expensebot.NoticePostReview:
		if e.ReviewMessageTS != "" {
			return nil, nil // posted before a crash; the update notices redraw it
		}
		e = s.refreshRelated(ctx, e)
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
		e = s.refreshRelated(ctx, e)
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
	case expensebot.NoticeShareReceipt:
		i := slices.IndexFunc(e.Receipts, func(r expensebot.Receipt) bool { return r.FileID == n.Text })
		switch {
		case i < 0 || s.cfg.Files == nil || !e.Status.Info().LiveCard:
			return nil, nil // nothing to share, or no card to share it on (an automatic approval has no reviewer)
		case e.ReviewMessageTS == "":
			return nil, &RetryAfterError{Wait: 5 * time.Second, Err: errors.New("the card is not posted yet")}
		}
		if err := s.cfg.Files.ShareReceipt(ctx, e, e.Receipts[i]); err != nil {
			return nil, fmt.Errorf("share receipt: %w", err)
		}
		return nil, nil
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
	case expensebot.NoticeThread:
		if e.ReviewMessageTS == "" {
			return nil, nil // no card to reply under (it could never be posted)
		}
		if n.Event == expensebot.EventReminded && !e.Status.Info().Reviewers.Has(expensebot.ActDecide) {
			return nil, nil // decided since: a late reminder would only confuse
		}
		if n.Event == expensebot.EventReminded || n.Event == expensebot.EventEscalated {
			// Who may decide it now, and who stands in for them: the expense as it is, not as it
			// was when the timer fired.
			delegations, err := s.store.Delegations(ctx)
			if err != nil {
				return nil, err
			}
			n.Mention, n.Delegates = s.deciders(e), s.activeFor(ctx, e, delegations)
		}
		if err := s.msg.PostThread(ctx, e, n); err != nil {
			return nil, fmt.Errorf("thread reply: %w", err)
		}
		return nil, nil
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
