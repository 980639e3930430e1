// Package delivery gets the workflow's notices out: it claims them from the outbox, leases them
// while they are worked on, delivers them in one lane per destination and retries what did not get
// through. What a notice says, and to whom, is the [Sender]'s business; how fast a destination may
// be written to is the [Pacer]'s. It knows no workflow, Slack, SQL or model API.
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/notify"
)

// Notices are delivered after the commit that queued them and retried until they get through: a
// RetryAfterError waits as asked; other failures back off exponentially up to five minutes. A
// notice that can never be delivered is set aside as failed and logged for an operator.

const (
	noticeBatch   = 32
	maxBackoff    = notify.MaxBackoff
	giveUpAfter   = 25
	idleRecheck   = time.Second
	recordTimeout = 5 * time.Second
)

// blockedRetry is how long a blocked notice waits when no check releases it earlier.
const blockedRetry = time.Hour

// Store is what delivery needs of the outbox (*store.DB has it).
type Store interface {
	ClaimNotices(ctx context.Context, limit int, lease time.Duration) ([]expensebot.Notice, error)
	RenewNotices(ctx context.Context, ids []int64, lease time.Duration) error
	ReleaseNotices(ctx context.Context, ids []int64) error
	NoticesDone(ctx context.Context, done []expensebot.Delivered) error
	NoticeRetry(ctx context.Context, id int64, after time.Duration, reason string) error
	NoticeFailed(ctx context.Context, id int64, reason string) error
	NoticeBlocked(ctx context.Context, n expensebot.Notice, channel, reason string, retry time.Duration, tell bool) error
}

// Sender says one notice (the workflow's notices are one). Its errors may wrap the failures of
// package notify: a [notify.RetryAfterError] is waited out, a [notify.BlockedError] waits for an
// administrator, a [notify.PermanentError] is given up soon.
type Sender interface {
	// Send delivers n, drawn from routed when not nil (the expense as the route that queued n
	// left it), and returns the audit event that records the delivery, if any.
	Send(ctx context.Context, n expensebot.Notice, routed *expensebot.Expense) (*expensebot.AuditEvent, error)
	// Channel names the channel n posts to, for an operator told what blocks it.
	Channel(ctx context.Context, n expensebot.Notice) string
}

// Pacer keeps the posts to one conversation, and the calls of one method, within the platform's
// limits. Safe for concurrent use.
type Pacer interface {
	// Wait returns 0 and spends n's slot in conversation, or returns how long n must wait and
	// spends nothing.
	Wait(conversation string, n expensebot.Notice, now time.Time) time.Duration
	// Pause holds back what the platform refused for d: the conversation, or the whole method.
	Pause(conversation, method string, d time.Duration, now time.Time)
}

// Config configures a Deliverer.
type Config struct {
	ApprovalsChannel string        // where a notice with no destination goes
	Lease            time.Duration // how long a claimed notice is another instance's, renewed while it is worked on (default 10s)
	Pacer            Pacer         // nil: only the platform's Retry-After paces
}

// Deliverer delivers the outbox's notices while Run runs. Its methods are safe for concurrent use.
type Deliverer struct {
	store Store
	send  Sender
	cfg   Config
	log   *slog.Logger

	wake chan struct{}              // kicks the claimer after a commit
	disp atomic.Pointer[dispatcher] // the notice lanes, while Run runs
}

// New returns a Deliverer of the notices in st, said by send.
func New(st Store, send Sender, cfg Config, log *slog.Logger) *Deliverer {
	if cfg.Lease <= 0 {
		cfg.Lease = 10 * time.Second
	}
	return &Deliverer{store: st, send: send, cfg: cfg, log: log, wake: make(chan struct{}, 1)}
}

// Kick says that notices were committed: they are claimed now, not at the next look.
func (dl *Deliverer) Kick() {
	select {
	case dl.wake <- struct{}{}:
	default:
	}
}

// Claim is the lease to claim notices with in the transaction that queues them, for handing them
// straight to [Deliverer.Carry]; 0 when the lanes have no room or are not running.
func (dl *Deliverer) Claim() time.Duration {
	if d := dl.disp.Load(); d != nil && d.room() > 0 {
		return dl.cfg.Lease
	}
	return 0
}

// Carry queues notices claimed as they were queued, with the expenses they tell of as routed, by
// expense id (see [Sender.Send]). It reports false, and queues nothing, when the lanes are not
// running: the caller hands the notices back.
func (dl *Deliverer) Carry(ns []expensebot.Notice, routed map[int64]expensebot.Expense) bool {
	d := dl.disp.Load()
	return d != nil && d.carry(ns, routed)
}

