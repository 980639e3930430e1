package bot_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/internal/fakeslack"
)

// monthEnd routes n members' expenses at once, before the bot starts: those card says go to a
// reviewer in the approvals channel, the rest are approved automatically. It returns the ids of
// those with a card, in routing order. Members are prefix followed by a three-digit number.
func (h *harness) monthEnd(prefix string, n int, card func(i int) bool) []int64 {
	h.t.Helper()
	ctx := context.Background()
	var cardIDs []int64
	for i := range n {
		user := fmt.Sprintf("%s%03d", prefix, i)
		h.slack.AddUser(fakeslack.User{ID: user, Name: strings.ToLower(user), RealName: "Member " + user})
		e, _, err := h.db.Submit(ctx, expensebot.Expense{SubmitterID: user, IdempotencyKey: "k" + user, Amount: usd(int64(1000 + i)),
			Description: "Month-end claim", Category: "other"})
		if err != nil {
			h.t.Fatal(err)
		}
		h.db.StartAssessment(ctx, e.ID, time.Minute)
		route := expensebot.Route{AutoApprove: true, Reasons: []string{"small"}}
		if card(i) {
			route = expensebot.Route{ApprovalsRequired: 1, Channel: approvals, Reviewers: []string{rev1}, Reasons: []string{"over the limit"}}
			cardIDs = append(cardIDs, e.ID)
		}
		if _, err := h.db.Route(ctx, e.ID, nil, route); err != nil {
			h.t.Fatal(err)
		}
	}
	return cardIDs
}

// cardTimes are when each card posted to the approvals channel got through, in order.
func cardTimes(h *harness) []time.Time {
	var at []time.Time
	for _, c := range h.slack.Calls("chat.postMessage") {
		if thread, _ := c.Params["thread_ts"].(string); c.Error == "" && c.Params["channel"] == approvals && thread == "" {
			at = append(at, c.At)
		}
	}
	return at
}

// everyMemberTold waits until each of monthEnd's n members has a DM.
func (h *harness) everyMemberTold(prefix string, n int) {
	h.t.Helper()
	h.eventuallyWithin(batchWait, "every DM", func() bool {
		for i := range n {
			if h.slack.MessageCount(fmt.Sprintf("%s%03d", prefix, i)) == 0 {
				return false
			}
		}
		return true
	})
}

// TestBusyChannelDoesNotHoldUpDMs: month end. Twenty approval cards for one channel that Slack
// limits (here to 2 messages a second) and three hundred auto-approval DMs are due at once. Every
// DM arrives while the cards still drain at the channel's pace, in submission order, each exactly
// once. The DMs are measured against the channel's pace, not the clock: a busy machine slows
// both the same way, while DMs queued behind the cards would arrive after them.
func TestBusyChannelDoesNotHoldUpDMs(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const cards, dms, perSecond = 20, 300, 2
		h.slack.LimitChannel(approvals, perSecond)
		h.postInterval = time.Second / perSecond // the channel's limit here
		cardIDs := h.monthEnd("UM", cards+dms, func(i int) bool { return i < cards })
		start := time.Now()
		h.start()
		h.everyMemberTold("UM", cards+dms)
		dmsTook := time.Since(start)
		var posted []fakeslack.Message
		h.eventuallyWithin(batchWait, "every card", func() bool {
			posted = nil
			for _, m := range h.slack.Messages(approvals, "") {
				if m.ThreadTS == "" && m.EphemeralTo == "" {
					posted = append(posted, m)
				}
			}
			return len(posted) >= cards
		})
		cardsTook := time.Since(start)
		if dmsTook >= cardsTook {
			t.Errorf("the DMs took %s, the cards %s: the busy channel held up the DMs", dmsTook, cardsTook)
		}
		// The first cards may go at once (the channel's second is not yet spent); the rest at
		// its pace.
		if least := time.Duration(cards-perSecond) * time.Second / perSecond; cardsTook < least {
			t.Errorf("%d cards in %s: faster than the channel allows (at least %s)", cards, cardsTook, least)
		}
		if len(posted) != cards {
			t.Errorf("%d cards posted, want %d", len(posted), cards)
		}
		for i, m := range posted {
			if i < len(cardIDs) && !strings.HasPrefix(m.Text, fmt.Sprintf("Expense #%d from", cardIDs[i])) {
				t.Errorf("card %d is %q, want expense #%d: not in submission order", i, m.Text, cardIDs[i])
			}
		}
		for i := range cards + dms {
			if n := h.slack.MessageCount(fmt.Sprintf("UM%03d", i)); n != 1 {
				t.Errorf("member %d got %d DMs", i, n)
			}
		}
	})
}

