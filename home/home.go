// Package home keeps people's App Home current. The workflow marks whose App Home a change made
// out of date; a Refresher gathers each one (their questions, a page of their expenses, their
// totals, and for a reviewer the queue they may decide and how the last month went) and publishes
// it, coalescing bursts of changes into one publish per person and keeping within the platform's
// pace. It knows no Slack, SQL or model API: what it reads, who may decide, how it publishes and
// how fast are small interfaces declared here.
package home

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/notify"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/report"
)

// View is what one person's App Home shows: the questions waiting for their answer, a page of
// their expenses and their totals by month and, for a reviewer, the queue of expenses waiting for
// review that they may decide (oldest first), and who decides for them while they are away.
type View struct {
	Now       time.Time
	Questions []expensebot.Expense // their expenses waiting for their answer, oldest question first
	Mine      []expensebot.Expense // one page of their expenses, newest first
	Filter    expensebot.Status    // the status Mine is narrowed to, "" for all
	Page      int                  // Mine's page, from 0
	MineTotal int                  // how many expenses the filter matches in all
	Totals    []expensebot.Total   // all time, by status and currency
	Months    []expensebot.Total   // by month, status and currency: the last Months months
	// What the company owes them: their approved (or auto_approved) expenses not paid yet, newest
	// first, at most Owed of them (Totals has the sums); and the last Paid expenses paid to them,
	// most recently paid first.
	Owed []expensebot.Expense
	Paid []expensebot.Expense

	Reviewer   bool
	Queue      []expensebot.Expense
	QueueFor   map[int64]string // expenses in Queue the user would decide as a delegate → for whom
	QueueTotal int
	Away       *expensebot.Delegation  // the user's own delegation in force, if any
	StandingIn []expensebot.Delegation // reviewers the user decides for while they are away
	// Insight is, for a reviewer, how the workflow and the AI's advice did over the last
	// InsightDays: the summary of `expensebot report`. Nil for others, or when it could not be made.
	Insight *report.Summary
	// Drafts are the person's drafts: receipts read in their DM with the bot, not yet submitted.
	Drafts []expensebot.Draft
}

// InsightDays is the period of a reviewer's App Home summary.
const InsightDays = 30

// insightTTL is how long one summary serves every reviewer's App Home before it is made again.
const insightTTL = 5 * time.Minute

// How much an App Home lists, within Slack's 100 blocks.
const (
	Mine      = 10
	Queue     = 15
	Questions = 3
	Months    = 3
	Owed      = 5
	Paid      = 3
)

// Store is what an App Home reads (*store.DB has it).
type Store interface {
	FirstSeen(ctx context.Context, key string) (bool, error)
	History(ctx context.Context, user string, status expensebot.Status, offset, limit int) ([]expensebot.Expense, int, error)
	Questions(ctx context.Context, user string) ([]expensebot.Expense, error)
	Totals(ctx context.Context, submitter string) ([]expensebot.Total, error)
	MonthlyTotals(ctx context.Context, user string, since time.Time) ([]expensebot.Total, error)
	Delegations(ctx context.Context) ([]expensebot.Delegation, error)
	Pending(ctx context.Context, limit int) ([]expensebot.Expense, error)
	ExpensesSince(ctx context.Context, from time.Time) ([]expensebot.Expense, error)
	SpotChecks(ctx context.Context, since time.Time) ([]expensebot.SpotCheck, error)
}

// Rights says who may decide what: the workflow's rules (approval.Rights is one).
type Rights interface {
	// Reviewer reports whether user is one of the configured reviewers.
	Reviewer(ctx context.Context, user string) bool
	// MayDecide reports whether user may decide e, in their own right (forWhom "") or standing
	// in for an away reviewer.
	MayDecide(ctx context.Context, user string, e expensebot.Expense, delegations []expensebot.Delegation) (forWhom string, ok bool)
}

// Publisher shows a person their App Home (*handlers.Messenger is one). It may wrap its error in
// [*notify.RetryAfterError] when the platform asks to wait.
type Publisher interface {
	PublishHome(ctx context.Context, user string, v View) error
}

// Pacer keeps background publishes within the platform's pace (*slackpace.Pacer is one).
type Pacer interface {
	// Publish returns 0 and spends a publish, or returns how long until one is due and spends
	// nothing.
	Publish(now time.Time) time.Duration
}

