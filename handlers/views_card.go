package handlers

// The approval card reviewers see in the approvals channel.

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// aiLine describes the AI's advice for a reviewer.
func aiLine(a *expensebot.Assessment) string {
	switch {
	case a == nil:
		return ":robot_face: AI check is off."
	case a.Error != "":
		return ":warning: AI check failed: " + inline(a.Error, 500)
	}
	line := fmt.Sprintf(":robot_face: AI suggests *%s* (confidence %.2f from %s, model %s)", a.Decision, a.Confidence, a.ConfidenceSource, inline(a.Model, 100))
	if a.Offline {
		line = fmt.Sprintf(":robot_face: Offline assessor (sandbox rules, not a model) suggests *%s* (confidence %.2f)", a.Decision, a.Confidence)
	}
	if len(a.Reasons) > 0 {
		line += ": " + inline(strings.Join(a.Reasons, "; "), maxText)
	}
	if len(a.Flags) > 0 {
		line += " · flagged because " + flagList(a.Flags)
	}
	return line
}

func expenseFields(e expensebot.Expense) []*slack.TextBlockObject {
	return []*slack.TextBlockObject{
		mrkdwn("*Submitted by*\n<@" + e.SubmitterID + ">"), mrkdwn("*Amount*\n" + amountLine(e)),
		mrkdwn("*Category*\n" + categoryLabel(e.Category)), mrkdwn("*Date*\n" + e.IncurredOn.Format("Mon 2 Jan 2006")),
	}
}

// amountLine is the amount as submitted and, in another currency, what it came to in the home
// currency and at what rate: "9,900.00 EUR ≈ 10,741.50 USD at 1.0850, ECB 2026-11-24".
func amountLine(e expensebot.Expense) string {
	home := e.HomeAmount
	switch {
	case home.Currency == "" || home.Currency == e.Amount.Currency:
		return e.Amount.String()
	case home.Minor == 0 || e.Rate.Value == "":
		return fmt.Sprintf("%s · no known exchange rate to %s", e.Amount, home.Currency)
	}
	return fmt.Sprintf("%s ≈ %s at %s, %s %s", e.Amount, home, inline(e.Rate.Value, 40), inline(e.Rate.Source, 100), e.Rate.Date.Format(time.DateOnly))
}

func receiptLine(e expensebot.Expense, links map[string]string) string {
	if len(e.ReceiptFileIDs) == 0 {
		return ":page_facing_up: No receipt"
	}
	var parts []string
	for _, id := range e.ReceiptFileIDs {
		if u, ok := links[id]; ok {
			parts = append(parts, "<"+u+"|receipt>")
		} else {
			parts = append(parts, "receipt "+escape(id))
		}
	}
	return ":page_facing_up: " + strings.Join(parts, ", ")
}

