package handlers

// Direct messages to the submitter.

import (
	"fmt"
	"strings"

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
		text = fmt.Sprintf(":+1: Your expense %s has 1 of 2 approvals (<@%s>); waiting for a second reviewer.", s, n.Actor)
	case expensebot.EventApproved:
		text = fmt.Sprintf(":white_check_mark: Your expense %s was approved by <@%s>.", s, n.Actor)
	case expensebot.EventRejected:
		text = fmt.Sprintf(":x: Your expense %s was rejected by <@%s>: %s", s, n.Actor, inline(e.DecisionReason, 1000))
	default:
		text = fmt.Sprintf("Your expense %s is now %s.", s, strings.ToLower(e.Status.Label()))
	}
	bs := []slack.Block{slack.NewSectionBlock(mrkdwn(fit(text, maxText)), nil, attachButton(e))}
	// The first news of an expense a system submitted says which system: the submitter did not type it.
	if client, ok := strings.CutPrefix(e.SubmittedBy, "api:"); ok && (n.Event == expensebot.EventRouted || n.Event == expensebot.EventAutoApproved) {
		bs = append(bs, contextBlock(fmt.Sprintf("Submitted for you by *%s* through the expense API.", escape(client))))
	}
	if e.Assessment != nil && e.Assessment.Offline {
		bs = append(bs, contextBlock("AI advice came from the sandbox's offline assessor, not a model."))
	}
	return Message{Text: text, Blocks: blocks(bs...)}
}

// commentNotice is a reviewer's comment, threaded under the approvals message and sent to the
// submitter.
func commentNotice(e expensebot.Expense, n expensebot.Notice) Message {
	head := fmt.Sprintf(":speech_balloon: <@%s> commented on expense #%d (%s):", n.Actor, e.ID, e.Amount)
	return Message{Text: head + " " + inline(n.Text, 1000), Blocks: blocks(section(head), userText(n.Text))}
}
