package approval

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Holds follow their holder. An expense being assessed is held in the database in this
// instance's name (Expense.HeldBy) for a short lease, Config.AssessLease (10 s by default), and the
// hold is renewed every third of it for as long as this instance works on the expense: while it
// waits in the queue, while the model limiter makes it wait, while the model answers, until its
// route is recorded. An instance that stops gives back the holds of the work it did not finish,
// so another instance (or the next start) takes them at once; one killed outright stops renewing,
// and its holds run out within a lease. Every write that follows presents the hold's attempt
// number (Routing.HoldAttempt), so a holder whose hold was taken over records nothing.

// Holder is what the holds need of the store (*store.DB has it).
type Holder interface {
	RenewAssessments(ctx context.Context, ids []int64, lease time.Duration) (lost []int64, err error)
	ReleaseAssessment(ctx context.Context, id int64, attempt int) error
}

// holds are the expenses this instance holds for their assessment, with the attempt number of
// each hold and the function that stops the work on it when the hold is lost.
type holds struct {
	store Holder
	lease time.Duration
	log   *slog.Logger

	mu   sync.Mutex
	held map[int64]*hold
}

type hold struct {
	attempt int
	stop    context.CancelFunc // nil until a worker works on it
}

func newHolds(st Holder, lease time.Duration, log *slog.Logger) *holds {
	return &holds{store: st, lease: lease, log: log, held: map[int64]*hold{}}
}

// add records that this instance holds id under attempt.
func (h *holds) add(id int64, attempt int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held[id] = &hold{attempt: attempt}
}

// work returns a context for the work on id under attempt, ended when the hold is lost, and
// false when this instance does not hold id under attempt (any more).
func (h *holds) work(ctx context.Context, id int64, attempt int) (context.Context, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hd, ok := h.held[id]
	if !ok || hd.attempt != attempt {
		return ctx, false
	}
	if hd.stop != nil {
		hd.stop() // a re-assessment: the earlier work on it has ended
	}
	ctx, hd.stop = context.WithCancel(ctx)
	return ctx, true
}

// drop forgets the hold on id: its route was recorded (or refused), nothing is left to renew.
func (h *holds) drop(id int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if hd, ok := h.held[id]; ok && hd.stop != nil {
		hd.stop()
	}
	delete(h.held, id)
}

func (h *holds) ids() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]int64, 0, len(h.held))
	for id := range h.held {
		out = append(out, id)
	}
	return out
}

// renew extends every hold once, and stops the work on those lost.
func (h *holds) renew(ctx context.Context) {
	ids := h.ids()
	if len(ids) == 0 {
		return
	}
	lost, err := h.store.RenewAssessments(ctx, ids, h.lease)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("renew assessment holds", "holds", len(ids), "err", err)
		}
		return
	}
	for _, id := range lost {
		h.log.Info("assessment hold lost; another instance has the expense, or it was decided", "expense_id", id)
		h.drop(id)
	}
}

// run renews the holds every third of a lease until stop is closed. It runs on its own signal,
// not on the shutdown context: holds are renewed while the work in flight at shutdown finishes.
func (h *holds) run(ctx context.Context, stop <-chan struct{}) {
	t := time.NewTicker(h.lease / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.renew(ctx)
		}
	}
}

// release gives back every hold left (work not finished at shutdown), so that another instance,
// or the next start, takes it at once instead of waiting for the lease to run out.
func (h *holds) release(ctx context.Context) {
	h.mu.Lock()
	left := h.held
	h.held = map[int64]*hold{}
	h.mu.Unlock()
	for id, hd := range left {
		if hd.stop != nil {
			hd.stop()
		}
		if err := h.store.ReleaseAssessment(ctx, id, hd.attempt); err != nil && ctx.Err() == nil {
			h.log.Info("assessment hold not given back", "expense_id", id, "err", err)
		}
	}
	if len(left) > 0 {
		h.log.Info("assessment holds given back", "holds", len(left))
	}
}
