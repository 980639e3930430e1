package handlers

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// This file builds every message and view a person sees. Each function is pure (data in, Block
// Kit out) and has a golden file under testdata/golden.

// escape makes user text safe in mrkdwn and text: a description cannot ping @channel or disguise
// a link. Slack asks for exactly these three.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// quote renders user text as a block quote, escaped and bounded.
func quote(s string) string {
	s = escape(strings.TrimSpace(s))
	if len(s) > 2500 {
		s = s[:2500] + "…"
	}
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}
func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, true, false)
}

// maxText is Slack's limit for a section's or a context element's text.
const maxText = 3000

// fit cuts text to Slack's limit, so that long reasons from a model can never make a message
// Slack refuses (and a notice that can never be delivered).
func fit(text string, n int) string {
	if len([]rune(text)) <= n {
		return text
	}
	return string([]rune(text)[:n-1]) + "…"
}

func section(text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(fit(text, maxText)), nil, nil)
}

func contextBlock(texts ...string) *slack.ContextBlock {
	var els []slack.MixedElement
	for _, t := range texts {
		els = append(els, mrkdwn(fit(t, maxText)))
	}
	return slack.NewContextBlock("", els...)
}

// slackDate renders t in each reader's own time zone, with a UTC fallback.
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} at {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

func button(actionID, text, value string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, value, plain(text))
	b.Style = style
	return b
}

// actionID joins an action and the expense it applies to: ids must be unique within a view that
// lists several expenses (the App Home queue).
func actionID(action string, id int64) string { return action + ":" + strconv.FormatInt(id, 10) }

// parseActionID splits what actionID joined.
func parseActionID(s string) (action string, id int64, ok bool) {
	action, num, found := strings.Cut(s, ":")
	if !found {
		return s, 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return action, id, err == nil && id > 0
}

// Message is what the bot posts or answers with: text is the notification and screen-reader
// fallback, blocks what people see.
type Message struct {
	ResponseType string       `json:"response_type,omitempty"`
	Text         string       `json:"text"`
	Blocks       slack.Blocks `json:"blocks"`
}

// options turns m into slack-go message options.
func (m Message) options() []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks.BlockSet...)}
}

func blocks(bs ...slack.Block) slack.Blocks { return slack.Blocks{BlockSet: bs} }

// ephemeral is a short private answer to whoever acted.
func ephemeral(text string) Message {
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: blocks(section(text))}
}

func summary(e expensebot.Expense) string {
	d := escape(e.Description)
	if len(d) > 80 {
		d = d[:80] + "…"
	}
	return fmt.Sprintf("*#%d* · %s · %s · %s", e.ID, e.Amount, e.Category, d)
}

// receivedMessage answers a quick submission at once, before anything is stored or assessed.
func receivedMessage(m expensebot.Money, category, description string, aiOn bool) Message {
	check := "The AI check and the policy look at it now"
	if !aiOn {
		check = "The policy looks at it now (the AI check is off)"
	}
	text := fmt.Sprintf("Received your expense: %s · %s. %s; I'll DM you the outcome.", m, escape(description), check)
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: blocks(
		section(fmt.Sprintf(":inbox_tray: *Received:* %s · %s\n%s", m, category, quote(description))),
		contextBlock(check+"; I'll DM you the outcome."),
	)}
}

// helpMessage explains /expense.
func helpMessage(currency string) Message {
	text := "*/expense* submits an expense for approval.\n" +
		"• `/expense 42.50 Team lunch`: submit at once (in " + currency + ")\n" +
		"• `/expense 120 EUR Train to Paris`: another currency\n" +
		"• `/expense`: open a form with category, date and receipt\n" +
		"• `/expense history`: your last 10 expenses\n" +
		"• `/expense help`: this message\n" +
		"Amounts: `42.50`, `42`, `$2,500`, `2500 USD`, `1.234,56 EUR`."
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: "How to use /expense", Blocks: blocks(section(text))}
}

var statusEmoji = map[expensebot.Status]string{
	expensebot.StatusSubmitted: ":hourglass_flowing_sand:", expensebot.StatusAssessing: ":hourglass_flowing_sand:",
	expensebot.StatusPendingReview: ":eyes:", expensebot.StatusApproved: ":white_check_mark:",
	expensebot.StatusRejected: ":x:", expensebot.StatusAutoApproved: ":white_check_mark:",
}

func statusLine(e expensebot.Expense) string {
	return fmt.Sprintf("%s %s — %s", statusEmoji[e.Status], summary(e), e.Status.Label())
}

