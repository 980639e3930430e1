package handlers

// The App Home tab.

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/home"
	"github.com/slack-go/slack"
)

// homeView is a person's App Home: a button to submit; the questions waiting for their answer;
// a page of their expenses with a status filter, and their totals by month; and for reviewers who
// decides for them while they are away, and the queue, oldest first, with each expense's age,
// reasons and flags and the same buttons as the approvals channel.
func homeView(h home.View) slack.HomeTabViewRequest {
	bs := []slack.Block{
		slack.NewHeaderBlock(plain("Expenses")),
		slack.NewActionBlock("home-actions", button(ActionNewExpense, "New expense", "new", slack.StylePrimary)),
		contextBlock("Or type `/expense 42.50 Team lunch` anywhere. `/expense help` for more."),
	}
	if len(h.Questions) > 0 {
		bs = append(bs, slack.NewDividerBlock(), section(fmt.Sprintf("*Questions waiting for your answer (%d)*", len(h.Questions))))
		for i, e := range h.Questions {
			if i == home.Questions {
				bs = append(bs, contextBlock(fmt.Sprintf("…and %d more.", len(h.Questions)-i)))
				break
			}
			bs = append(bs, section(fmt.Sprintf(":question: %s\n<@%s> asks: %s", summary(e), e.QuestionBy, inline(e.Question, 500))),
				questionButtons(fmt.Sprintf("home-question-%d", e.ID), e))
		}
	}
	bs = append(bs, draftsSection(h.Drafts)...)
	bs = append(bs, slack.NewDividerBlock(), section("*Your expenses*"), historyFilter(h.Filter))
	if len(h.Mine) == 0 {
		bs = append(bs, contextBlock(map[bool]string{true: "Nothing yet.", false: "None in this status."}[h.Filter == ""]))
	}
	for _, e := range h.Mine {
		line := section(statusLine(e))
		switch {
		case e.Status.Final() && e.Status.Resubmittable() && e.ResubmittedAs == 0:
			line.Accessory = slack.NewAccessory(editButton(e))
		case e.Status == expensebot.StatusPendingReview:
			line.Accessory = slack.NewAccessory(withdrawButton(e))
		case e.Status.Info().Submitter.Has(expensebot.ActAttach):
			line.Accessory = attachButton(e) // a receipt can be added until it is decided
		}
		bs = append(bs, line)
		if e.Status == expensebot.StatusPendingReview {
			// Withdraw holds the row's one accessory; Attach receipt gets a row of its own.
			bs = append(bs, slack.NewActionBlock(fmt.Sprintf("home-attach-%d", e.ID), attachButton(e).ButtonElement))
		}
	}
	if pages := (h.MineTotal + home.Mine - 1) / home.Mine; pages > 1 {
		value := func(page int) string { return string(h.Filter) + "|" + strconv.Itoa(page) }
		var els []slack.BlockElement
		if h.Page > 0 {
			els = append(els, button(ActionHistory+":newer", "← Newer", value(h.Page-1), slack.StyleDefault))
		}
		if h.Page+1 < pages {
			els = append(els, button(ActionHistory+":older", "Older →", value(h.Page+1), slack.StyleDefault))
		}
		bs = append(bs, contextBlock(fmt.Sprintf("Page %d of %d · %d expenses", h.Page+1, pages, h.MineTotal)))
		if len(els) > 0 {
			bs = append(bs, slack.NewActionBlock("home-pages", els...))
		}
	}
	if months := monthLines(h.Months); len(months) > 0 {
		bs = append(bs, contextBlock(months...))
	}
	if t := totalsLine(h.Totals); t != "" {
		bs = append(bs, contextBlock(t))
	}
	bs = append(bs, moneyBlocks(h)...)
	if h.Reviewer {
		bs = append(bs, slack.NewDividerBlock())
		away := section(":palm_tree: Going away? Choose who decides for you meanwhile.")
		away.Accessory = slack.NewAccessory(button(ActionDelegate, "Set away…", "away", slack.StyleDefault))
		if d := h.Away; d != nil {
			away = section(fmt.Sprintf(":palm_tree: You are away until %s; <@%s> decides for you.", lastDayAway(*d), d.Delegate))
			away.Accessory = slack.NewAccessory(button(ActionEndDelegation, "I'm back", "back", slack.StyleDefault))
		}
		bs = append(bs, away)
		if len(h.StandingIn) > 0 {
			var parts []string
			for _, d := range h.StandingIn {
				parts = append(parts, fmt.Sprintf("<@%s> (away until %s)", d.Reviewer, lastDayAway(d)))
			}
			bs = append(bs, contextBlock("You decide for "+strings.Join(parts, ", ")+"."))
		}
		bs = append(bs, section(fmt.Sprintf("*Waiting for review (%d)* · oldest first", h.QueueTotal)))
		if len(h.Queue) == 0 {
			bs = append(bs, contextBlock("The queue is empty. :tada:"))
		}
		for _, e := range h.Queue {
			line := fmt.Sprintf("%s from <@%s> · %s · waiting %s", summary(e), e.SubmitterID, e.IncurredOn.Format("2 Jan"), age(h.Now.Sub(e.CreatedAt)))
			if e.ApprovalsRequired == 2 {
				if e.FirstApprover != "" {
					line += fmt.Sprintf(" · 1 of 2 approvals (%s)", who(e.FirstApprover, e.FirstApproverFor))
				} else {
					line += " · needs 2 approvals"
				}
			}
			if r := h.QueueFor[e.ID]; r != "" {
				line += fmt.Sprintf(" · you decide for <@%s>", r)
			}
			bs = append(bs, section(line+"\n"+whyLine(e)), reviewButtons(fmt.Sprintf("home-%d", e.ID), e))
		}
		if h.QueueTotal > len(h.Queue) {
			bs = append(bs, contextBlock(fmt.Sprintf("…and %d more in the approvals channel.", h.QueueTotal-len(h.Queue))))
		}
		bs = append(bs, insightBlocks(h.Insight)...)
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: blocks(bs...)}
}

