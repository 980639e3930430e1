package approval

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/notify"
)

// recordTimeout bounds recording an outcome after ctx was cancelled.
const recordTimeout = 5 * time.Second

// The failures of a delivery, as package notify names them; a [Messenger] or [Callbacks] wraps its
// errors in them.
type (
	RetryAfterError = notify.RetryAfterError
	BlockedError    = notify.BlockedError
	PermanentError  = notify.PermanentError
)

// Notices are the workflow's side of delivering notices: what each one says and to whom
// (delivery.Sender). The delivery claims, paces and retries them.
type Notices struct{ s *Service }

// Notices returns what the delivery calls to say each notice.
func (s *Service) Notices() Notices { return Notices{s} }

// Send delivers n; see [Service.deliver].
func (ns Notices) Send(ctx context.Context, n expensebot.Notice, routed *expensebot.Expense) (*expensebot.AuditEvent, error) {
	return ns.s.deliver(ctx, n, routed)
}

// Channel is the channel n posts to, for naming what blocks it.
func (ns Notices) Channel(ctx context.Context, n expensebot.Notice) string {
	return ns.s.noticeChannel(ctx, n)
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
			e.ReviewChannel = s.rules().settings.ApprovalsChannel
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
		if n.Event == expensebot.EventPaid {
			// A payout is recorded outside the workflow (the command line, the API): its notice
			// is the workflow's first news of it, and the App Home's "owed to you" changed.
			s.homes.Mark(e.SubmitterID)
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
			return nil, &RetryAfterError{Wait: notify.MaxBackoff, Err: errors.New("API callbacks are not configured")}
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
	return nil, &PermanentError{Err: fmt.Errorf("unknown notice kind %q", n.Kind)}
}

// noticeChannel is the channel a notice posts to, for naming what blocks it.
func (s *Service) noticeChannel(ctx context.Context, n expensebot.Notice) string {
	if n.Kind == expensebot.NoticeTellSubmitter {
		return ""
	}
	e, err := s.store.Expense(ctx, n.ExpenseID)
	if err != nil || e.ReviewChannel == "" {
		return s.rules().settings.ApprovalsChannel
	}
	return e.ReviewChannel
}

func notified(e expensebot.Expense, n expensebot.Notice) *expensebot.AuditEvent {
	ev := expensebot.NewEvent(e.ID, expensebot.EventNotified, expensebot.ActorSystem, map[string]string{"to": e.SubmitterID, "about": n.Event})
	return &ev
}