// historyMessage lists someone's latest expenses.
func historyMessage(list []expensebot.Expense) Message {
	if len(list) == 0 {
		return ephemeral("You have no expenses yet. Try `/expense 42.50 Team lunch`.")
	}
	lines := make([]string, len(list))
	for i, e := range list {
		lines[i] = statusLine(e)
	}
	return Message{ResponseType: slack.ResponseTypeEphemeral, Text: fmt.Sprintf("Your last %d expenses", len(list)),
		Blocks: blocks(section(fmt.Sprintf("*Your last %d expenses*", len(list))), section(strings.Join(lines, "\n")))}
}

// aiLine describes the AI's advice for a reviewer.
func aiLine(a *expensebot.Assessment) string {
	switch {
	case a == nil:
		return ":robot_face: AI check is off."
	case a.Error != "":
		return ":warning: AI check failed: " + escape(a.Error)
	}
	line := fmt.Sprintf(":robot_face: AI suggests *%s* (confidence %.2f from %s, model %s)", a.Decision, a.Confidence, a.ConfidenceSource, escape(a.Model))
	if a.Offline {
		line = fmt.Sprintf(":robot_face: Offline assessor (sandbox rules, not a model) suggests *%s* (confidence %.2f)", a.Decision, a.Confidence)
	}
	if len(a.Reasons) > 0 {
		line += ": " + escape(strings.Join(a.Reasons, "; "))
	}
	if len(a.Flags) > 0 {
		line += " · flags: " + strings.Join(a.Flags, ", ")
	}
	return line
}

