package handlers

// The App Home tab.

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/slack-go/slack"
)

// homeView is a person's App Home: a button to submit, their recent expenses and totals, and for
// reviewers the queue with the same buttons as the approvals channel.
func homeView(h approval.Home) slack.HomeTabViewRequest {
	mine, myTotals, reviewer, queue, queueTotal := h.Mine, totalsLine(h.Totals), h.Reviewer, h.Queue, h.QueueTotal
	bs := []slack.Block{
		slack.NewHeaderBlock(plain("Expenses")),
		slack.NewActionBlock("home-actions", button(ActionNewExpense, "New expense", "new", slack.StylePrimary)),
		contextBlock("Or type `/expense 42.50 Team lunch` anywhere. `/expense help` for more."),
		slack.NewDividerBlock(),
		section("*Your recent expenses*"),
	}
	if len(mine) == 0 {
		bs = append(bs, contextBlock("Nothing yet."))
	}
	for _, e := range mine {
		bs = append(bs, slack.NewSectionBlock(mrkdwn(fit(statusLine(e), maxText)), nil, attachButton(e)))
	}
	if myTotals != "" {
		bs = append(bs, contextBlock(myTotals))
	}
	if reviewer {
		bs = append(bs, slack.NewDividerBlock(), section(fmt.Sprintf("*Waiting for review (%d)*", queueTotal)))
		if len(queue) == 0 {
			bs = append(bs, contextBlock("The queue is empty. :tada:"))
		}
		for _, e := range queue {
			line := fmt.Sprintf("%s from <@%s> · %s", summary(e), e.SubmitterID, e.IncurredOn.Format("2 Jan"))
			if e.ApprovalsRequired == 2 {
				if e.FirstApprover != "" {
					line += fmt.Sprintf(" · 1 of 2 approvals (<@%s>)", e.FirstApprover)
				} else {
					line += " · needs 2 approvals"
				}
			}
			bs = append(bs, section(line), contextBlock(whyLine(e)), reviewButtons(fmt.Sprintf("home-%d", e.ID), e))
		}
		if queueTotal > len(queue) {
			bs = append(bs, contextBlock(fmt.Sprintf("…and %d more in the approvals channel.", queueTotal-len(queue))))
		}
		bs = append(bs, insightBlocks(h.Insight)...)
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: blocks(bs...)}
}

// totalsLine summarises someone's expenses per status and currency.
func totalsLine(ts []expensebot.Total) string {
	if len(ts) == 0 {
		return ""
	}
	ts = slices.Clone(ts)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Status < ts[j].Status })
	var parts []string
	for _, t := range ts {
		parts = append(parts, fmt.Sprintf("%s: %d (%s)", t.Status.Label(), t.Count, t.Sum))
	}
	return "Totals · " + strings.Join(parts, " · ")
}

// whyLine says, under a queued expense, why a person decides it and what the AI flagged, so that
// no Approve in the App Home is blind.
func whyLine(e expensebot.Expense) string {
	line := "Why: " + inline(strings.Join(e.ReviewReasons, "; "), 1500)
	if len(e.ReviewReasons) == 0 {
		line = "Why: sent to a person"
	}
	if flags := expensebot.FlagsOf(e); len(flags) > 0 {
		line += " · flagged because " + flagList(flags)
	}
	return line
}
