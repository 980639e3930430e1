package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/pace"
)

// Submit stores an accepted expense and queues its assessment. It reports whether the expense is
// new: a second submission with the same idempotency key returns the first, and created false.
// Returns EINVALID for an expense that breaks a rule, and an internal error when it could not be
// saved (within ctx: when ctx ends first the expense may still be saved, and a second Submit with
// the same key finds it).
//
// While Run runs, submissions are written together: those that arrive while a commit is under
// way go into the next one, a single transaction (group commit), so a submission waits for at
// most one commit before its own, and the database does one commit for many.
func (s *Service) Submit(ctx context.Context, e expensebot.Expense) (expensebot.Expense, bool, error) {
	sub := &submission{Submission: expensebot.Submission{Expense: e}, ctx: ctx, done: make(chan struct{})}
	// The hand-over holds s.handing for reading: the committer, stopping, takes it for writing
	// once, and then knows that every submission handed over is in s.submits.
	s.handing.RLock()
	handed := s.committing.Load()
	if handed {
		select {
		case s.submits <- sub:
		case <-ctx.Done():
			s.handing.RUnlock()
			return expensebot.Expense{}, false, fmt.Errorf("approval: submit for %s: %w", e.SubmitterID, ctx.Err())
		}
	}
	s.handing.RUnlock()
	if !handed {
		s.commit(ctx, []*submission{sub}) // no committer: Run is not running
	} else {
		select {
		case <-sub.done:
		case <-ctx.Done():
			// The transaction ends at the same deadline (see commit); its outcome, if it is
			// being decided this moment, is the answer.
			select {
			case <-sub.done:
			case <-time.After(commitSettle):
				return expensebot.Expense{}, false, fmt.Errorf("approval: submit for %s: %w", e.SubmitterID, ctx.Err())
			}
		}
	}
	if sub.Err != nil {
		if expensebot.ErrorCode(sub.Err) == expensebot.EINTERNAL {
			return sub.Saved, false, fmt.Errorf("approval: submit for %s: %w", e.SubmitterID, sub.Err)
		}
		return sub.Saved, false, sub.Err
	}
	return sub.Saved, sub.Created, nil
}

// commitSettle is how long a Submit whose time ran out still waits for the transaction that
// ended at the same moment to say whether it committed: the ack of a submission is sent at most
// 2 s after its arrival, and Slack waits 3 s.
const commitSettle = 300 * time.Millisecond

// submission is one Submit waiting for its commit.
type submission struct {
	expensebot.Submission
	ctx  context.Context // the submitter's: once it ends, the submitter has been told "not saved"
	done chan struct{}   // closed when Submission holds the outcome
}

// maxGroup bounds one group commit: enough to absorb a burst, small enough for one statement of
// audit events.
const maxGroup = 64

// gather adds to group what is waiting in ch, up to maxGroup in all, without waiting for more:
// the items that queued up while the previous group was written.
func gather[T any](group []T, ch <-chan T) []T {
	for len(group) < maxGroup {
		select {
		case v := <-ch:
			group = append(group, v)
		default:
			return group
		}
	}
	return group
}

// commitLoop writes the submissions that queue up while each commit runs, one transaction at a
// time, until ctx ends; then it writes what is still queued.
func (s *Service) commitLoop(ctx, work context.Context) {
	s.committing.Store(true)
	group := make([]*submission, 0, maxGroup)
	for {
		var first *submission
		select {
		case first = <-s.submits:
		case <-ctx.Done():
			s.stopCommits(work, group)
			return
		}
		group = gather(append(group[:0], first), s.submits)
		s.commit(work, group)
	}
}

