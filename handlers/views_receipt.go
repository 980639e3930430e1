package handlers

// What people see of receipts: the Attach receipt button and modal, the result in the modal, and
// the receipt lines of the approval card.

import (
	"fmt"
	"strings"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/receipt"
	"github.com/slack-go/slack"
)

// attachButton is the Attach receipt button for expense e, as a section's accessory.
func attachButton(e expensebot.Expense) *slack.Accessory {
	return slack.NewAccessory(button(ActionID(ActionAttachReceipt, e.ID), "Attach receipt", fmt.Sprint(e.ID), slack.StyleDefault))
}

// receiptInput is the file input for receipts, the same in the expense form and the receipt modal.
func receiptInput() *slack.FileInputBlockElement {
	in := slack.NewFileInputBlockElement(inReceipt)
	in.MaxFiles = receipt.MaxFiles
	in.FileTypes = receipt.Types // a hint for the uploader's file picker; we check for ourselves
	return in
}

// receiptModal asks for the receipt of expense id.
func receiptModal(id int64, channel string) slack.ModalViewRequest {
	return slack.ModalViewRequest{Type: slack.VTModal, CallbackID: CallbackReceipt,
		PrivateMetadata: decisionMeta{ExpenseID: id, Channel: channel}.String(),
		Title:           plain(fmt.Sprintf("Receipt for #%d", id)), Submit: plain("Attach"), Close: plain("Cancel"),
		Blocks: blocks(
			input(inReceipt, "Receipt", receiptInput(), false, fmt.Sprintf("A PDF or a picture (%s), up to %d files of at most 10 MB each.", strings.Join(receipt.Types, ", "), receipt.MaxFiles)),
		)}
}

// receiptResultModal says in the receipt modal what came of the files.
func receiptResultModal(id int64, text, note string) slack.ModalViewRequest {
	bs := []slack.Block{section(text)}
	if note != "" {
		bs = append(bs, contextBlock(note))
	}
	return slack.ModalViewRequest{Type: slack.VTModal, Title: plain(fmt.Sprintf("Receipt for #%d", id)), Close: plain("Close"), Blocks: blocks(bs...)}
}

// receiptOutcome tells the submitter what their receipts showed and where the expense now is.
func receiptOutcome(e expensebot.Expense) string {
	var lines []string
	for _, r := range e.Receipts {
		lines = append(lines, "• "+receiptSummary(e, r))
	}
	head := fmt.Sprintf("*Expense #%d* (%s) has %d receipt(s):", e.ID, e.Amount, len(e.Receipts))
	var tail string
	switch e.Status {
	case expensebot.StatusAutoApproved:
		tail = ":white_check_mark: It is approved."
	case expensebot.StatusPendingReview:
		tail = ":eyes: A reviewer decides it; the receipt is on their card."
	case expensebot.StatusSubmitted, expensebot.StatusAssessing:
		tail = ":hourglass_flowing_sand: It is being checked now; I'll DM you the outcome."
	case expensebot.StatusNeedsInfo:
		tail = ":question: A reviewer is waiting for your answer to their question; the receipt is on their card."
	case expensebot.StatusApproved, expensebot.StatusRejected, expensebot.StatusWithdrawn, expensebot.StatusExpired, expensebot.StatusPaid:
		tail = fmt.Sprintf("It was already %s; the receipt is kept with it.", strings.ToLower(e.Status.Label()))
	}
	return head + "\n" + strings.Join(lines, "\n") + "\n" + tail
}

// receiptSummary is one receipt in a line of mrkdwn: what was read, against the claim.
func receiptSummary(e expensebot.Expense, r expensebot.Receipt) string {
	name := inline(r.Name, 60)
	rd := r.Reading
	var s string
	switch {
	case rd == nil || rd.Check.Outcome == expensebot.ReceiptUnchecked:
		s = fmt.Sprintf("%s: kept, not read by a model; a person compares it with the claim", name)
	case rd.Check.Outcome == expensebot.ReceiptMatch:
		s = fmt.Sprintf("Receipt: %s — claim %s ✓", facts(rd), e.Amount)
	case rd.Check.Outcome == expensebot.ReceiptMismatch:
		s = fmt.Sprintf("Receipt: %s — claim %s ✗ %s", facts(rd), e.Amount, inline(strings.Join(rd.Check.Problems, "; "), 500))
	case rd.Check.Outcome == expensebot.ReceiptFailed:
		s = fmt.Sprintf("%s: could not be read (%s); a person compares it with the claim", name, inline(rd.Error, 200))
	default:
		s = fmt.Sprintf("%s: could not read it; a person compares it with the claim", name)
	}
	if rd != nil && rd.Offline {
		s += " _(offline extractor: sandbox sample receipts, not a model)_"
	}
	return s
}

// facts is what was read on a receipt: "118.40 EUR at Taxi Berlin, 2026-11-20". The merchant is
// text a model read off a picture: it is shown inert.
func facts(rd *expensebot.ReceiptReading) string {
	total := rd.Check.Total.String()
	if rd.Check.Total.Minor == 0 {
		total = inline(rd.Facts.Total+" "+rd.Facts.Currency, 40)
	}
	s := total
	if m := strings.TrimSpace(rd.Facts.Merchant); m != "" {
		s += " at " + inline(m, 80)
	}
	if rd.Facts.Date != "" {
		s += ", " + inline(rd.Facts.Date, 10)
	}
	return s
}

// receiptBlocks show the receipts on the approval card: one line each, with a link where Slack
// gave one, what was read and how it compares with the claim, and a duplicate's earlier expense
// (links holds file id → permalink, and "#<id>" → the earlier expense's card).
func receiptBlocks(e expensebot.Expense, links map[string]string) []slack.Block {
	if len(e.Receipts) == 0 {
		return []slack.Block{contextBlock(receiptLine(e, links))}
	}
	var bs []slack.Block
	for _, r := range e.Receipts {
		name := inline(r.Name, 60)
		if u, ok := links[r.FileID]; ok {
			name = "<" + u + "|" + name + ">"
		}
		icon := ":page_facing_up:"
		if rd := r.Reading; rd == nil || rd.Check.Outcome != expensebot.ReceiptMatch || r.Duplicate != nil {
			icon = ":warning:"
		}
		line := fmt.Sprintf("%s %s · %s", icon, name, receiptSummary(e, r))
		if rd := r.Reading; rd != nil && rd.Check.Outcome == expensebot.ReceiptMismatch {
			bs = append(bs, slack.NewSectionBlock(mrkdwn(fit(line, maxText)), []*slack.TextBlockObject{
				mrkdwn("*Receipt says*\n" + facts(rd)),
				mrkdwn(fmt.Sprintf("*Claim*\n%s, %s", e.Amount, e.IncurredOn.Format("2006-01-02"))),
			}, nil))
		} else {
			bs = append(bs, contextBlock(line))
		}
		if d := r.Duplicate; d != nil {
			earlier := fmt.Sprintf("expense #%d", d.ExpenseID)
			if u, ok := links[fmt.Sprintf("#%d", d.ExpenseID)]; ok {
				earlier = "<" + u + "|" + earlier + ">"
			}
			bs = append(bs, section(fmt.Sprintf(":rotating_light: *%s*: the same file is already on %s.", expensebot.FlagDuplicateReceipt, earlier)))
		}
	}
	if len(e.Receipts) > 0 && e.ReviewMessageTS != "" {
		bs = append(bs, contextBlock("The receipts are in this message's thread."))
	}
	return bs
}