// Config configures a Refresher.
type Config struct {
	Rules policy.Rules // for the summary's replays
	Now   func() time.Time
	Pacer Pacer // nil: publishes are not paced
	// Drafts lists a person's drafts (receipts read, not yet submitted) for the App Home's
	// "Drafts" section; nil: no such section.
	Drafts func(ctx context.Context, user string) ([]expensebot.Draft, error)
}

// Refresher keeps App Homes current. Its methods are safe for concurrent use.
type Refresher struct {
	store  Store
	rights Rights
	pub    Publisher
	cfg    Config
	log    *slog.Logger
	homes  *homes

	insightMu sync.Mutex
	insightAt time.Time
	insight   *report.Summary
}

// New returns a Refresher that reads st and publishes through pub.
func New(st Store, rights Rights, pub Publisher, cfg Config, log *slog.Logger) *Refresher {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Refresher{store: st, rights: rights, pub: pub, cfg: cfg, log: log, homes: newHomes(cfg.Now)}
}

func (r *Refresher) now() time.Time { return r.cfg.Now().UTC() }

// pace spends a publish, or returns how long until one is due.
func (r *Refresher) pace() time.Duration {
	if r.cfg.Pacer == nil {
		return 0
	}
	return r.cfg.Pacer.Publish(time.Now())
}

// Mark schedules a refresh of user's App Home, if they have ever opened it.
func (r *Refresher) Mark(user string) { r.homes.mark(user) }

// MarkReviewers schedules a refresh for everyone who opened the App Home in the last day; the
// refresh finds out whether they review.
func (r *Refresher) MarkReviewers() { r.homes.markReviewers() }

// Opened shows user their App Home; eventID (may be "") makes a redelivered event a no-op.
func (r *Refresher) Opened(ctx context.Context, eventID, user string) {
	if eventID != "" {
		first, err := r.store.FirstSeen(ctx, eventID)
		if err != nil {
			r.log.Warn("event dedupe", "event_id", eventID, "err", err)
		} else if !first {
			r.log.Info("redelivered event ignored", "event_id", eventID)
			return
		}
	}
	r.homes.opened(user)
	r.pace() // a user's own view is published at once; it counts against the pace when there is room
	r.publish(ctx, user)
}

// Page shows user a page of their history in their App Home, narrowed to one status (filter ""
// for all); pages count from 0. The App Home stays there while it refreshes, on this instance.
func (r *Refresher) Page(ctx context.Context, user string, filter expensebot.Status, page int) {
	if filter != "" && !slices.Contains(expensebot.Statuses, filter) {
		filter = ""
	}
	r.homes.setPage(user, homePage{filter: filter, page: max(page, 0)})
	r.pace()
	r.publish(ctx, user)
}