// approvalMessage is what reviewers see in the approvals channel: the facts, the AI's advice, the
// policy's reasons, the other expenses the finance controls found (cards links them to their own
// cards: expense id → permalink) and, while pending, the buttons.
func approvalMessage(e expensebot.Expense, receipts map[string]string, cards map[int64]string) Message {
	bs := []slack.Block{slack.NewHeaderBlock(plain(fmt.Sprintf("Expense #%d · %s", e.ID, e.Amount)))}
	if e.ResubmitOf != 0 {
		bs = append(bs, contextBlock(fmt.Sprintf(":leftwards_arrow_with_hook: Resubmission of expense #%d, edited by its submitter", e.ResubmitOf)))
	}
	bs = append(bs, slack.NewSectionBlock(nil, expenseFields(e), nil), userText(e.Description))
	bs = append(bs, receiptBlocks(e, receipts)...)
	bs = append(bs, section(aiLine(e.Assessment)))
	if len(e.ReviewReasons) > 0 {
		heading := "*Why a person decides:*"
		if e.Status.Info().Column == expensebot.ColumnAutomatic {
			// A card approved after all, once its receipt was read: its reasons say why it could be.
			heading = "*Why it was approved automatically:*"
		}
		bs = append(bs, section(heading+"\n• "+bullets(e.ReviewReasons)))
	}
	bs = append(bs, findingBlocks(e, cards)...)
	if len(e.EscalatedTo) > 0 {
		bs = append(bs, contextBlock(":arrow_double_up: Escalated after waiting too long: "+mentions(e.EscalatedTo)+" may decide it too"))
	}
	text := fmt.Sprintf("Expense #%d from <@%s>: %s, needs review", e.ID, e.SubmitterID, e.Amount)
	switch {
	case e.Status.Info().Reviewers.Has(expensebot.ActDecide):
		if e.ApprovalsRequired == 2 {
			progress := "Needs 2 approvals from different reviewers · 0 of 2 so far"
			if e.FirstApprover != "" {
				progress = fmt.Sprintf("1 of 2 approvals: %s · waiting for a second, different reviewer", who(e.FirstApprover, e.FirstApproverFor))
			}
			bs = append(bs, contextBlock(":busts_in_silhouette: "+progress))
		}
		bs = append(bs, reviewButtons(fmt.Sprintf("expense-%d-actions", e.ID), e))
	case e.Status.Info().Submitter.Has(expensebot.ActAnswer):
		text = fmt.Sprintf("Expense #%d from <@%s>: %s, waiting for an answer", e.ID, e.SubmitterID, e.Amount)
		bs = append(bs, slack.NewDividerBlock(),
			section(fmt.Sprintf(":question: *Waiting for <@%s>'s answer* to a question from %s, asked at %s:", e.SubmitterID, who(e.QuestionBy, e.QuestionFor), slackDate(e.PausedAt))),
			userText(e.Question),
			contextBlock("It comes back here, with its buttons, when they answer; reminders and the expiry clock pause meanwhile."))
	default:
		text = fmt.Sprintf("Expense #%d from <@%s>: %s, %s", e.ID, e.SubmitterID, e.Amount, strings.ToLower(e.Status.Label()))
		bs = append(bs, slack.NewDividerBlock(), section(outcomeLine(e)))
	}
	if e.ResubmittedAs != 0 {
		bs = append(bs, contextBlock(fmt.Sprintf(":arrow_right: Edited and resubmitted as expense #%d", e.ResubmittedAs)))
	}
	return Message{Text: text, Blocks: blocks(bs...)}
}

// who names the person who acted, and the away reviewer they stood in for, if any.
func who(user, forWhom string) string {
	if forWhom == "" || forWhom == user {
		return "<@" + user + ">"
	}
	return fmt.Sprintf("<@%s> for <@%s>", user, forWhom)
}

// mention is a reviewer id as a Slack mention: <@U…> for a person, <!subteam^S…> for a user
// group. Ids come from the configuration and the policy, never from what users type; anything
// that does not look like an id is shown escaped, never as markup.
func mention(id string) string {
	for _, r := range id {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return escape(id)
		}
	}
	if strings.HasPrefix(id, "S") {
		return "<!subteam^" + id + ">"
	}
	return "<@" + id + ">"
}

func mentions(ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = mention(id)
	}
	return strings.Join(out, " ")
}

// outcomeLine says who decided and when.
func outcomeLine(e expensebot.Expense) string {
	switch e.Status {
	case expensebot.StatusApproved, expensebot.StatusAutoApproved:
		return approvalLine(e)
	case expensebot.StatusRejected:
		return fmt.Sprintf(":x: *Rejected* by %s at %s: %s", who(e.DecidedBy, e.DecidedFor), slackDate(e.DecidedAt), inline(e.DecisionReason, 1000))
	case expensebot.StatusPaid:
		return approvalLine(e) + "\n" + paidLine(e)
	case expensebot.StatusWithdrawn:
		return fmt.Sprintf(":leftwards_arrow_with_hook: *Withdrawn* by <@%s> at %s", e.SubmitterID, slackDate(e.DecidedAt))
	case expensebot.StatusExpired:
		return fmt.Sprintf(":hourglass: *Expired* at %s: nobody decided it in time. This is not a rejection; the submitter can edit and resubmit it.", slackDate(e.DecidedAt))
	case expensebot.StatusSubmitted, expensebot.StatusAssessing, expensebot.StatusPendingReview, expensebot.StatusNeedsInfo:
		// Not decided: the card shows its buttons or its question instead.
	}
	return e.Status.Label()
}