// stopCommits ends the committer: from now on a Submit commits by itself. A Submit that saw the
// committer running may still be handing over; the committer keeps committing until it has
// taken s.handing for writing, which no hand-over holds then, so what s.submits holds is the last.
func (s *Service) stopCommits(work context.Context, group []*submission) {
	stopped := make(chan struct{})
	go func() {
		s.handing.Lock()
		s.committing.Store(false)
		s.handing.Unlock()
		close(stopped)
	}()
	for {
		select {
		case first := <-s.submits:
			group = gather(append(group[:0], first), s.submits)
			s.commit(work, group)
		case <-stopped:
			for {
				group = gather(group[:0], s.submits)
				if len(group) == 0 {
					return
				}
				s.commit(work, group)
			}
		}
	}
}

// commit writes a group of submissions in one transaction and queues the new ones for
// assessment, already held for it.
func (s *Service) commit(ctx context.Context, group []*submission) {
	// A submitter who gave up waiting was told the expense was not saved: it must not be saved
	// later. So those are dropped, and the transaction ends when the first submitter of the
	// group stops waiting: it must not commit a submission whose submitter was told "not saved"
	// meanwhile. Those still waiting when it ends are committed again, without the others.
	var err error
	var subs []expensebot.Submission
	for {
		alive := group[:0]
		var first time.Time
		for _, g := range group {
			if err := g.ctx.Err(); err != nil {
				g.Err = fmt.Errorf("not saved in time: %w", err)
				close(g.done)
				continue
			}
			if d, ok := g.ctx.Deadline(); ok && (first.IsZero() || d.Before(first)) {
				first = d
			}
			alive = append(alive, g)
		}
		if len(alive) == 0 {
			return
		}
		group = alive
		tctx, cancel := ctx, context.CancelFunc(func() {})
		if !first.IsZero() {
			tctx, cancel = context.WithDeadline(ctx, first)
		}
		subs = make([]expensebot.Submission, len(group))
		for i, g := range group {
			subs[i] = g.Submission
		}
		err = s.store.SubmitAll(tctx, subs, s.cfg.AssessLease)
		expired := tctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil || !expired {
			break
		}
		// The first submitter's time ran out: nothing of this transaction was kept, or what
		// was (a half of a split group) is found again by its idempotency key.
	}
	held := s.cfg.Now().Add(s.cfg.AssessLease)
	for i, g := range group {
		if err != nil {
			g.Saved, g.Created, g.Err = expensebot.Expense{}, false, err
		} else {
			g.Submission = subs[i]
		}
		close(g.done)
		switch {
		case g.Err != nil:
		case !g.Created:
			s.log.Info("duplicate submission ignored", "expense_id", g.Saved.ID)
		default:
			s.log.Info("expense submitted", "expense_id", g.Saved.ID, "user_id", g.Saved.SubmitterID, "amount", g.Saved.Amount.String())
			s.cfg.Observer.Outcome(string(expensebot.StatusSubmitted))
			s.homes.Mark(g.Saved.SubmitterID)
			s.lookups.Person(g.Saved.SubmitterID)
			s.lookups.Receipts(g.Saved.ID, g.Saved.ReceiptFileIDs...)
			s.holds.add(g.Saved.ID, g.Saved.HoldAttempt)
			if !s.enqueue(g.Saved.ID, held, g.Saved, priorityOf(g.Saved)) {
				s.holds.drop(g.Saved.ID) // the queue is full: the sweep takes it once the hold runs out
			}
			if g.Saved.ResubmitOf != 0 {
				s.kick() // the card of the expense it replaces says so
				s.homes.MarkReviewers()
			}
		}
	}
}

