package handlers

// Modals: the expense form and the reviewers' reason and comment forms.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
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

// expenseModal is the form /expense opens; its receipt hint names the receipt limit.
func expenseModal(currency string, today time.Time, receipts receiptRule) slack.ModalViewRequest {
	return expenseForm(currency, today, receipts, nil)
}

// receiptRule is when the policy requires a receipt: above Over, or above a category's own limit.
type receiptRule struct {
	Over       expensebot.Money
	ByCategory map[string]expensebot.Money
}

// hint says so in the form: "Required above 75.00 USD (Travel: above 200.00 USD)".
func (r receiptRule) hint() string {
	if r.Over.Currency == "" {
		return "Required above the receipt limit"
	}
	s := "Required above " + r.Over.String()
	var other []string
	for _, c := range expensebot.Categories {
		if l, ok := r.ByCategory[c]; ok {
			other = append(other, fmt.Sprintf("%s: above %s", categoryLabel(c), l))
		}
	}
	if len(other) > 0 {
		s += " (" + strings.Join(other, "; ") + ")"
	}
	return s
}

// categoryLabel is a category as people see it, in the form and in messages: "Travel".
func categoryLabel(c string) string {
	if c == "" {
		return ""
	}
	return strings.ToUpper(c[:1]) + c[1:]
}

// resubmitModal is the expense form filled in from old, to edit it and submit it again as a new
// expense linked to it. A file input cannot be filled in, so old's receipts are carried in the
// form's metadata and kept unless others are attached.
func resubmitModal(currency string, today time.Time, receipts receiptRule, old expensebot.Expense) slack.ModalViewRequest {
	return expenseForm(currency, today, receipts, &old)
}

// expenseMeta is what the expense form carries for its submission.
type expenseMeta struct {
	ResubmitOf int64    `json:"resubmit_of,omitempty"`
	Receipts   []string `json:"receipts,omitempty"`
	Draft      int64    `json:"draft,omitempty"` // the form edits this draft: its receipt goes with it
}

func expenseForm(currency string, today time.Time, receipts receiptRule, old *expensebot.Expense) slack.ModalViewRequest {
	amount := slack.NewPlainTextInputBlockElement(plain("42.50"), inAmount)
	amount.MaxLength = 40
	first := currency
	if old != nil {
		first = old.Amount.Currency
	}
	var curOpts []*slack.OptionBlockObject
	for _, c := range append([]string{first, currency}, modalCurrencies...) {
		if slices.ContainsFunc(curOpts, func(o *slack.OptionBlockObject) bool { return o.Value == c }) {
			continue
		}
		curOpts = append(curOpts, option(c, c))
	}
	cur := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, inCurrency, curOpts...)
	cur.InitialOption = curOpts[0]
	var catOpts []*slack.OptionBlockObject
	for _, c := range expensebot.Categories {
		catOpts = append(catOpts, option(c, categoryLabel(c)))
	}
	cat := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a category"), inCategory, catOpts...)
	desc := slack.NewPlainTextInputBlockElement(plain("What was it for?"), inDescription)
	desc.Multiline, desc.MaxLength = true, expensebot.MaxDescription
	date := slack.NewDatePickerBlockElement(inDate)
	date.InitialDate = today.Format(time.DateOnly)
	modal := slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: CallbackExpense,
		Title: plain("New expense"), Submit: plain("Submit"), Close: plain("Cancel"),
	}
	var head []slack.Block
	receiptHint := receipts.hint()
	if old != nil {
		amount.InitialValue = old.Amount.Major()
		for _, o := range catOpts {
			if o.Value == old.Category {
				cat.InitialOption = o
			}
		}
		desc.InitialValue = old.Description
		if !old.IncurredOn.IsZero() {
			date.InitialDate = old.IncurredOn.Format(time.DateOnly)
		}
		modal.Title, modal.Submit = plain("Edit and resubmit"), plain("Resubmit")
		modal.PrivateMetadata = jsonString(expenseMeta{ResubmitOf: old.ID, Receipts: old.ReceiptFileIDs})
		why := fmt.Sprintf("*Resubmitting #%d* (%s): it is submitted again as a new expense, checked afresh, and linked to #%d.",
			old.ID, strings.ToLower(old.Status.Label()), old.ID)
		if old.Status.Withdrawable() {
			why += fmt.Sprintf(" #%d is withdrawn.", old.ID)
		}
		head = append(head, section(why))
		if len(old.ReceiptFileIDs) > 0 {
			receiptHint = fmt.Sprintf("Leave empty to keep the %d receipt(s) of #%d", len(old.ReceiptFileIDs), old.ID)
		}
	}
	modal.Blocks = blocks(append(head,
		input(inAmount, "Amount", amount, false, "e.g. 42.50 or 2,500"),
		input(inCurrency, "Currency", cur, false, ""),
		input(inCategory, "Category", cat, false, ""),
		input(inDescription, "Description", desc, false, ""),
		input(inDate, "Date", date, false, ""),
		input(inReceipt, "Receipt", receiptInput(), true, receiptHint),
	)...)
	return modal
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// receivedModal replaces the expense modal once the expense is saved.
func receivedModal(e expensebot.Expense) slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, Title: plain("Expense received"), Close: plain("Close"),
		Blocks: blocks(section(fmt.Sprintf(":inbox_tray: *Received #%d:* %s", e.ID, e.Amount)), userText(e.Description), contextBlock("I'll DM you the outcome."))}
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
	return textModal(e, channel, CallbackReject, fmt.Sprintf("Reject #%d", e.ID), "Reject",
		inReason, "Reason", "Tell the submitter why", "The submitter sees this")
}