// Run publishes the App Homes marked out of date, a short while after the first mark so that a
// burst coalesces, until ctx ends; the publishes run on work.
func (r *Refresher) Run(ctx, work context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-r.homes.wake:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(r.homes.delay):
		}
		users := r.homes.take()
		for i, u := range users {
			// Within the publishes' pace; those still waiting are coalesced with later changes.
			if wait := r.pace(); wait > 0 {
				r.homes.putBack(users[i:])
				if !sleep(ctx, wait) {
					return
				}
				break
			}
			var ra *notify.RetryAfterError
			if err := r.publish(work, u); errors.As(err, &ra) {
				r.homes.putBack(users[i:])
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

// money reads what the company owes user (every owed status of the table, newest first) and what
// it paid them last (most recently paid first).
func (r *Refresher) money(ctx context.Context, user string) (owed, paid []expensebot.Expense, err error) {
	for _, st := range expensebot.StatusesWhere(func(i expensebot.StatusInfo) bool { return i.Owed }) {
		list, _, err := r.store.History(ctx, user, st, 0, Owed)
		if err != nil {
			return nil, nil, err
		}
		owed = append(owed, list...)
	}
	slices.SortFunc(owed, func(a, b expensebot.Expense) int { return cmp.Compare(b.ID, a.ID) })
	owed = owed[:min(len(owed), Owed)]
	if paid, _, err = r.store.History(ctx, user, expensebot.StatusPaid, 0, 2*Paid); err != nil {
		return nil, nil, err
	}
	slices.SortStableFunc(paid, func(a, b expensebot.Expense) int { return b.PaidAt.Compare(a.PaidAt) })
	return owed, paid[:min(len(paid), Paid)], nil
}

// publish gathers and publishes user's App Home. It returns the platform's refusal to publish,
// for a caller that would wait and try again; other failures are logged.
func (r *Refresher) publish(ctx context.Context, user string) error {
	h := View{Now: r.now()}
	var err error
	fail := func(what string, err error) { r.log.Error("home: "+what, "user_id", user, "err", err) }
	p := r.homes.page(user)
	h.Filter, h.Page = p.filter, p.page
	if h.Mine, h.MineTotal, err = r.store.History(ctx, user, p.filter, p.page*Mine, Mine); err != nil {
		fail("history", err)
		return nil
	}
	if len(h.Mine) == 0 && h.Page > 0 { // the page emptied since (a filter's expenses moved on)
		h.Page = max((h.MineTotal-1)/Mine, 0)
		if h.Mine, h.MineTotal, err = r.store.History(ctx, user, p.filter, h.Page*Mine, Mine); err != nil {
			fail("history", err)
			return nil
		}
	}
	if r.cfg.Drafts != nil {
		if h.Drafts, err = r.cfg.Drafts(ctx, user); err != nil {
			fail("drafts", err) // the rest of the App Home is still worth showing
		}
	}
	if h.Questions, err = r.store.Questions(ctx, user); err != nil {
		fail("questions", err)
		return nil
	}
	if h.Totals, err = r.store.Totals(ctx, user); err != nil {
		fail("totals", err)
		return nil
	}
	if h.Owed, h.Paid, err = r.money(ctx, user); err != nil {
		fail("owed and paid", err)
		return nil
	}
	this := time.Date(h.Now.Year(), h.Now.Month(), 1, 0, 0, 0, 0, time.UTC)
	if h.Months, err = r.store.MonthlyTotals(ctx, user, this.AddDate(0, 1-Months, 0)); err != nil {
		fail("monthly totals", err)
		return nil
	}
	delegations, err := r.store.Delegations(ctx)
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
	h.Reviewer = r.rights.Reviewer(ctx, user)
	h.Reviewer = h.Reviewer || h.Away != nil || len(h.StandingIn) > 0
	all, err := r.store.Pending(ctx, 500)
	if err != nil {
		fail("queue", err)
		return nil
	}
	for _, e := range all {
		if e.SubmitterID == user {
			continue
		}
		forWhom, ok := r.rights.MayDecide(ctx, user, e, delegations)
		if !ok {
			continue
		}
		h.Reviewer = true
		h.QueueTotal++
		if len(h.Queue) < Queue {
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
		h.Insight = r.summary(ctx)
	}
	err = r.pub.PublishHome(ctx, user, h)
	if err != nil {
		r.log.Warn("publish home", "user_id", user, "err", err)
	}
	return err
}

// summary is the last InsightDays as `expensebot report` sums them up, made at most every
// insightTTL; nil when it cannot be made (the App Home then shows everything else).
func (r *Refresher) summary(ctx context.Context) *report.Summary {
	r.insightMu.Lock()
	defer r.insightMu.Unlock()
	now := r.now()
	if r.insight != nil && now.Sub(r.insightAt) < insightTTL {
		return r.insight
	}
	from := now.AddDate(0, 0, -InsightDays)
	// The replays weigh each expense's month and split window: read that far back too.
	list, err := r.store.ExpensesSince(ctx, from.Add(-32*24*time.Hour-max(r.cfg.Rules.SplitWindow, 24*time.Hour)))
	if err != nil {
		r.log.Warn("home: summary", "err", err)
		return nil
	}
	checks, err := r.store.SpotChecks(ctx, from)
	if err != nil {
		r.log.Warn("home: spot checks", "err", err)
		return nil
	}
	sum := report.Summarize(report.Input{Expenses: list, SpotChecks: checks, From: from, Until: now, Rules: r.cfg.Rules})
	r.insightAt, r.insight = now, &sum
	return &sum
}

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

// markReviewers marks everyone who opened the App Home in the last day.
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
// in the order given (a refresh held back for the pace is never overtaken by later marks), and
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
