package handlers

// Direct messages to the submitter.

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// submitterNotice is the DM that tells a submitter what happened to their expense.
func submitterNotice(e expensebot.Expense, n expensebot.Notice) Message {
	var text string
	s := fmt.Sprintf("#%d (%s, %s)", e.ID, e.Amount, inline(e.Description, 80))
	switch n.Event {
	case expensebot.EventAutoApproved:
		text = fmt.Sprintf(":white_check_mark: Your expense %s was approved automatically.", s)
	case expensebot.EventRouted:
		text = fmt.Sprintf(":eyes: Your expense %s went to a reviewer: %s. I'll tell you when it is decided.", s, inline(strings.Join(e.ReviewReasons, "; "), 1500))
	case expensebot.EventReviewBlocked:
		text = fmt.Sprintf(":hourglass: Your expense %s is waiting for an administrator: I cannot post it to the reviewers' channel yet. It stays pending, reviewers can decide it from their App Home, and I'll post it as soon as the channel works.", s)
	case expensebot.EventFirstApproval:
		text = fmt.Sprintf(":+1: Your expense %s has 1 of 2 approvals (%s); waiting for a second reviewer.", s, who(n.Actor, forIf(e.FirstApprover == n.Actor, e.FirstApproverFor)))
	case expensebot.EventApproved:
		text = fmt.Sprintf(":white_check_mark: Your expense %s was approved by %s.", s, who(n.Actor, forIf(e.DecidedBy == n.Actor, e.DecidedFor)))
	case expensebot.EventRejected:
		text = fmt.Sprintf(":x: Your expense %s was rejected by %s: %s", s, who(n.Actor, forIf(e.DecidedBy == n.Actor, e.DecidedFor)), inline(e.DecisionReason, 1000))
	case expensebot.EventPaid:
		text = fmt.Sprintf(":moneybag: Your expense %s was paid on %s", s, e.PaidAt.UTC().Format("2 Jan 2006"))
		if e.ExportBatch != 0 {
			text += fmt.Sprintf(", batch %d", e.ExportBatch)
		}
		if ref := inline(n.Text, expensebot.MaxPayReference); ref != "" {
			text += ", reference " + ref
		}
		text += "."
	case expensebot.EventExpired:
		text = fmt.Sprintf(":hourglass: Your expense %s expired: no reviewer decided it in the time allowed. It was not rejected; you can edit it and submit it again.", s)
	default:
		text = fmt.Sprintf("Your expense %s is now %s.", s, strings.ToLower(e.Status.Label()))
	}
	bs := []slack.Block{slack.NewSectionBlock(mrkdwn(fit(text, maxText)), nil, attachButton(e))}
	// The first news of an expense a system submitted says which system: the submitter did not type it.
	if client, ok := strings.CutPrefix(e.SubmittedBy, "api:"); ok && (n.Event == expensebot.EventRouted || n.Event == expensebot.EventAutoApproved) {
		bs = append(bs, contextBlock(fmt.Sprintf("Submitted for you by *%s* through the expense API.", escape(client))))
	}
	if (n.Event == expensebot.EventRejected || n.Event == expensebot.EventExpired) && e.ResubmittedAs == 0 {
		bs = append(bs, slack.NewActionBlock(fmt.Sprintf("dm-%d-%s", e.ID, n.Event), editButton(e)))
	}
	if e.Assessment != nil && e.Assessment.Offline {
		bs = append(bs, contextBlock("AI advice came from the sandbox's offline assessor, not a model."))
	}
	if slices.ContainsFunc(e.Receipts, func(r expensebot.Receipt) bool { return r.Reading != nil && r.Reading.Offline }) {
		bs = append(bs, contextBlock("The receipt was read by the sandbox's offline extractor (sample receipts, not a model)."))
	}
	return Message{Text: text, Blocks: blocks(bs...)}
}

// forIf is forWhom when cond holds: the stored "for" belongs to the notice's actor only when they
// are the one stored.
func forIf(cond bool, forWhom string) string {
	if cond {
		return forWhom
	}
	return ""
}

// editButton opens the expense form filled in from e, to submit it again.
func editButton(e expensebot.Expense) *slack.ButtonBlockElement {
	return button(ActionID(ActionEdit, e.ID), "Edit and resubmit", strconv.FormatInt(e.ID, 10), slack.StyleDefault)
}

// withdrawButton withdraws e, once confirmed.
func withdrawButton(e expensebot.Expense) *slack.ButtonBlockElement {
	b := button(ActionID(ActionWithdraw, e.ID), "Withdraw", strconv.FormatInt(e.ID, 10), slack.StyleDanger)
	b.Confirm = slack.NewConfirmationBlockObject(plain("Withdraw this expense?"),
		plain(fmt.Sprintf("Withdraw expense #%d of %s? Reviewers will no longer decide it.", e.ID, e.Amount)), plain("Withdraw"), plain("Keep it"))
	return b
}

