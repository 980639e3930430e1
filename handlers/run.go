package handlers

import (
	"context"
	"sync"
	"time"
)

// The assessment of an expense (an AI call of up to EXPENSEBOT_AI_TIMEOUT) runs on its own pool,
// so a slow model never delays opening a modal, whose trigger_id lives three seconds.

// Run resumes unfinished work, then assesses submitted expenses with workers goroutines and
// delivers notices until ctx ends. Expenses waiting when it stops stay "submitted" in the
// database and are resumed by the next start.
func (a *App) Run(ctx context.Context, workers int) error {
	if workers < 1 {
		workers = 4
	}
	a.homes.mu.Lock()
	a.homes.ctx = ctx
	a.homes.mu.Unlock()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case id := <-a.queue:
					a.Process(context.WithoutCancel(ctx), id)
					a.inflight.Delete(id)
				}
			}
		}()
	}
	wg.Add(1)
	go func() { defer wg.Done(); a.Deliver(ctx) }()
	a.sweep(ctx)
	t := time.NewTicker(a.sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-t.C:
			a.sweep(ctx)
		}
	}
}

// sweep queues every accepted expense not yet routed: after a restart, or one that found the
// queue full.
func (a *App) sweep(ctx context.Context) {
	list, err := a.store.Unfinished(ctx)
	if err != nil {
		if ctx.Err() == nil {
			a.log.Error("sweep unfinished expenses", "err", err)
		}
		return
	}
	for _, e := range list {
		if a.enqueue(e.ID) {
			a.log.Info("resuming expense", "expense_id", e.ID, "status", e.Status)
		}
	}
}

// enqueue asks for id to be assessed, unless it already is; it reports whether it queued it.
func (a *App) enqueue(id int64) bool {
	if _, busy := a.inflight.LoadOrStore(id, true); busy {
		return false
	}
	select {
	case a.queue <- id:
		return true
	default:
		a.inflight.Delete(id) // the sweep will find it
		return false
	}
}