// process assesses an accepted expense and hands it to the router, which decides its route and
// records it with its notices (see routeLoop). It is also how work resumes after a restart. It
// reports whether it handed the expense over: the router then owns it until it is recorded.
func (s *Service) process(ctx context.Context, q queued) bool {
	id := q.id
	var e expensebot.Expense
	var err error
	// A fresh submission is held for us since its commit; once the hold has run out (it waited
	// in the queue that long) it is taken again, or found taken by another instance. A hold that
	// runs out during the AI call may let another instance ask too; the route is still recorded
	// once (Route is conditional).
	// The hold is renewed while this instance works on the expense (see holds); hctx ends when
	// it is lost, and the work with it.
	held := q.held
	hctx, holding := ctx, false
	if !held.IsZero() {
		e = q.e
		hctx, holding = s.holds.work(ctx, id, e.HoldAttempt)
	}
	if !holding {
		held = s.cfg.Now().Add(s.cfg.AssessLease)
		e, err = s.store.StartAssessment(ctx, id, s.cfg.AssessLease)
		if err == nil {
			s.holds.add(id, e.HoldAttempt)
			hctx, _ = s.holds.work(ctx, id, e.HoldAttempt)
		}
	}
	if err != nil {
		if expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			s.log.Error("start assessment", "expense_id", id, "err", err)
		}
		return false
	}
	// The receipts' reading and the AI check wait for the provider's pace at the expense's
	// priority, and a re-assessment's deadline counts from when it was asked for.
	hctx = pace.WithPriority(hctx, q.prio)
	if !q.since.IsZero() {
		hctx = pace.WithSince(hctx, q.since)
	}
	e = s.intake(hctx, e)
	a := s.assess(hctx, e, q.since)
	if hctx.Err() != nil && ctx.Err() == nil {
		s.log.Info("assessment dropped: its hold passed to another holder", "expense_id", id)
		return false
	}
	// The route is recorded only while e has the receipts it has here, and this instance holds
	// the expense under the hold it was assessed under.
	rt := &routing{Routing: expensebot.Routing{ID: e.ID, Assessment: a, CheckReceipts: true, Receipts: len(e.Receipts), ReceiptFileIDs: e.ReceiptFileIDs,
		HoldAttempt: e.HoldAttempt},
		e: e, held: held, attempt: q.attempt}
	select {
	case s.routes <- rt:
		return true
	case <-ctx.Done():
		return false // the hold is given back as Run ends, and any instance takes the expense
	}
}

// maxReassess bounds how often one expense is assessed for receipts attached meanwhile; past it
// the expense stays held until its hold runs out, and the sweep takes it again.
const maxReassess = 3

// assess asks the AI about e: nil without an AI check; on failure an assessment that carries the
// error (the policy then sends e to a person). since is when a re-assessment was asked for (zero:
// the submission).
func (s *Service) assess(ctx context.Context, e expensebot.Expense, since time.Time) *expensebot.Assessment {
	if s.assessor == nil {
		return nil
	}
	start := time.Now()
	assessment, err := s.assessor.Assess(ctx, e)
	if err != nil {
		s.log.Warn("AI assessment failed; a person will decide", "expense_id", e.ID, "err", err, "latency_ms", time.Since(start).Milliseconds())
	}
	var throttled interface{ Throttled() bool }
	if err != nil && assessment != nil && errors.As(err, &throttled) && throttled.Throttled() {
		// Not a failure of the check but of its wait: the submitter and the reviewer read why
		// a person decides, in words.
		if since.IsZero() {
			since = e.CreatedAt
		}
		assessment.Error = busyReason(s.cfg.Now().Sub(since))
	}
	var prompt, completion int
	if assessment != nil {
		prompt, completion = assessment.PromptTokens, assessment.CompletionTokens
	}
	s.cfg.Observer.Assessed(time.Since(start), !assessment.Usable(), prompt, completion)
	return assessment
}

// busyReason says why a person decides an expense the AI service was too busy to check within
// waited of its submission.
func busyReason(waited time.Duration) string {
	return fmt.Sprintf("the AI service was too busy to check it within %s of its submission, so a person decides instead of it waiting longer", roughly(waited))
}

// roughly is d in words, to the minute past two minutes, else to the second.
func roughly(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= 2*time.Hour:
		return plural(int64(d.Round(time.Hour)/time.Hour), "hour")
	case d >= 2*time.Minute:
		return plural(int64(d.Round(time.Minute)/time.Minute), "minute")
	}
	return plural(max(1, int64(d.Round(time.Second)/time.Second)), "second")
}
