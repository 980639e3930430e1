package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// Notices are delivered after the commit that queued them and retried until Slack takes them:
// a 429 waits for Retry-After; other failures back off exponentially up to five minutes. A notice
// Slack will never take (invalid blocks, a deleted channel after many tries) is set aside as failed
// and logged for an operator.

const (
	noticeLease   = time.Minute
	noticeBatch   = 32
	maxBackoff    = 5 * time.Minute
	giveUpAfter   = 25
	idleRecheck   = time.Second
	deliverWorker = 8
)

// permanent errors will not succeed however often they are retried.
var permanent = []string{"invalid_blocks", "invalid_blocks_format", "invalid_arguments", "msg_too_long", "no_text", "cant_update_message"}

// Deliver runs the notice deliverer until ctx ends.
func (a *App) Deliver(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		n := a.DeliverDue(ctx)
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
		case <-a.wake:
		case <-t.C:
		}
	}
}

// DeliverDue delivers the notices due now, several at a time, and returns how many it claimed.
func (a *App) DeliverDue(ctx context.Context) int {
	notices, err := a.store.ClaimNotices(ctx, noticeBatch, noticeLease)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("claim notices", "err", err)
		}
		return 0
	}
	// Notices of one expense are claimed one at a time, so delivering in parallel keeps each
	// expense's order.
	sem := make(chan struct{}, deliverWorker)
	var wg sync.WaitGroup
	for _, n := range notices {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			a.deliverOne(ctx, n)
		}()
	}
	wg.Wait()
	return len(notices)
}

func (a *App) deliverOne(ctx context.Context, n expensebot.Notice) {
	start := time.Now()
	ev, err := a.deliver(ctx, n)
	if err == nil {
		if err := a.store.NoticeDone(context.WithoutCancel(ctx), n.ID, ev); err != nil {
			a.log.Error("notice done", "notice_id", n.ID, "err", err)
		}
		a.log.Debug("notice delivered", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "latency_ms", time.Since(start).Milliseconds())
		return
	}
	var rl *slack.RateLimitedError
	delay := min(time.Duration(1<<min(n.Attempts, 12))*time.Second, maxBackoff)
	switch {
	case errors.As(err, &rl):
		delay = rl.RetryAfter
	case isPermanent(err) && n.Attempts+1 >= 3, n.Attempts+1 >= giveUpAfter:
		a.log.Error("notice given up", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "attempts", n.Attempts+1, "err", err)
		if err := a.store.NoticeFailed(context.WithoutCancel(ctx), n.ID, err.Error()); err != nil {
			a.log.Error("notice failed", "notice_id", n.ID, "err", err)
		}
		return
	}
	a.log.Warn("notice not delivered; will retry", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "retry_in", delay, "err", err)
	if err := a.store.NoticeRetry(context.WithoutCancel(ctx), n.ID, delay, err.Error()); err != nil {
		a.log.Error("notice retry", "notice_id", n.ID, "err", err)
	}
}

func isPermanent(err error) bool {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return slices.Contains(permanent, se.Err)
	}
	return slices.Contains(permanent, err.Error())
}

// deliver sends one notice, rendered from the expense as it is now, and returns the audit event
// that records the delivery, if any.
func (a *App) deliver(ctx context.Context, n expensebot.Notice) (*expensebot.AuditEvent, error) {
	e, err := a.store.Expense(ctx, n.ExpenseID)
	if err != nil {
		return nil, err
	}
	switch n.Kind {
	case expensebot.NoticePostReview:
		if e.ReviewMessageTS != "" {
			return nil, nil // posted before a crash; the update notices redraw it
		}
		channel := e.ReviewChannel
		if channel == "" {
			channel = a.cfg.ApprovalsChannel
		}
		ch, ts, err := a.slack.PostMessageContext(ctx, channel, approvalMessage(e, a.receiptLinks(ctx, e)).options()...)
		if err != nil {
			return nil, fmt.Errorf("post approvals message: %w", err)
		}
		if err := a.store.SetReviewMessage(ctx, e.ID, ch, ts); err != nil {
			return nil, err
		}
		return nil, nil
	case expensebot.NoticeUpdateReview:
		if e.ReviewMessageTS == "" {
			return nil, nil // the post notice draws the current state
		}
		if _, _, _, err := a.slack.UpdateMessageContext(ctx, e.ReviewChannel, e.ReviewMessageTS, approvalMessage(e, a.receiptLinks(ctx, e)).options()...); err != nil {
			return nil, fmt.Errorf("update approvals message: %w", err)
		}
		return nil, nil
	case expensebot.NoticeTellSubmitter:
		if _, _, err := a.slack.PostMessageContext(ctx, e.SubmitterID, submitterNotice(e, n).options()...); err != nil {
			return nil, fmt.Errorf("DM submitter: %w", err)
		}
		ev := expensebot.NewEvent(e.ID, expensebot.EventNotified, expensebot.ActorSystem, map[string]string{"to": e.SubmitterID, "about": n.Event})
		return &ev, nil
	case expensebot.NoticeComment:
		m := commentNotice(e, n)
		if e.ReviewMessageTS != "" {
			opts := append(m.options(), slack.MsgOptionTS(e.ReviewMessageTS))
			if _, _, err := a.slack.PostMessageContext(ctx, e.ReviewChannel, opts...); err != nil {
				return nil, fmt.Errorf("thread comment: %w", err)
			}
		}
		if _, _, err := a.slack.PostMessageContext(ctx, e.SubmitterID, m.options()...); err != nil {
			return nil, fmt.Errorf("DM comment: %w", err)
		}
		ev := expensebot.NewEvent(e.ID, expensebot.EventNotified, expensebot.ActorSystem, map[string]string{"to": e.SubmitterID, "about": n.Event})
		return &ev, nil
	}
	return nil, fmt.Errorf("unknown notice kind %q", n.Kind)
}

// receiptLinks looks up the receipts' permalinks; a receipt that cannot be looked up is shown by id.
func (a *App) receiptLinks(ctx context.Context, e expensebot.Expense) map[string]string {
	links := map[string]string{}
	for _, id := range e.ReceiptFileIDs {
		f, _, _, err := a.slack.GetFileInfoContext(ctx, id, 0, 0)
		if err != nil || f == nil || f.Permalink == "" {
			continue
		}
		links[id] = f.Permalink
	}
	return links
}
