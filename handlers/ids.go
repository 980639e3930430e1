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
	ActionNewExpense = "new_expense"
	ActionApprove    = "approve"
	ActionReject     = "reject"
	ActionComment    = "comment"
	// A spot check's buttons, also with the expense id.
	ActionSpotConfirm = "spot_confirm"
	ActionSpotFlag    = "spot_flag"

	// ActionAttachReceipt opens the receipt modal of an expense (its submitter's).
	ActionAttachReceipt = "attach_receipt"

	// Modal callbacks.
	CallbackExpense  = "expense_submit"
	CallbackReject   = "reject_submit"
	CallbackComment  = "comment_submit"
	CallbackSpotFlag = "spot_flag_submit"
	CallbackReceipt  = "receipt_submit"
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
