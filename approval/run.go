package approval

import (
	"context"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/pace"
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
	// Each worker takes the most urgent expense queued and assesses it: people's submissions
	// before batches. With the AI check on there are more workers than the provider lets calls
	// run at once, so that what waits for the provider's pace waits in its limiter, where a
	// person's submission overtakes a batch too, and none waits behind a worker count.
	for range s.cfg.Workers {
		workers.Go(func() {
			for {
				q, ok := s.queue.pop(ctx)
				if !ok {
					return
				}
				if !s.process(work, q) {
					s.inflight.Delete(q.id)
				} // else the router lets it go once recorded
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
		if s.enqueue(e.ID, time.Time{}, expensebot.Expense{}, priorityOf(e)) {
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
	prio    pace.Priority
	since   time.Time // when a re-assessment was asked for: its deadline counts from then; zero for the submission
}

// priorityOf is the priority of e's assessment: a person waits for a submission of their own,
// nobody watches a batch posted through the approval API.
func priorityOf(e expensebot.Expense) pace.Priority {
	if e.SubmittedBy != "" {
		return pace.Bulk
	}
	return pace.Interactive
}

// queueSize is how many expenses of one priority wait in memory for a worker; past it they wait
// in the database, and the sweep queues them as room is made.
const queueSize = 4096

// Queue holds the expenses waiting for an assessment worker, by priority: a worker takes an
// interactive one (a person's submission from Slack) before any bulk one (API batches,
// re-assessments after a receipt). Its methods are safe for concurrent use.
type Queue struct {
	ch [2]chan queued // by pace.Priority
}

// NewQueue returns an empty queue, to share between a workflow ([Config].Queue) and what reads
// its lengths.
func NewQueue() *Queue {
	return &Queue{ch: [2]chan queued{make(chan queued, queueSize), make(chan queued, queueSize)}}
}

// Lengths returns how many expenses wait for a worker, by priority.
func (q *Queue) Lengths() (interactive, bulk int) {
	return len(q.ch[pace.Interactive]), len(q.ch[pace.Bulk])
}

// push queues x, unless its priority's queue is full; it reports whether it did.
func (q *Queue) push(x queued) bool {
	p := x.prio
	if p != pace.Interactive {
		p = pace.Bulk
	}
	select {
	case q.ch[p] <- x:
		return true
	default:
		return false
	}
}

// pop waits for the most urgent expense queued, or for ctx to end (false).
func (q *Queue) pop(ctx context.Context) (queued, bool) {
	if ctx.Err() != nil {
		return queued{}, false // stopping: what is still queued is held for the next instance
	}
	hi, lo := q.ch[pace.Interactive], q.ch[pace.Bulk]
	select {
	case x := <-hi:
		return x, true
	default:
	}
	select {
	case x := <-hi:
		return x, true
	case x := <-lo:
		// An interactive one queued at the same instant may be taken after this one; the
		// limiter still admits its call first.
		return x, true
	case <-ctx.Done():
		return queued{}, false
	}
}

// enqueue asks for id to be assessed at priority p, unless it already is; it reports whether it
// queued it.
func (s *Service) enqueue(id int64, held time.Time, e expensebot.Expense, p pace.Priority) bool {
	if _, busy := s.inflight.LoadOrStore(id, true); busy {
		return false
	}
	if !s.queue.push(queued{id: id, held: held, e: e, prio: p}) {
		s.inflight.Delete(id) // the sweep will find it
		return false
	}
	return true
}