// commentModal asks for a comment; the expense stays pending.
func commentModal(e expensebot.Expense, channel string) slack.ModalViewRequest {
	return textModal(e, channel, CallbackComment, fmt.Sprintf("Comment on #%d", e.ID), "Post",
		inComment, "Comment", "Ask a question or add a note", "Posted in the thread and sent to the submitter")
}

// askModal asks for a question to the submitter; the expense waits for the answer.
func askModal(e expensebot.Expense, channel string) slack.ModalViewRequest {
	return textModal(e, channel, CallbackAsk, fmt.Sprintf("Ask about #%d", e.ID), "Ask",
		inQuestion, "Question for the submitter", "What do you need to know?", "The expense waits for their answer, out of the queue; reminders pause meanwhile")
}

// replyModal is the submitter's answer to a reviewer's question.
func replyModal(e expensebot.Expense, channel string) slack.ModalViewRequest {
	in := slack.NewPlainTextInputBlockElement(plain("Your answer"), inAnswer)
	in.Multiline, in.MaxLength = true, expensebot.MaxQuestion
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: CallbackReply,
		PrivateMetadata: decisionMeta{ExpenseID: e.ID, Channel: channel}.String(),
		Title:           plain(fmt.Sprintf("Reply on #%d", e.ID)), Submit: plain("Send"), Close: plain("Cancel"),
		Blocks: blocks(section(summary(e)), section(fmt.Sprintf("<@%s> asks:", e.QuestionBy)), userText(e.Question),
			input(inAnswer, "Answer", in, false, "Posted under the expense for the reviewers; it goes back to them"))}
}

// delegateModal asks how long a reviewer is away and who decides for them meanwhile.
func delegateModal(today time.Time) slack.ModalViewRequest {
	date := slack.NewDatePickerBlockElement(inAwayUntil)
	date.InitialDate = today.AddDate(0, 0, 7).Format(time.DateOnly)
	user := slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Choose a person"), inDelegate)
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: CallbackDelegate,
		Title: plain("Away"), Submit: plain("Save"), Close: plain("Cancel"),
		Blocks: blocks(
			section("While you are away, the person you choose may approve, reject and ask about every expense you may decide (never their own), gets the reminders, and each decision says it was made for you."),
			input(inAwayUntil, "Away until (the last day)", date, false, ""),
			input(inDelegate, "Who decides for you", user, false, "Someone who is not away themselves with you deciding for them"),
		)}
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
