package handlers

import (
	"fmt"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// draftButtons are a draft's Submit, Edit and Discard.
func draftButtons(d expensebot.Draft) *slack.ActionBlock {
	v := fmt.Sprint(d.ID)
	return slack.NewActionBlock(fmt.Sprintf("draft-%d", d.ID),
		button(ActionID(ActionDraftSubmit, d.ID), "Submit", v, slack.StylePrimary),
		button(ActionID(ActionDraftEdit, d.ID), "Edit", v, slack.StyleDefault),
		button(ActionID(ActionDraftDiscard, d.ID), "Discard", v, slack.StyleDanger))
}

// draftFacts is what the draft says, in one block of fields. Everything in it was read off an
// image, so all of it is escaped.
func draftFacts(d expensebot.Draft) *slack.SectionBlock {
	merchant := d.Merchant
	if merchant == "" {
		merchant = "(not printed)"
	}
	fields := []*slack.TextBlockObject{
		mrkdwn("*Merchant*\n" + inline(merchant, 120)),
		mrkdwn("*Date*\n" + d.IncurredOn.Format(time.DateOnly)),
		mrkdwn("*Total*\n" + d.Amount.String()),
		mrkdwn("*Category*\n" + categoryLabel(d.Category)),
		mrkdwn("*Description*\n" + inline(d.Description, 200)),
	}
	return slack.NewSectionBlock(nil, fields, nil)
}

func readBy(d expensebot.Draft) string {
	if rd := d.Receipt.Reading; rd != nil && rd.Offline {
		return "Read by the sandbox's offline extractor, not a model"
	}
	return "Read by the AI from the picture alone"
}

// draftMessage is the answer to a receipt posted in the DM: the expense drafted from it, and its
// buttons. Nothing is submitted until Submit is clicked.
func draftMessage(d expensebot.Draft) Message {
	name := inline(d.Receipt.Name, 80)
	text := fmt.Sprintf("Draft from %s: %s at %s. Submit, edit or discard it.", name, d.Amount, inline(d.Merchant, 80))
	return Message{Text: text, Blocks: blocks(
		section(fmt.Sprintf(":receipt: *Draft expense from %s*", name)),
		draftFacts(d),
		draftButtons(d),
		contextBlock(fmt.Sprintf("%s: check it before you submit. Nothing is submitted until you click *Submit*; the draft is kept until %s.",
			readBy(d), d.ExpiresAt.Format("2006-01-02 15:04 MST"))),
	)}
}

// draftProblem answers a file that gave no draft: why, and, unless it is no receipt at all, the
// form to type the expense by hand.
func draftProblem(why string, form bool) Message {
	text := ":warning: " + escape(why)
	bs := []slack.Block{section(text)}
	if form {
		text += " You can type the expense in the form instead."
		bs = append(bs, slack.NewActionBlock("draft-form", button(ActionNewExpense, "Type it in the form", "draft", slack.StylePrimary)))
	}
	return Message{Text: text, Blocks: blocks(bs...)}
}

// draftSubmitted replaces a draft's message once it is submitted.
func draftSubmitted(e expensebot.Expense, aiOn bool) Message {
	check := "The AI check and the policy look at it now"
	if !aiOn {
		check = "The policy looks at it now (the AI check is off)"
	}
	text := fmt.Sprintf("Submitted as expense #%d: %s · %s. %s; I'll DM you the outcome.", e.ID, e.Amount, inline(e.Description, 80), check)
	return Message{Text: text, Blocks: blocks(
		section(fmt.Sprintf(":inbox_tray: *Submitted as #%d:* %s · %s · receipt attached", e.ID, e.Amount, categoryLabel(e.Category))),
		userText(e.Description),
		contextBlock(check+"; I'll DM you the outcome."),
	)}
}

// draftEnded replaces a draft's message once it was discarded or expired.
func draftEnded(d expensebot.Draft, what string) Message {
	text := fmt.Sprintf("Draft from %s (%s): %s", inline(d.Receipt.Name, 80), d.Amount, what)
	return Message{Text: text, Blocks: blocks(section(":wastebasket: " + text))}
}

// draftModal is the expense form filled in from draft d. The draft's receipt goes with it (a file
// input cannot be filled in), already read.
func draftModal(currency string, today time.Time, receipts receiptRule, d expensebot.Draft) slack.ModalViewRequest {
	e := d.Expense()
	m := expenseForm(currency, today, receipts, &e)
	m.Title, m.Submit = plain("Edit draft"), plain("Submit")
	m.PrivateMetadata = jsonString(expenseMeta{Draft: d.ID})
	// The form's head says what a resubmission is, and its last input takes receipts: a draft
	// has its receipt.
	bs := m.Blocks.BlockSet
	if len(bs) > 2 {
		bs = bs[1 : len(bs)-1]
	}
	head := section(fmt.Sprintf(":receipt: Drafted from *%s*, which goes with it. Change what was read wrong, then submit.", inline(d.Receipt.Name, 80)))
	m.Blocks = blocks(append([]slack.Block{head}, bs...)...)
	return m
}

// draftsSection is the App Home's "Drafts": each draft with its buttons.
func draftsSection(ds []expensebot.Draft) []slack.Block {
	if len(ds) == 0 {
		return nil
	}
	bs := []slack.Block{slack.NewDividerBlock(), section(fmt.Sprintf("*Drafts (%d)*", len(ds)))}
	for i, d := range ds {
		if i == 5 {
			bs = append(bs, contextBlock(fmt.Sprintf("…and %d more, in your DM with me.", len(ds)-i)))
			break
		}
		merchant := d.Merchant
		if merchant == "" {
			merchant = d.Receipt.Name
		}
		bs = append(bs, section(fmt.Sprintf(":receipt: %s · %s · %s · %s", d.Amount, inline(merchant, 60), categoryLabel(d.Category),
			d.IncurredOn.Format(time.DateOnly))), draftButtons(d))
	}
	return append(bs, contextBlock("Drafts are receipts you posted in my DM. "+strings.TrimSpace("Nothing is submitted until you click Submit.")))
}
