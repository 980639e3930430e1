package approval

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/report"
)

// Home is what one person's App Home shows: the questions waiting for their answer, a page of
// their expenses and their totals by month and, for a reviewer, the queue of expenses waiting for
// review that they may decide (oldest first), and who decides for them while they are away.
type Home struct {
	Now       time.Time
	Questions []expensebot.Expense // their expenses waiting for their answer, oldest question first
	Mine      []expensebot.Expense // one page of their expenses, newest first
	Filter    expensebot.Status    // the status Mine is narrowed to, "" for all
	Page      int                  // Mine's page, from 0
	MineTotal int                  // how many expenses the filter matches in all
	Totals    []expensebot.Total   // all time, by status and currency
	Months    []expensebot.Total   // by month, status and currency: the last HomeMonths months

	Reviewer   bool
	Queue      []expensebot.Expense
	QueueFor   map[int64]string // expenses in Queue the user would decide as a delegate → for whom
	QueueTotal int
	Away       *expensebot.Delegation  // the user's own delegation in force, if any
	StandingIn []expensebot.Delegation // reviewers the user decides for while they are away
	// Insight is, for a reviewer, how the workflow and the AI's advice did over the last
	// InsightDays: the summary of `expensebot report`. Nil for others, or when it could not be made.
	Insight *report.Summary
}

// InsightDays is the period of a reviewer's App Home summary.
const InsightDays = 30

// insightTTL is how long one summary serves every reviewer's App Home before it is made again.
const insightTTL = 5 * time.Minute

// insight caches the App Home summary: making it reads a month of expenses.
type insight struct {
	mu      sync.Mutex
	at      time.Time
	summary *report.Summary
}

// How much an App Home lists, within Slack's 100 blocks.
const (
	HomeMine      = 10
	HomeQueue     = 15
	HomeQuestions = 3
	HomeMonths    = 3
)

// homePage is where someone is in their history: a filter and a page.
type homePage struct {
	filter expensebot.Status
	page   int
}

// homes remembers who opened their App Home and whose is out of date, so that bursts of changes
// cost one publish per person.
type homes struct {
	now   func() time.Time
	delay time.Duration
	wake  chan struct{}

	mu      sync.Mutex
	due     map[string]int64     // who is out of date → their place in line (lower: sooner)
	back    int64                // the place of the next marked
	front   int64                // the place of the next put back, ahead of everyone
	viewers map[string]time.Time // who opened their App Home, and when
	pages   map[string]homePage  // where each viewer is in their history on this instance
}

func newHomes(now func() time.Time) *homes {
	return &homes{now: now, delay: 300 * time.Millisecond, wake: make(chan struct{}, 1), due: map[string]int64{},
		viewers: map[string]time.Time{}, pages: map[string]homePage{}}
}

func (h *homes) page(user string) homePage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pages[user]
}

func (h *homes) setPage(user string, p homePage) {
	h.mu.Lock()
	h.pages[user] = p
	h.viewers[user] = h.now()
	h.mu.Unlock()
}

// mark schedules a refresh of user's App Home, if they have ever opened it.
func (h *homes) mark(user string) {
	h.mu.Lock()
	_, seen := h.viewers[user]
	if seen {
		if _, ok := h.due[user]; !ok {
			h.back++
			h.due[user] = h.back
		}
	}
	h.mu.Unlock()
	if seen {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// markReviewers schedules a refresh for everyone who opened the App Home in the last day; the
// refresh finds out whether they review.
func (h *homes) markReviewers() {
	h.mu.Lock()
	var users []string
	for u, at := range h.viewers {
		if h.now().Sub(at) < 24*time.Hour {
			users = append(users, u)
		}
	}
	h.mu.Unlock()
	slices.Sort(users)
	for _, u := range users {
		h.mark(u)
	}
}

func (h *homes) opened(user string) {
	h.mu.Lock()
	h.viewers[user] = h.now()
	h.mu.Unlock()
}

// putBack schedules again the refreshes the loop could not publish yet, ahead of all others and
// in the order given (a refresh held back for the tier is never overtaken by later marks), and
// wakes the loop to come round for them.
func (h *homes) putBack(users []string) {
	h.mu.Lock()
	for i := len(users) - 1; i >= 0; i-- {
		h.front--
		h.due[users[i]] = h.front
	}
	h.mu.Unlock()
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// take returns who is out of date, first marked first, and forgets them.
func (h *homes) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	users := make([]string, 0, len(h.due))
	for u := range h.due {
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b string) int { return cmp.Compare(h.due[a], h.due[b]) })
	h.due = map[string]int64{}
	return users
}

// homeLoop publishes the App Homes marked out of date, a short while after the first mark so that
// a burst coalesces, until ctx ends.
func (s *Service) homeLoop(ctx, work context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.homes.wake:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.homes.delay):
		}
		users := s.homes.take()
		for i, u := range users {
			// Within views.publish's tier; those still waiting are coalesced with later changes.
			if wait := s.homePace.take(time.Now()); wait > 0 {
				s.homes.putBack(users[i:])
				if !sleep(ctx, wait) {
					return
				}
				break
			}
			var ra *RetryAfterError
			if err := s.publishHome(work, u); errors.As(err, &ra) {
				s.homes.putBack(users[i:])
				if !sleep(ctx, ra.Wait) {
					return
				}
				break
			}
		}
	}
}