// historyFilters are the statuses the App Home's history can be narrowed to, as buttons.
var historyFilters = []struct {
	status expensebot.Status
	label  string
}{
	{"", "All"}, {expensebot.StatusPendingReview, "Pending"}, {expensebot.StatusNeedsInfo, "Needs info"},
	{expensebot.StatusApproved, "Approved"}, {expensebot.StatusAutoApproved, "Auto-approved"},
	{expensebot.StatusRejected, "Rejected"}, {expensebot.StatusExpired, "Expired"}, {expensebot.StatusWithdrawn, "Withdrawn"},
	{expensebot.StatusPaid, "Paid"},
}

// historyFilter is the row of filter buttons over the history; the one in use is highlighted.
func historyFilter(current expensebot.Status) *slack.ActionBlock {
	var els []slack.BlockElement
	for _, f := range historyFilters {
		name := string(f.status)
		if name == "" {
			name = "all"
		}
		style := slack.StyleDefault
		if f.status == current {
			style = slack.StylePrimary
		}
		els = append(els, button(ActionHistory+":"+name, f.label, string(f.status)+"|0", style))
	}
	return slack.NewActionBlock("home-history-filter", els...)
}

// monthLines are one line per month: what was claimed in it, by status.
func monthLines(ts []expensebot.Total) []string {
	var lines []string
	var month time.Time
	var parts []string
	flush := func() {
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("*%s* · %s", month.Format("January 2006"), strings.Join(parts, " · ")))
		}
	}
	for _, t := range ts {
		if !t.Month.Equal(month) {
			flush()
			month, parts = t.Month, nil
		}
		parts = append(parts, fmt.Sprintf("%s %d (%s)", strings.ToLower(t.Status.Label()), t.Count, t.Sum))
	}
	flush()
	return lines
}

// age says how long something has waited, to the hour or minute.
func age(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd %dh", int(d.Hours())/24, int(d.Hours())%24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh %dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm", max(int(d.Minutes()), 0))
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

// moneyBlocks tell an employee what the company owes them (approved, not paid yet), in all and
// the latest of it, and what it paid them last; nothing when there is neither.
func moneyBlocks(h home.View) []slack.Block {
	var owedParts []string
	count := 0
	sums := map[string]int64{}
	var currencies []string
	for _, t := range h.Totals {
		if !t.Status.Info().Owed {
			continue
		}
		count += t.Count
		if _, ok := sums[t.Sum.Currency]; !ok {
			currencies = append(currencies, t.Sum.Currency)
		}
		sums[t.Sum.Currency] += t.Sum.Minor
	}
	slices.Sort(currencies)
	for _, c := range currencies {
		owedParts = append(owedParts, expensebot.Money{Minor: sums[c], Currency: c}.String())
	}
	if count == 0 && len(h.Paid) == 0 {
		return nil
	}
	var bs []slack.Block
	if count > 0 {
		lines := []string{fmt.Sprintf(":moneybag: *Owed to you: %s* (%d approved, not paid yet)", strings.Join(owedParts, " + "), count)}
		for _, e := range h.Owed {
			lines = append(lines, fmt.Sprintf("• %s · approved %s", summary(e), e.DecidedAt.UTC().Format("2 Jan")))
		}
		if count > len(h.Owed) {
			lines = append(lines, fmt.Sprintf("…and %d more.", count-len(h.Owed)))
		}
		bs = append(bs, section(strings.Join(lines, "\n")))
	}
	if len(h.Paid) > 0 {
		lines := []string{"*Paid to you lately*"}
		for _, e := range h.Paid {
			line := fmt.Sprintf("• %s · paid on %s", summary(e), e.PaidAt.UTC().Format("2 Jan 2006"))
			if e.ExportBatch != 0 {
				line += fmt.Sprintf(", batch %d", e.ExportBatch)
			}
			if e.PaidReference != "" {
				line += ", reference " + inline(e.PaidReference, expensebot.MaxPayReference)
			}
			lines = append(lines, line)
		}
		bs = append(bs, section(strings.Join(lines, "\n")))
	}
	return bs
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