// questionButtons are what the submitter can do about a question: answer it, change the expense
// and submit it again, or withdraw it.
func questionButtons(blockID string, e expensebot.Expense) *slack.ActionBlock {
	return slack.NewActionBlock(blockID,
		button(ActionID(ActionReply, e.ID), "Reply", strconv.FormatInt(e.ID, 10), slack.StylePrimary),
		editButton(e), withdrawButton(e))
}

// commentNotice is a reviewer's comment or question, threaded under the approvals message and
// sent to the submitter. A question's DM carries the buttons to answer it.
func commentNotice(e expensebot.Expense, n expensebot.Notice, dm bool) Message {
	if n.Event != expensebot.EventInfoRequested {
		head := fmt.Sprintf(":speech_balloon: <@%s> commented on expense #%d (%s):", n.Actor, e.ID, e.Amount)
		return Message{Text: head + " " + inline(n.Text, 1000), Blocks: blocks(section(head), userText(n.Text))}
	}
	asker := who(n.Actor, forIf(e.QuestionBy == n.Actor, e.QuestionFor))
	if !dm {
		head := fmt.Sprintf(":question: %s asked <@%s> about expense #%d (%s):", asker, e.SubmitterID, e.ID, e.Amount)
		return Message{Text: head + " " + inline(n.Text, 1000), Blocks: blocks(section(head), userText(n.Text),
			contextBlock("It waits for the answer, out of the queue; reminders and the expiry clock pause meanwhile."))}
	}
	head := fmt.Sprintf(":question: %s has a question about your expense #%d (%s, %s):", asker, e.ID, e.Amount, inline(e.Description, 80))
	bs := []slack.Block{section(head), userText(n.Text)}
	if e.Status.Info().Submitter.Has(expensebot.ActAnswer) {
		bs = append(bs, questionButtons(fmt.Sprintf("dm-%d-question", e.ID), e),
			contextBlock("The reviewers wait for your reply. You can also change the expense and submit it again, or withdraw it."))
	}
	return Message{Text: head + " " + inline(n.Text, 1000), Blocks: blocks(bs...)}
}

// threadMessage is a reply under the approval card: the submitter's answer, a reminder to the
// reviewers, or an escalation.
func threadMessage(e expensebot.Expense, n expensebot.Notice) Message {
	var head string
	switch n.Event {
	case expensebot.EventInfoProvided:
		head = fmt.Sprintf(":speech_balloon: <@%s> answered <@%s>'s question on expense #%d (%s):", e.SubmitterID, n.Actor, e.ID, e.Amount)
		return Message{Text: head + " " + inline(n.Text, 1000), Blocks: blocks(section(head), userText(n.Text),
			contextBlock("It is back in the queue."))}
	case expensebot.EventReminded:
		head = fmt.Sprintf(":alarm_clock: Expense #%d (%s from <@%s>) is still waiting for a decision; it was submitted %s.",
			e.ID, e.Amount, e.SubmitterID, slackDate(e.CreatedAt))
		return Message{Text: head, Blocks: blocks(section(head), section("Who may decide it: "+deciders(n.Mention, n.Delegates)))}
	case expensebot.EventEscalated:
		added := strings.Split(n.Text, ",")
		head = fmt.Sprintf(":arrow_double_up: Expense #%d has waited too long for a decision: %s may decide it now too.", e.ID, mentions(added))
		var extra []expensebot.Delegation
		for _, d := range n.Delegates {
			if slices.Contains(added, d.Reviewer) {
				extra = append(extra, d)
			}
		}
		bs := []slack.Block{section(head)}
		if len(extra) > 0 {
			bs = append(bs, section("Standing in: "+deciders(nil, extra)))
		}
		return Message{Text: head, Blocks: blocks(bs...)}
	}
	head = fmt.Sprintf("Expense #%d is now %s.", e.ID, strings.ToLower(e.Status.Label()))
	return Message{Text: head, Blocks: blocks(section(head))}
}

// lastDayAway is the last day of a delegation, as its reviewer chose it: it ends at the start of
// the next day (UTC).
func lastDayAway(d expensebot.Delegation) string {
	return d.Until.Add(-time.Nanosecond).UTC().Format("Mon 2 Jan")
}

// deciders mentions who may decide, and each delegate with the reviewer they stand in for.
func deciders(ids []string, delegates []expensebot.Delegation) string {
	parts := []string{}
	if len(ids) > 0 {
		parts = append(parts, mentions(ids))
	}
	for _, d := range delegates {
		parts = append(parts, fmt.Sprintf("%s (for <@%s>, away until %s)", mention(d.Delegate), d.Reviewer, lastDayAway(d)))
	}
	return strings.Join(parts, " · ")
}
