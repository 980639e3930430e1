package handlers

// Modals: the expense form and the reviewers' reason and comment forms.

import (
	"encoding/json"
	"fmt"
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
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: CallbackExpense,
		Title: plain("New expense"), Submit: plain("Submit"), Close: plain("Cancel"),
		Blocks: blocks(
			input(inAmount, "Amount", amount, false, "e.g. 42.50 or 2,500"),
			input(inCurrency, "Currency", cur, false, ""),
			input(inCategory, "Category", cat, false, ""),
			input(inDescription, "Description", desc, false, ""),
			input(inDate, "Date", date, false, ""),
			input(inReceipt, "Receipt", receiptInput(), true, "Required above the receipt limit"),
		),
	}
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