func expenseFields(e expensebot.Expense) []*slack.TextBlockObject {
	return []*slack.TextBlockObject{
		mrkdwn("*Submitted by*\n<@" + e.SubmitterID + ">"), mrkdwn("*Amount*\n" + e.Amount.String()),
		mrkdwn("*Category*\n" + e.Category), mrkdwn("*Date*\n" + e.IncurredOn.Format("Mon 2 Jan 2006")),
	}
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
// policy's reasons and, while pending, the buttons.
func approvalMessage(e expensebot.Expense, receipts map[string]string) Message {
	bs := []slack.Block{
		slack.NewHeaderBlock(plain(fmt.Sprintf("Expense #%d · %s", e.ID, e.Amount))),
		slack.NewSectionBlock(nil, expenseFields(e), nil),
		section(quote(e.Description)),
		contextBlock(receiptLine(e, receipts)),
		section(aiLine(e.Assessment)),
	}
	if len(e.ReviewReasons) > 0 {
		bs = append(bs, section("*Why a person decides:*\n• "+escape(strings.Join(e.ReviewReasons, "\n• "))))
	}
	text := fmt.Sprintf("Expense #%d from <@%s>: %s, needs review", e.ID, e.SubmitterID, e.Amount)
	switch {
	case e.Status == expensebot.StatusPendingReview:
		if e.ApprovalsRequired == 2 {
			progress := "Needs 2 approvals from different reviewers · 0 of 2 so far"
			if e.FirstApprover != "" {
				progress = fmt.Sprintf("1 of 2 approvals: <@%s> · waiting for a second, different reviewer", e.FirstApprover)
			}
			bs = append(bs, contextBlock(":busts_in_silhouette: "+progress))
		}
		bs = append(bs, slack.NewActionBlock(fmt.Sprintf("expense-%d-actions", e.ID),
			button(actionID("approve", e.ID), "Approve", strconv.FormatInt(e.ID, 10), slack.StylePrimary),
			button(actionID("reject", e.ID), "Reject", strconv.FormatInt(e.ID, 10), slack.StyleDanger),
			button(actionID("comment", e.ID), "Comment", strconv.FormatInt(e.ID, 10), slack.StyleDefault),
		))
	default:
		outcome := outcomeLine(e)
		text = fmt.Sprintf("Expense #%d from <@%s>: %s, %s", e.ID, e.SubmitterID, e.Amount, strings.ToLower(e.Status.Label()))
		bs = append(bs, slack.NewDividerBlock(), section(outcome))
	}
	return Message{Text: text, Blocks: blocks(bs...)}
}

// outcomeLine says who decided and when.
func outcomeLine(e expensebot.Expense) string {
	switch e.Status {
	case expensebot.StatusApproved:
		line := fmt.Sprintf(":white_check_mark: *Approved* by <@%s> at %s", e.DecidedBy, slackDate(e.DecidedAt))
		if e.FirstApprover != "" {
			line += fmt.Sprintf(" (first approval: <@%s>)", e.FirstApprover)
		}
		return line
	case expensebot.StatusRejected:
		return fmt.Sprintf(":x: *Rejected* by <@%s> at %s: %s", e.DecidedBy, slackDate(e.DecidedAt), escape(e.DecisionReason))
	case expensebot.StatusAutoApproved:
		return ":white_check_mark: *Approved automatically* by policy at " + slackDate(e.DecidedAt)
	}
	return e.Status.Label()
}

// submitterNotice is the DM that tells a submitter what happened to their expense.
func submitterNotice(e expensebot.Expense, n expensebot.Notice) Message {
	var text string
	s := fmt.Sprintf("#%d (%s, %s)", e.ID, e.Amount, escape(truncate(e.Description, 80)))
	switch n.Event {
	case expensebot.EventAutoApproved:
		text = fmt.Sprintf(":white_check_mark: Your expense %s was approved automatically.", s)
	case expensebot.EventRouted:
		text = fmt.Sprintf(":eyes: Your expense %s went to a reviewer: %s. I'll tell you when it is decided.", s, escape(strings.Join(e.ReviewReasons, "; ")))
	case expensebot.EventFirstApproval:
		text = fmt.Sprintf(":+1: Your expense %s has 1 of 2 approvals (<@%s>); waiting for a second reviewer.", s, n.Actor)
	case expensebot.EventApproved:
		text = fmt.Sprintf(":white_check_mark: Your expense %s was approved by <@%s>.", s, n.Actor)
	case expensebot.EventRejected:
		text = fmt.Sprintf(":x: Your expense %s was rejected by <@%s>: %s", s, n.Actor, escape(e.DecisionReason))
	default:
		text = fmt.Sprintf("Your expense %s is now %s.", s, strings.ToLower(e.Status.Label()))
	}
	bs := []slack.Block{section(text)}
	if e.Assessment != nil && e.Assessment.Offline {
		bs = append(bs, contextBlock("AI advice came from the sandbox's offline assessor, not a model."))
	}
	return Message{Text: text, Blocks: blocks(bs...)}
}

// commentNotice is a reviewer's comment, threaded under the approvals message and sent to the
// submitter.
func commentNotice(e expensebot.Expense, n expensebot.Notice) Message {
	text := fmt.Sprintf(":speech_balloon: <@%s> commented on expense #%d (%s): %s", n.Actor, e.ID, e.Amount, escape(n.Text))
	return Message{Text: text, Blocks: blocks(section(text))}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// Modal callback ids.
const (
	callbackExpense = "expense_submit"
	callbackReject  = "reject_submit"
	callbackComment = "comment_submit"
)

// Input block ids of the expense modal; action ids are the same.
const (
	inAmount      = "amount"
	inCurrency    = "currency"
	inCategory    = "category"
	inDescription = "description"
	inDate        = "date"
	inReceipt     = "receipt"
	inReason      = "reason"
	inComment     = "comment"
)

func input(id, label string, el slack.BlockElement, optional bool, hint string) *slack.InputBlock {
	b := slack.NewInputBlock(id, plain(label), nil, el)
	b.Optional = optional
	if hint != "" {
		b.Hint = plain(hint)
	}
	return b
}

func option(value, text string) *slack.OptionBlockObject {
	return slack.NewOptionBlockObject(value, plain(text), nil)
}

var modalCurrencies = []string{"USD", "EUR", "GBP", "CAD", "AUD", "CHF", "JPY", "SEK", "NOK", "DKK", "PLN", "INR", "SGD"}

// expenseModal is the form /expense opens.
func expenseModal(currency string, today time.Time) slack.ModalViewRequest {
	amount := slack.NewPlainTextInputBlockElement(plain("42.50"), inAmount)
	amount.MaxLength = 40
	var curOpts []*slack.OptionBlockObject
	for _, c := range append([]string{currency}, modalCurrencies...) {
		if len(curOpts) > 0 && c == currency {
			continue
		}
		curOpts = append(curOpts, option(c, c))
	}
	cur := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, inCurrency, curOpts...)
	cur.InitialOption = curOpts[0]
	var catOpts []*slack.OptionBlockObject
	for _, c := range expensebot.Categories {
		catOpts = append(catOpts, option(c, strings.ToUpper(c[:1])+c[1:]))
	}
	cat := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a category"), inCategory, catOpts...)
	desc := slack.NewPlainTextInputBlockElement(plain("What was it for?"), inDescription)
	desc.Multiline, desc.MaxLength = true, expensebot.MaxDescription
	date := slack.NewDatePickerBlockElement(inDate)
	date.InitialDate = today.Format(time.DateOnly)
	receipt := slack.NewFileInputBlockElement(inReceipt)
	receipt.MaxFiles = 5
	receipt.FileTypes = []string{"pdf", "png", "jpg", "jpeg", "heic"}
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callbackExpense,
		Title: plain("New expense"), Submit: plain("Submit"), Close: plain("Cancel"),
		Blocks: blocks(
			input(inAmount, "Amount", amount, false, "e.g. 42.50 or 2,500"),
			input(inCurrency, "Currency", cur, false, ""),
			input(inCategory, "Category", cat, false, ""),
			input(inDescription, "Description", desc, false, ""),
			input(inDate, "Date", date, false, ""),
			input(inReceipt, "Receipt", receipt, true, "Required above the receipt limit"),
		),
	}
}