// Run claims due notices until ctx ends and hands them to their lanes, which deliver on work:
// work outlives ctx, so that a post in flight at shutdown finishes and is recorded instead of
// being repeated later. Then the lanes stop starting posts, and what they had not started is
// handed back at once.
func (dl *Deliverer) Run(ctx, work context.Context) {
	d := newDispatcher(dl, work)
	dl.disp.Store(d)
	stopRecorder, stopRenewing := make(chan struct{}), make(chan struct{})
	var helpers sync.WaitGroup
	helpers.Go(func() { d.recordLoop(stopRecorder) })
	helpers.Go(func() { dl.renewLoop(stopRenewing, d) })
	defer func() {
		dl.disp.Store(nil)
		left := d.stop() // the sends in flight finish, their leases still renewed
		close(stopRenewing)
		close(stopRecorder)
		helpers.Wait()
		rec, cancel := context.WithTimeout(context.WithoutCancel(work), recordTimeout)
		defer cancel()
		if err := dl.store.ReleaseNotices(rec, left); err != nil {
			dl.log.Error("hand back notices", "notices", len(left), "err", err)
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
			notices, err := dl.store.ClaimNotices(work, room, dl.cfg.Lease)
			if err != nil && work.Err() == nil {
				dl.log.Error("claim notices", "err", err)
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
		case <-dl.wake:
		case <-d.freed:
		case <-t.C:
		}
	}
}

// renewLoop keeps the leases of the notices in flight, every third of a lease, until stop is
// closed: after the lanes have stopped, not when shutdown begins, so that a post finishing during
// the drain keeps its lease. The lease is short, so that notices of an instance that died are
// taken over within seconds; the renewal keeps a slow Slack from handing them over while they are
// worked on. A notice whose lease another instance took is that instance's: its writes from here
// are refused by the store, and this instance only logs it.
func (dl *Deliverer) renewLoop(stop <-chan struct{}, d *dispatcher) {
	t := time.NewTicker(dl.cfg.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			err := dl.store.RenewNotices(d.work, d.ids(), dl.cfg.Lease)
			switch {
			case err == nil, d.work.Err() != nil:
			case errors.Is(err, expensebot.ErrLostHold):
				dl.log.Info("notice leases lost to another instance or already recorded", "err", err)
			default:
				dl.log.Warn("renew notice leases", "err", err)
			}
		}
	}
}

// deliverOne delivers n and returns it as delivered, for the caller to record. When the platform
// asked to wait, it returns how long and for which method (the caller keeps the notice and waits);
// any other failure is recorded here, with its retry. routed, when not nil, is the expense as
// its route left it, for a notice that tells of the route.
func (dl *Deliverer) deliverOne(ctx context.Context, n expensebot.Notice, routed *expensebot.Expense) (delivered expensebot.Delivered, ok bool, retry time.Duration, method string) {
	start := time.Now()
	ev, err := dl.send.Send(ctx, n, routed)
	if err == nil {
		dl.log.Debug("notice delivered", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "latency_ms", time.Since(start).Milliseconds())
		return expensebot.Delivered{NoticeID: n.ID, Event: ev}, true, 0, ""
	}
	// Slack's 429 (a Method is named) is waited out in the lane, in memory, keeping the order;
	// other retries (a callback receiver's) go through the database with their attempts counted.
	var ra *notify.RetryAfterError
	if errors.As(err, &ra) && ra.Method != "" && ra.Wait > 0 && ra.Wait <= maxBackoff && ctx.Err() == nil {
		dl.log.Info("Slack asked to wait; the conversation's lane waits", "notice_id", n.ID, "method", ra.Method, "retry_in", ra.Wait)
		return expensebot.Delivered{}, false, ra.Wait, ra.Method
	}
	// Recording the outcome must happen even when ctx was cancelled at the drain timeout.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var perm *notify.PermanentError
	var blocked *notify.BlockedError
	delay := min(time.Duration(1<<min(n.Attempts, 12))*time.Second, maxBackoff)
	switch {
	case errors.As(err, &ra):
		delay = ra.Wait
	case errors.As(err, &blocked):
		channel := dl.send.Channel(rec, n)
		dl.log.Error("Slack refused a notice until an administrator acts; it waits for the channel to work", "notice_id", n.ID, "kind", n.Kind,
			"expense_id", n.ExpenseID, "channel", channel, "err", err)
		tell := n.Kind == expensebot.NoticePostReview // the submitter hears once that the card waits
		if err := dl.store.NoticeBlocked(rec, n, channel, err.Error(), blockedRetry, tell); err != nil {
			dl.logRecord("block notice", n, err)
		}
		return expensebot.Delivered{}, false, 0, ""
	case errors.As(err, &perm) && n.Attempts+1 >= 3, n.Attempts+1 >= giveUpAfter:
		dl.log.Error("notice given up", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "attempts", n.Attempts+1, "err", err)
		if err := dl.store.NoticeFailed(rec, n.ID, err.Error()); err != nil {
			dl.logRecord("notice failed", n, err)
		}
		return expensebot.Delivered{}, false, 0, ""
	}
	dl.log.Warn("notice not delivered; will retry", "notice_id", n.ID, "kind", n.Kind, "expense_id", n.ExpenseID, "retry_in", delay, "err", err)
	if err := dl.store.NoticeRetry(rec, n.ID, delay, err.Error()); err != nil {
		dl.logRecord("notice retry", n, err)
	}
	return expensebot.Delivered{}, false, 0, ""
}

// logRecord logs a record of n's outcome that the store refused: quietly when n's lease had
// passed to another instance (that instance owns n now), as an error otherwise.
func (dl *Deliverer) logRecord(op string, n expensebot.Notice, err error) {
	if errors.Is(err, expensebot.ErrLostHold) {
		dl.log.Info(op+": the notice's lease passed to another instance; left to it", "notice_id", n.ID)
		return
	}
	dl.log.Error(op, "notice_id", n.ID, "err", err)
}
