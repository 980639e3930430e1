package approval

import (
	"context"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
)

// Run resumes unfinished work, then assesses submitted expenses, fires due reminders, escalations
// and expiries, and runs the rooms attached (delivering notices, refreshing App Homes, looking up
// names) until ctx ends. Then it stops taking work, lets what is in flight finish for up to
// Config.DrainTimeout, cancels what is left and returns once every goroutine it started has
// returned: only then may the caller close the store. Expenses and notices left waiting stay in
// the database and are resumed by the next start.
func (s *Service) Run(ctx context.Context) error {
	// work outlives ctx so that a post Slack is answering, or an assessment half done, can finish
	// and be recorded; the drain timeout bounds it.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	s.seedRules(ctx)
	var wg, workers sync.WaitGroup
	for range s.cfg.Workers {
		workers.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case q := <-s.queue:
					if !s.process(work, q) {
						s.inflight.Delete(q.id)
					} // else the router lets it go once recorded
				}
			}
		})
	}
	// The router records what the workers assessed until the last worker has returned.
	workersDone := make(chan struct{})
	wg.Go(func() { workers.Wait(); close(workersDone) })
	wg.Go(func() { s.routeLoop(work, workersDone) })
	wg.Go(func() { s.commitLoop(ctx, work) })
	wg.Go(func() { s.out.Run(ctx, work) })
	wg.Go(func() { s.homes.Run(ctx, work) })
	wg.Go(func() { s.lookups.Run(ctx, work) })
	wg.Go(func() { every(ctx, s.sweepEvery, s.sweep) })
	wg.Go(func() { every(ctx, channelCheckEvery, s.checkChannels) })
	if s.cfg.Rates != nil {
		wg.Go(func() { s.cfg.Rates.Run(ctx) })
	}
	wg.Go(func() { every(ctx, s.cfg.TimerEvery, s.fireTimers) })
	if s.cfg.RuleSets != nil {
		wg.Go(func() { s.rulesLoop(ctx) })
	}
	// The assessment holds are renewed until the work in flight has finished, then the ones
	// left are given back (see holds).
	stopHolds, holdsDone := make(chan struct{}), make(chan struct{})
	go func() { defer close(holdsDone); s.holds.run(work, stopHolds) }()
	defer func() {
		close(stopHolds)
		<-holdsDone
		rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		s.holds.release(rec)
	}()
	<-ctx.Done()

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(s.cfg.DrainTimeout):
		s.log.Warn("workflow: work in flight cancelled at the drain timeout", "timeout", s.cfg.DrainTimeout)
		cancelWork()
		<-done
	}
	return nil
}

// every calls f at once, then every d, until ctx ends: the workflow's periodic work (the sweep,
// the approvals channels' check, the timers).
func every(ctx context.Context, d time.Duration, f func(context.Context)) {
	f(ctx)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(ctx)
		}
	}
}

// sweep queues every accepted expense not yet routed: after a restart, or one that found the
// queue full.
func (s *Service) sweep(ctx context.Context) {
	list, err := s.store.Unfinished(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("sweep unfinished expenses", "err", err)
		}
		return
	}
	for _, e := range list {
		if s.enqueue(e.ID, time.Time{}, expensebot.Expense{}) {
			s.log.Info("resuming expense", "expense_id", e.ID, "status", e.Status)
		}
	}
}

// queued is an expense to assess; held is when this instance's hold on it ends (zero: not held,
// take it with StartAssessment).
type queued struct {
	id      int64
	held    time.Time
	e       expensebot.Expense // as committed (or read again), when held
	attempt int                // assessments before this one (receipts attached meanwhile)
}

// enqueue asks for id to be assessed, unless it already is; it reports whether it queued it.
func (s *Service) enqueue(id int64, held time.Time, e expensebot.Expense) bool {
	if _, busy := s.inflight.LoadOrStore(id, true); busy {
		return false
	}
	select {
	case s.queue <- queued{id: id, held: held, e: e}:
		return true
	default:
		s.inflight.Delete(id) // the sweep will find it
		return false
	}
}
