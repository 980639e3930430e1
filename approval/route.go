package approval

import (
	"context"
	"time"

	"github.com/expensebot/expensebot"
)

// Routes are recorded the way submissions are committed: the workers that finish an assessment
// while a route transaction runs wait for the next one, which records all of theirs (group
// commit). The notices a group queues are claimed for this instance in the same transaction and
// handed straight to the lanes, with the expense as routed: a DM saying "approved automatically"
// costs no claim and no read of the expense it tells of.

// routing is one worker's assessed expense waiting for its route and transaction.
type routing struct {
	expensebot.Routing
	e    expensebot.Expense // as assessed, with the receipts the assessment saw
	done chan struct{}      // closed when Routing holds the outcome
}

// record routes e, as assessed (a), in the next group and returns the expense as routed. The
// policy decides in the group: the submitters' histories that the finance controls weigh are read
// for the whole group at once. The route is recorded only while e has the receipts it has here.
func (s *Service) record(ctx context.Context, e expensebot.Expense, a *expensebot.Assessment) (expensebot.Expense, error) {
	rt := &routing{Routing: expensebot.Routing{ID: e.ID, Assessment: a, CheckReceipts: true, Receipts: len(e.Receipts), ReceiptFileIDs: e.ReceiptFileIDs},
		e: e, done: make(chan struct{})}
	select {
	case s.routes <- rt:
	case <-ctx.Done():
		return expensebot.Expense{}, ctx.Err()
	}
	<-rt.done // the router ends each group it took, on its own context
	return rt.Routed, rt.Err
}

// routeLoop records the routes the workers hand over, a group per transaction, until done is
// closed (every worker has returned, so no route can be handed over any more).
func (s *Service) routeLoop(ctx context.Context, done <-chan struct{}) {
	group := make([]*routing, 0, maxGroup)
	for {
		var first *routing
		select {
		case first = <-s.routes:
		case <-done:
			return
		}
		group = append(group[:0], first)
	more:
		for len(group) < maxGroup {
			select {
			case rt := <-s.routes:
				group = append(group, rt)
			default:
				break more
			}
		}
		s.recordGroup(ctx, group)
	}
}

// recordGroup records a group of routes in one transaction and hands their notices to the lanes.
func (s *Service) recordGroup(ctx context.Context, group []*routing) {
	d := s.disp.Load()
	var claim time.Duration
	if d != nil && d.room() > 0 {
		claim = s.cfg.NoticeLease
	}
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
		close(g.done)
	}
	if claim == 0 || waiting {
		s.kick() // notices wait in the outbox
	}
	if claim == 0 {
		return
	}
	if len(carried) > 0 && !d.carry(carried, snapshots) {
		// The lanes are stopping: the notices go back to the outbox for any instance to take.
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
