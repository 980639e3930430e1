package handlers

import (
	"strconv"
	"strings"
)

// The ids Slack sends back when people click or submit: views set them, routes.go dispatches on
// them, and the sandbox finds buttons by them.
const (
	// Buttons. Review buttons carry the expense id: ActionID(ActionApprove, 42) is "approve:42",
	// unique within a view that lists several expenses (the App Home queue).
	ActionNewExpense    = "new_expense"
	ActionApprove       = "approve"
	ActionReject        = "reject"
	ActionComment       = "comment"
	ActionAsk           = "ask"          // a reviewer asks the submitter a question
	ActionReply         = "reply"        // the submitter answers it
	ActionEdit          = "edit"         // the submitter edits and resubmits an expense
	ActionWithdraw      = "withdraw"     // the submitter withdraws an expense
	ActionDelegate      = "delegate"     // a reviewer sets who decides while they are away
	ActionEndDelegation = "delegate_end" // a reviewer is back
	ActionHistory       = "history"      // App Home history: "history:<what>", the filter and page in the value
	// A spot check's buttons, also with the expense id.
	ActionSpotConfirm = "spot_confirm"
	ActionSpotFlag    = "spot_flag"
	// A flagged spot check's buttons, with the expense id: the flag is settled.
	ActionSpotClear  = "spot_clear"  // it may be paid after all
	ActionSpotUphold = "spot_uphold" // it must not be paid

	// A draft's buttons (a receipt posted in the bot's DM), with the draft id:
	// ActionID(ActionDraftSubmit, 7) is "draft_submit:7".
	ActionDraftSubmit  = "draft_submit"
	ActionDraftEdit    = "draft_edit"
	ActionDraftDiscard = "draft_discard"

	// ActionAttachReceipt opens the receipt modal of an expense (its submitter's).
	ActionAttachReceipt = "attach_receipt"

	// Modal callbacks.
	CallbackExpense    = "expense_submit"
	CallbackReject     = "reject_submit"
	CallbackComment    = "comment_submit"
	CallbackSpotFlag   = "spot_flag_submit"
	CallbackSpotClear  = "spot_clear_submit"
	CallbackSpotUphold = "spot_uphold_submit"
	CallbackReceipt    = "receipt_submit"
	CallbackAsk        = "ask_submit"
	CallbackReply      = "reply_submit"
	CallbackDelegate   = "delegate_submit"
)

// Input block ids of the modals; each input's action id is the same. The expense form's ids are
// the domain's field names, so a validation error lands beside its input.
const (
	inAmount      = "amount"
	inCurrency    = "currency"
	inCategory    = "category"
	inDescription = "description"
	inDate        = "date"
	inReceipt     = "receipt"
	inReason      = "reason"
	inComment     = "comment"
	inFinding     = "finding"
	inSettlement  = "settlement"
	inQuestion    = "question"
	inAnswer      = "answer"
	inAwayUntil   = "away_until"
	inDelegate    = "delegate"
)

// ActionID joins an action and the expense it applies to.
func ActionID(action string, id int64) string { return action + ":" + strconv.FormatInt(id, 10) }

// parseActionID splits what ActionID joined.
func parseActionID(s string) (action string, id int64, ok bool) {
	action, num, found := strings.Cut(s, ":")
	if !found {
		return s, 0, false
	}
	id, err := strconv.ParseInt(num, 10, 64)
	return action, id, err == nil && id > 0
}