// receivedModal replaces the expense modal once its input is accepted.
func receivedModal(m expensebot.Money, description string) slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Expense received"), Close: plain("Close"),
		Blocks: blocks(section(fmt.Sprintf(":inbox_tray: *Received:* %s\n%s\nI'll DM you the outcome.", m, quote(description))))}
}

type decisionMeta struct {
	ExpenseID int64  `json:"expense_id"`
	Channel   string `json:"channel,omitempty"`
}

func (m decisionMeta) String() string {
	b, _ := json.Marshal(m)
	return string(b)
}

// rejectModal asks the reviewer why.
func rejectModal(e expensebot.Expense, channel string) slack.ModalViewRequest {
	return textModal(e, channel, callbackReject, fmt.Sprintf("Reject #%d", e.ID), "Reject",
		inReason, "Reason", "Tell the submitter why", "The submitter sees this")
}

// commentModal asks for a comment; the expense stays pending.
func commentModal(e expensebot.Expense, channel string) slack.ModalViewRequest {
	return textModal(e, channel, callbackComment, fmt.Sprintf("Comment on #%d", e.ID), "Post",
		inComment, "Comment", "Ask a question or add a note", "Posted in the thread and sent to the submitter")
}

// textModal is a reviewer's form about one expense with a single required text field whose
// block and action id is field.
func textModal(e expensebot.Expense, channel, callback, title, submit, field, label, placeholder, hint string) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(plain(placeholder), field)
	in.Multiline, in.MaxLength = true, expensebot.MaxDescription
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: callback,
		PrivateMetadata: decisionMeta{ExpenseID: e.ID, Channel: channel}.String(),
		Title:           plain(title), Submit: plain(submit), Close: plain("Cancel"),
		Blocks: blocks(section(summary(e)), input(field, label, in, false, hint))}
}

// homeLimits keep the App Home within Slack's 100 blocks.
const (
	homeMine  = 10
	homeQueue = 20
)

// homeView is a person's App Home: a button to submit, their recent expenses and totals, and for
// reviewers the queue with the same buttons as the approvals channel.
func homeView(mine []expensebot.Expense, myTotals string, reviewer bool, queue []expensebot.Expense, queueTotal int) slack.HomeTabViewRequest {
	bs := []slack.Block{
		slack.NewHeaderBlock(plain("Expenses")),
		slack.NewActionBlock("home-actions", button("new_expense", "New expense", "new", slack.StylePrimary)),
		contextBlock("Or type `/expense 42.50 Team lunch` anywhere. `/expense help` for more."),
		slack.NewDividerBlock(),
		section("*Your recent expenses*"),
	}
	if len(mine) == 0 {
		bs = append(bs, contextBlock("Nothing yet."))
	}
	for _, e := range mine {
		bs = append(bs, section(statusLine(e)))
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
			bs = append(bs, section(line), slack.NewActionBlock(fmt.Sprintf("home-%d", e.ID),
				button(actionID("approve", e.ID), "Approve", strconv.FormatInt(e.ID, 10), slack.StylePrimary),
				button(actionID("reject", e.ID), "Reject", strconv.FormatInt(e.ID, 10), slack.StyleDanger),
				button(actionID("comment", e.ID), "Comment", strconv.FormatInt(e.ID, 10), slack.StyleDefault)))
		}
		if queueTotal > len(queue) {
			bs = append(bs, contextBlock(fmt.Sprintf("…and %d more in the approvals channel.", queueTotal-len(queue))))
		}
	}
	return slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: blocks(bs...)}
}
