package approval

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/report"
)

// Home is what one person's App Home shows: their expenses and totals and, for a reviewer, the
// queue of expenses waiting for review that they may decide.
type Home struct {
	Mine       []expensebot.Expense
	Totals     []expensebot.Total
	Reviewer   bool
	Queue      []expensebot.Expense
	QueueTotal int
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
	HomeMine  = 10
	HomeQueue = 20
)

// homes remembers who opened their App Home and whose is out of date, so that bursts of changes
// cost one publish per person.
type homes struct {
	now   func() time.Time
	delay time.Duration
	wake  chan struct{}

	mu      sync.Mutex
	due     map[string]bool
	viewers map[string]time.Time // who opened their App Home, and when
}

func newHomes(now func() time.Time) *homes {
	return &homes{now: now, delay: 300 * time.Millisecond, wake: make(chan struct{}, 1), due: map[string]bool{}, viewers: map[string]time.Time{}}
}

// mark schedules a refresh of user's App Home, if they have ever opened it.
func (h *homes) mark(user string) {
	h.mu.Lock()
	_, seen := h.viewers[user]
	if seen {
		h.due[user] = true
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
	for _, u := range users {
		h.mark(u)
	}
}

func (h *homes) opened(user string) {
	h.mu.Lock()
	h.viewers[user] = h.now()
	h.mu.Unlock()
}

func (h *homes) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	users := make([]string, 0, len(h.due))
	for u := range h.due {
		users = append(users, u)
	}
	h.due = map[string]bool{}
	slices.Sort(users)
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
		for _, u := range s.homes.take() {
			s.publishHome(work, u)
		}
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
	s.publishHome(ctx, user)
}

// publishHome gathers and publishes user's App Home.
func (s *Service) publishHome(ctx context.Context, user string) {
	var h Home
	var err error
	if h.Mine, err = s.store.BySubmitter(ctx, user, 0, HomeMine); err != nil {
		s.log.Error("home: history", "user_id", user, "err", err)
		return
	}
	if h.Totals, err = s.store.Totals(ctx, user); err != nil {
		s.log.Error("home: totals", "user_id", user, "err", err)
		return
	}
	// The queue holds exactly what user may decide, by each expense's stored route: a reviewer
	// of one policy route sees its expenses, and nobody is offered a button that would be refused.
	h.Reviewer, _ = s.reviewers.allowed(ctx, user, nil)
	all, err := s.store.Pending(ctx, 500)
	if err != nil {
		s.log.Error("home: queue", "user_id", user, "err", err)
		return
	}
	for _, e := range all {
		if e.SubmitterID == user {
			continue
		}
		if ok, _ := s.reviewers.allowed(ctx, user, s.deciders(e)); !ok {
			continue
		}
		h.Reviewer = true
		h.QueueTotal++
		if len(h.Queue) < HomeQueue {
			h.Queue = append(h.Queue, e)
		}
	}
	if h.Reviewer {
		h.Insight = s.summary(ctx)
	}
	if err := s.msg.PublishHome(ctx, user, h); err != nil {
		s.log.Warn("publish home", "user_id", user, "err", err)
	}
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