// sleep waits for d, or until ctx ends, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// HomeOpened shows user their App Home; eventID (may be "") makes a redelivered event a no-op.
func (s *Service) HomeOpened(ctx context.Context, eventID, user string) {
	if eventID != "" {
		first, err := s.store.FirstSeen(ctx, eventID)
		if err != nil {
			s.log.Warn("event dedupe", "event_id", eventID, "err", err)
		} else if !first {
			s.log.Info("redelivered event ignored", "event_id", eventID)
			return
		}
	}
	s.homes.opened(user)
	s.homePace.take(time.Now()) // a user's own view is published at once; it counts against the tier when there is room
	s.publishHome(ctx, user)
}

// HomePage shows user a page of their history in their App Home, narrowed to one status
// (filter "" for all); pages count from 0. The App Home stays there while it refreshes, on this
// instance.
func (s *Service) HomePage(ctx context.Context, user string, filter expensebot.Status, page int) {
	if filter != "" && !slices.Contains(expensebot.Statuses, filter) {
		filter = ""
	}
	s.homes.setPage(user, homePage{filter: filter, page: max(page, 0)})
	s.homePace.take(time.Now())
	s.publishHome(ctx, user)
}

// publishHome gathers and publishes user's App Home. It returns the platform's refusal to
// publish, for a caller that would wait and try again; other failures are logged.
func (s *Service) publishHome(ctx context.Context, user string) error {
	h := Home{Now: s.Now()}
	var err error
	fail := func(what string, err error) { s.log.Error("home: "+what, "user_id", user, "err", err) }
	p := s.homes.page(user)
	h.Filter, h.Page = p.filter, p.page
	if h.Mine, h.MineTotal, err = s.store.History(ctx, user, p.filter, p.page*HomeMine, HomeMine); err != nil {
		fail("history", err)
		return nil
	}
	if len(h.Mine) == 0 && h.Page > 0 { // the page emptied since (a filter's expenses moved on)
		h.Page = max((h.MineTotal-1)/HomeMine, 0)
		if h.Mine, h.MineTotal, err = s.store.History(ctx, user, p.filter, h.Page*HomeMine, HomeMine); err != nil {
			fail("history", err)
			return nil
		}
	}
	if h.Questions, err = s.store.Questions(ctx, user); err != nil {
		fail("questions", err)
		return nil
	}
	if h.Totals, err = s.store.Totals(ctx, user); err != nil {
		fail("totals", err)
		return nil
	}
	this := time.Date(h.Now.Year(), h.Now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if h.Months, err = s.store.MonthlyTotals(ctx, user, this.AddDate(0, 1-HomeMonths, 0)); err != nil {
		fail("monthly totals", err)
		return nil
	}
	delegations, err := s.store.Delegations(ctx)
	if err != nil {
		fail("delegations", err)
		return nil
	}
	for _, d := range delegations {
		switch {
		case d.Reviewer == user:
			h.Away = &d
		case d.Delegate == user:
			h.StandingIn = append(h.StandingIn, d)
		}
	}
	// The queue holds exactly what user may decide, by each expense's stored route, in their own
	// right or for someone away: a reviewer of one policy route sees its expenses, and nobody is
	// offered a button that would be refused.
	h.Reviewer, _ = s.reviewers.allowed(ctx, user, nil)
	h.Reviewer = h.Reviewer || h.Away != nil || len(h.StandingIn) > 0
	all, err := s.store.Pending(ctx, 500)
	if err != nil {
		fail("queue", err)
		return nil
	}
	for _, e := range all {
		if e.SubmitterID == user {
			continue
		}
		forWhom, ok, _ := s.mayDecide(ctx, user, e, delegations)
		if !ok {
			continue
		}
		h.Reviewer = true
		h.QueueTotal++
		if len(h.Queue) < HomeQueue {
			h.Queue = append(h.Queue, e)
			if forWhom != "" {
				if h.QueueFor == nil {
					h.QueueFor = map[int64]string{}
				}
				h.QueueFor[e.ID] = forWhom
			}
		}
	}
	if h.Reviewer {
		h.Insight = s.summary(ctx)
	}
	err = s.msg.PublishHome(ctx, user, h)
	if err != nil {
		s.log.Warn("publish home", "user_id", user, "err", err)
	}
	return err
}

// summary is the last InsightDays as `expensebot report` sums them up, made at most every
// insightTTL; nil when it cannot be made (the App Home then shows everything else).
func (s *Service) summary(ctx context.Context) *report.Summary {
	s.insight.mu.Lock()
	defer s.insight.mu.Unlock()
	now := s.Now()
	if s.insight.summary != nil && now.Sub(s.insight.at) < insightTTL {
		return s.insight.summary
	}
	from := now.AddDate(0, 0, -InsightDays)
	// The replays weigh each expense's month and split window: read that far back too.
	list, err := s.store.ExpensesSince(ctx, from.Add(-32*24*time.Hour-max(s.cfg.Rules.SplitWindow, 24*time.Hour)))
	if err != nil {
		s.log.Warn("home: summary", "err", err)
		return nil
	}
	checks, err := s.store.SpotChecks(ctx, from)
	if err != nil {
		s.log.Warn("home: spot checks", "err", err)
		return nil
	}
	sum := report.Summarize(report.Input{Expenses: list, SpotChecks: checks, From: from, Until: now, Rules: s.cfg.Rules})
	s.insight.at, s.insight.summary = now, &sum
	return &sum
}
