package handlers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/slack-go/slack"
)

// homeRefresher republishes App Home views of people whose data changed, coalescing bursts: a
// dozen changes in a second cost one views.publish per person.
type homeRefresher struct {
	app     *App
	delay   time.Duration
	mu      sync.Mutex
	due     map[string]bool
	viewers map[string]time.Time // who opened their App Home, and when
	timer   *time.Timer
	ctx     context.Context
}

func newHomeRefresher(a *App) *homeRefresher {
	return &homeRefresher{app: a, delay: 300 * time.Millisecond, due: map[string]bool{}, viewers: map[string]time.Time{}, ctx: context.Background()}
}

// mark schedules a refresh of user's App Home, if they have ever opened it.
func (h *homeRefresher) mark(user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, seen := h.viewers[user]; !seen {
		return
	}
	h.due[user] = true
	h.schedule()
}

// markReviewers schedules a refresh for every reviewer who has the App Home open recently.
func (h *homeRefresher) markReviewers() {
	h.mu.Lock()
	var users []string
	for u, at := range h.viewers {
		if time.Since(at) < 24*time.Hour {
			users = append(users, u)
		}
	}
	h.mu.Unlock()
	for _, u := range users {
		if ok, _ := h.app.reviewers.allowed(h.ctx, u, nil); ok {
			h.mark(u)
		}
	}
}

func (h *homeRefresher) opened(user string) {
	h.mu.Lock()
	h.viewers[user] = time.Now()
	h.mu.Unlock()
}

// schedule arms the timer; h.mu is held.
func (h *homeRefresher) schedule() {
	if h.timer != nil {
		return
	}
	h.timer = time.AfterFunc(h.delay, func() {
		h.mu.Lock()
		users := h.due
		h.due, h.timer = map[string]bool{}, nil
		ctx := h.ctx
		h.mu.Unlock()
		for u := range users {
			h.app.publishHome(ctx, u)
		}
	})
}

// HomeOpened handles app_home_opened: the first delivery of an event id publishes the view.
func (a *App) HomeOpened(eventID, user, tab string) Work {
	if tab != "home" || user == "" {
		return nil
	}
	return func(ctx context.Context) {
		if eventID != "" {
			first, err := a.store.FirstSeen(ctx, eventID)
			if err != nil {
				a.log.Warn("event dedupe", "event_id", eventID, "err", err)
			} else if !first {
				a.log.Info("redelivered event ignored", "event_id", eventID)
				return
			}
		}
		a.homes.opened(user)
		a.publishHome(ctx, user)
	}
}

// publishHome builds and publishes user's App Home.
func (a *App) publishHome(ctx context.Context, user string) {
	mine, err := a.store.BySubmitter(ctx, user, 0, homeMine)
	if err != nil {
		a.log.Error("home: history", "user", user, "err", err)
		return
	}
	totals, err := a.store.Totals(ctx, user)
	if err != nil {
		a.log.Error("home: totals", "user", user, "err", err)
		return
	}
	reviewer, _ := a.reviewers.allowed(ctx, user, nil)
	var queue []expensebot.Expense
	queueTotal := 0
	if reviewer {
		all, err := a.store.Pending(ctx, 500)
		if err != nil {
			a.log.Error("home: queue", "user", user, "err", err)
			return
		}
		queueTotal = len(all)
		for _, e := range all {
			if e.SubmitterID != user && len(queue) < homeQueue {
				queue = append(queue, e)
			}
		}
	}
	view := homeView(mine, totalsLine(totals), reviewer, queue, queueTotal)
	if _, err := a.slack.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		a.log.Warn("publish home", "user", user, "err", err)
	}
}

// totalsLine summarises someone's expenses per status and currency.
func totalsLine(ts []store.Total) string {
	if len(ts) == 0 {
		return ""
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i].Status < ts[j].Status })
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s: %d (%s)", t.Status.Label(), t.Count, t.Sum))
	}
	return "Totals · " + strings.Join(parts, " · ")
}