// TestMonthEndThreeHundredCards: the month end at Slack's real pace. Three hundred
// approval cards for a channel Slack limits to one message a second, and three hundred
// auto-approval DMs, are due at once. Every DM arrives while only the first few cards have gone
// out (queued behind the cards, they would come at the cards' pace: five minutes); the cards go
// out at the channel's pace, in submission order, none twice, and the rest wait in the outbox
// (draining all 300 takes five minutes: TestBusyChannelDoesNotHoldUpDMs drains a shorter queue
// to the end).
func TestMonthEndThreeHundredCards(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		const cards, dms = 300, 300
		h.slack.LimitChannel(approvals, 1)
		ctx := context.Background()
		cardIDs := h.monthEnd("UE", cards+dms, func(i int) bool { return i%2 == 0 }) // interleaved, as they are routed
		start := time.Now()
		in := h.start()
		// Each member gets one DM: "approved automatically", or "went to a reviewer" with a card.
		h.everyMemberTold("UE", cards+dms)
		if n := len(cardTimes(h)); n > cards/4 {
			t.Errorf("%d of the %d cards went out before the last DM: the busy channel held the DMs up", n, cards)
		}
		// Slack's pace, give or take the short burst it allows, read from when each card was
		// posted: never more than its limit lets through, and one a second once the DMs are out
		// (three gaps take well under twice that: the pacer waits for a slot, not for the
		// previous post's work).
		told := time.Now()
		var at []time.Time
		after := 0 // the first card posted after the last DM
		h.eventuallyWithin(batchWait, "four cards after the DMs", func() bool {
			at = cardTimes(h)
			after = len(at)
			for i, a := range at {
				if !a.Before(told) {
					after = i
					break
				}
			}
			return len(at)-after >= 4
		})
		if took := at[after+3].Sub(at[after]); took > 3*2*time.Second {
			t.Errorf("cards %d to %d took %s; want one a second once going", after+1, after+4, took)
		}
		for k, a := range at {
			if since := a.Sub(start); since < time.Duration(k-4)*time.Second {
				t.Errorf("card %d posted %s after the start: more than Slack's limit lets through", k, since)
			}
		}
		// Stopped, the instance posts nothing more and hands back what it holds: what was posted
		// and what waits are then exact.
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		var posted []fakeslack.Message
		for _, m := range h.slack.Messages(approvals, "") {
			if m.ThreadTS == "" && m.EphemeralTo == "" {
				posted = append(posted, m)
			}
		}
		for i, m := range posted {
			if !strings.HasPrefix(m.Text, fmt.Sprintf("Expense #%d from", cardIDs[i])) {
				t.Errorf("card %d is %q, want expense #%d: not in submission order, or posted twice", i, m.Text, cardIDs[i])
			}
		}
		for i := range cards + dms {
			if n := h.slack.MessageCount(fmt.Sprintf("UE%03d", i)); n != 1 {
				t.Errorf("member %d got %d DMs", i, n)
			}
		}
		// None lost: every card not yet posted is still waiting in the outbox, and nothing else.
		if n, err := h.db.PendingNotices(ctx); err != nil || n != cards-len(posted) {
			t.Errorf("%d notices wait, want the %d cards not yet posted (%v)", n, cards-len(posted), err)
		}
	})
}

// TestShutdownDoesNotWaitOutRetryAfter: Slack asked a conversation to wait 60 s when SIGTERM
// comes. The instance stops at once instead of waiting it out, hands the notice back, and the next
// instance delivers it, once.
func TestShutdownDoesNotWaitOutRetryAfter(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		in := h.start()
		h.slack.FailNext("chat.postMessage", 1, 429, "", 60)
		h.command(emp, "8 Pens")
		h.eventually("the 429", func() bool { return len(h.slack.Calls("chat.postMessage")) == 1 })
		start := time.Now()
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("shutdown took %s waiting out Retry-After", took)
		}
		next := h.start()
		h.dm(emp, "(8.00 USD, Pens) was approved automatically")
		// Once the instance has stopped, nothing is left in the outbox to be said again: the DM
		// count then is final.
		if err := next.stop(); err != nil {
			t.Fatal(err)
		}
		if n, err := h.db.PendingNotices(context.Background()); n != 0 || err != nil {
			t.Errorf("%d notices still wait (%v), want none", n, err)
		}
		if n := h.slack.MessageCount(emp); n != 1 {
			t.Errorf("%d DMs, want 1", n)
		}
	})
}

// TestAppHomeRefreshesKeepToTheTier: views.publish is limited per workspace (Tier 4, about 100 a
// minute). When one change makes many App Homes out of date, the refreshes are spread out at that
// pace instead of being refused, and every one still arrives; a 429 is waited out, not dropped.
func TestAppHomeRefreshesKeepToTheTier(t *testing.T) {
	h := newHarness(t, "sqlite")
	h.start()
	const viewers = 8
	for i := range viewers {
		user := fmt.Sprintf("UV%02d", i)
		h.slack.AddUser(fakeslack.User{ID: user, Name: strings.ToLower(user), RealName: "Viewer " + user})
		if _, err := h.slack.OpenHome(user); err != nil {
			t.Fatal(err)
		}
	}
	// Opening them spent 8 of the 10 the tier allows at once: 2 are left, then one every 0.6 s.
	h.eventually("every App Home shown", func() bool { return len(h.slack.Calls("views.publish")) == viewers })
	h.slack.FailNext("views.publish", 1, 429, "", 1)
	h.command(emp, "5000 Conference travel") // goes to a reviewer: every viewer's App Home is redrawn
	h.eventually("every App Home refreshed, the refused one too", func() bool {
		shown := map[string]int{}
		for _, c := range h.slack.Calls("views.publish") {
			if c.Error == "" {
				shown[fmt.Sprint(c.Params["user_id"])]++
			}
		}
		for i := range viewers {
			if shown[fmt.Sprintf("UV%02d", i)] < 2 {
				return false
			}
		}
		return true
	})
	var at []time.Time
	for _, c := range h.slack.Calls("views.publish")[viewers:] {
		at = append(at, c.At)
	}
	// 2 at once, then the 429 (1 s), then one every 0.6 s: never more than 4 in the first second,
	// read from when each refresh was asked for.
	if n := len(slices.DeleteFunc(slices.Clone(at), func(t time.Time) bool { return !t.Before(at[0].Add(time.Second)) })); n > 4 {
		t.Errorf("%d App Home refreshes in the first second, over the tier", n)
	}
	if took := at[len(at)-1].Sub(at[0]); took < 3*time.Second {
		t.Errorf("%d refreshes in %s: faster than the tier allows", len(at), took)
	}
}
