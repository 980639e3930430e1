package approval

import (
	"context"
	"errors"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/pace"
)

// Routes are recorded the way submissions are committed: the expenses workers finish assessing
// while a route transaction runs go into the next one, which records all of theirs (group
// commit). A worker hands its expense over and goes on to the next assessment; the router decides
// the group's routes (the finance controls' histories read for the whole group at once), records
// them, and tells what came of each. The DMs and callbacks a group queues are claimed for this
// instance in the same transaction and handed straight to the Outbox, with the expense as routed:
// a DM saying "approved automatically" costs no claim and no read of the expense it tells of.

// routing is one assessed expense waiting for its route and transaction.
type routing struct {
	expensebot.Routing
	e       expensebot.Expense // as assessed, with the receipts the assessment saw
	held    time.Time          // when this instance's hold on it ends
	attempt int                // assessments before this one
}

// routeLoop records the routes the workers hand over, a group per transaction, until done is
// closed (every worker has returned, so nothing more can be handed over) and what was handed
// over is recorded.
func (s *Service) routeLoop(ctx context.Context, done <-chan struct{}) {
	group := make([]*routing, 0, maxGroup)
	for {
		var first *routing
		select {
		case first = <-s.routes:
		case <-done:
			select {
			case first = <-s.routes:
			default:
				return
			}
		}
		group = gather(append(group[:0], first), s.routes)
		s.recordGroup(ctx, group)
	}
}

// routed tells what came of one route, and lets the expense go (or assesses it again when
// receipts were attached while it was assessed).
func (s *Service) routed(ctx context.Context, g *routing) {
	if g.Err != nil && ctx.Err() != nil {
		// Cut off by the stop: the hold stays tracked, so that the stop gives it back and another
		// instance takes the expense at once instead of after the lease.
		s.inflight.Delete(g.ID)
		return
	}
	switch {
	case errors.Is(g.Err, expensebot.ErrNewReceipts) && g.attempt+1 < maxReassess:
		if s.reassess(ctx, g) {
			return // still held
		}
	case errors.Is(g.Err, expensebot.ErrLostHold):
		s.log.Info("route dropped: the expense's hold passed to another holder", "expense_id", g.ID, "err", g.Err)
	case g.Err != nil:
		if expensebot.ErrorCode(g.Err) != expensebot.ECONFLICT {
			s.log.Error("route", "expense_id", g.ID, "err", g.Err)
		}
	default:
		e := g.Routed
		s.log.Info("expense routed", "expense_id", e.ID, "status", e.Status, "approvals_required", e.ApprovalsRequired)
		s.cfg.Observer.Outcome(string(e.Status))
		s.homes.Mark(e.SubmitterID)
		if e.Status.Info().Reviewers.Has(expensebot.ActDecide) {
			s.homes.MarkReviewers()
		}
	}
	s.holds.drop(g.ID)
	s.inflight.Delete(g.ID)
}

// reassess queues g's expense to be assessed again, read afresh with the receipts attached
// meanwhile, and reports whether it did.
func (s *Service) reassess(ctx context.Context, g *routing) bool {
	s.log.Info("receipt attached during the assessment; assessing again", "expense_id", g.ID)
	e, err := s.store.Expense(ctx, g.ID)
	switch {
	case err != nil:
		s.log.Error("read expense to assess again", "expense_id", g.ID, "err", err)
		return false
	case e.Status.Routed():
		return false // withdrawn, or routed by another instance whose hold began when ours ran out
	}
	// Nobody waits for a re-assessment as for a submission: it queues with the batches, and its
	// deadline counts from now.
	// false: the queue is full, and the sweep takes it once its hold runs out.
	return s.queue.push(queued{id: g.ID, held: g.held, e: e, attempt: g.attempt + 1, prio: pace.Bulk, since: s.cfg.Now()})
}

// recordGroup records a group of routes in one transaction and hands their notices to the Outbox.
func (s *Service) recordGroup(ctx context.Context, group []*routing) {
	claim := s.out.Claim()
	s.refreshRules(ctx) // the newest rules route the group, whichever instance changed them
	es := make([]expensebot.Expense, len(group))
	for i, g := range group {
		es[i] = g.e
	}
	hs, errs := s.histories(ctx, es)
	rs := make([]expensebot.Routing, len(group))
	for i, g := range group {
		g.Route = s.decide(g.e, g.Assessment, hs[i], errs[i])
		rs[i] = g.Routing
	}
	err := s.store.RouteAll(ctx, rs, claim)
	if err != nil && len(rs) > 1 && ctx.Err() == nil {
		// One route the database refuses must not hold up the others: each alone, then.
		s.log.Warn("routes of a group refused together; recording each alone", "routes", len(rs), "err", err)
		for i := range rs {
			if err := s.store.RouteAll(ctx, rs[i:i+1], claim); err != nil {
				rs[i].Err = err
			}
		}
		err = nil
	}
	var carried []expensebot.Notice
	snapshots := map[int64]expensebot.Expense{}
	waiting := false
	for i, g := range group {
		g.Routing = rs[i]
		if err != nil {
			g.Err = err
		}
		waiting = waiting || g.Waiting > 0
		if g.Err == nil && claim > 0 {
			carried = append(carried, g.Notices...)
			snapshots[g.ID] = g.Routed
		}
		s.routed(ctx, g)
	}
	if claim == 0 || waiting {
		s.kick() // notices wait in the outbox
	}
	if claim == 0 {
		return
	}
	if len(carried) > 0 && !s.out.Carry(carried, snapshots) {
		// The Outbox is stopping: the notices go back to the outbox for any instance to take.
		ids := make([]int64, len(carried))
		for i, n := range carried {
			ids[i] = n.ID
		}
		rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
		defer cancel()
		if err := s.store.ReleaseNotices(rec, ids); err != nil {
			s.log.Error("hand back notices", "notices", len(ids), "err", err)
		}
	}
}