// approvalLine says who approved e (a person, or the policy) and when.
func approvalLine(e expensebot.Expense) string {
	if e.DecidedBy == expensebot.ActorPolicy || e.DecidedBy == "" {
		return ":white_check_mark: *Approved automatically* by policy at " + slackDate(e.DecidedAt)
	}
	line := fmt.Sprintf(":white_check_mark: *Approved* by %s at %s", who(e.DecidedBy, e.DecidedFor), slackDate(e.DecidedAt))
	if e.FirstApprover != "" {
		line += fmt.Sprintf(" (first approval: %s)", who(e.FirstApprover, e.FirstApproverFor))
	}
	return line
}

// paidLine says when e was paid, in which export batch, with what reference and who recorded it.
// The name and the reference are typed by finance: shown as text, never as markup.
func paidLine(e expensebot.Expense) string {
	line := ":moneybag: *Paid* on " + slackDate(e.PaidAt)
	if e.ExportBatch != 0 {
		line += fmt.Sprintf(", batch %d", e.ExportBatch)
	}
	if e.PaidReference != "" {
		line += ", reference " + inline(e.PaidReference, expensebot.MaxPayReference)
	}
	return line + " · recorded by " + inline(e.PaidBy, 100)
}

// reviewButtons are Approve, Reject, Ask submitter and Comment for one expense, the same on the
// card and in the App Home queue.
func reviewButtons(blockID string, e expensebot.Expense) *slack.ActionBlock {
	value := strconv.FormatInt(e.ID, 10)
	approve := button(ActionID(ActionApprove, e.ID), "Approve", value, slack.StylePrimary)
	if e.ApprovalsRequired == 2 {
		// Above the two-approver limit a click is confirmed, naming the amount: a high-value
		// approval is never a slip of the mouse.
		approve.Confirm = slack.NewConfirmationBlockObject(plain("Approve a high-value expense?"),
			plain(fmt.Sprintf("Approve expense #%d of %s? It is above the limit that needs two different reviewers.", e.ID, e.Amount)),
			plain("Approve"), plain("Cancel"))
	}
	return slack.NewActionBlock(blockID,
		approve,
		button(ActionID(ActionReject, e.ID), "Reject", value, slack.StyleDanger),
		button(ActionID(ActionAsk, e.ID), "Ask submitter", value, slack.StyleDefault),
		button(ActionID(ActionComment, e.ID), "Comment", value, slack.StyleDefault),
	)
}

// alreadyDecided tells someone who came too late who decided the expense, and when; or, for one
// that expired or was withdrawn, that nobody can decide it any more.
func alreadyDecided(e expensebot.Expense) string {
	switch e.Status {
	case expensebot.StatusExpired:
		return fmt.Sprintf("Expense #%d expired at %s: nobody decided it in time, so it can no longer be approved or rejected. <@%s> can edit and resubmit it.",
			e.ID, slackDate(e.DecidedAt), e.SubmitterID)
	case expensebot.StatusWithdrawn:
		return fmt.Sprintf("Expense #%d was withdrawn by <@%s> at %s; there is nothing left to decide.", e.ID, e.SubmitterID, slackDate(e.DecidedAt))
	case expensebot.StatusPaid:
		return fmt.Sprintf("Expense #%d was already approved and has been paid: %s", e.ID, paidLine(e))
	case expensebot.StatusSubmitted, expensebot.StatusAssessing, expensebot.StatusPendingReview, expensebot.StatusNeedsInfo,
		expensebot.StatusApproved, expensebot.StatusRejected, expensebot.StatusAutoApproved:
		// Decided by someone, said below.
	}
	by := "policy"
	if e.DecidedBy != "" && e.DecidedBy != expensebot.ActorPolicy {
		by = who(e.DecidedBy, e.DecidedFor)
	}
	return fmt.Sprintf("Expense #%d was already %s by %s at %s.", e.ID, strings.ToLower(e.Status.Label()), by, slackDate(e.DecidedAt))
}

// bullets lists reasons, one per line; a reason may quote a model, so each is inert.
func bullets(reasons []string) string {
	lines := make([]string, len(reasons))
	for i, r := range reasons {
		lines[i] = inline(r, 500)
	}
	return strings.Join(lines, "\n• ")
}
