package expensebot

import "slices"

// Status is where an expense is in its lifecycle. What each status means to the rest of
// expensebot (open or final, owed, counted by the controls, what people may do, its label and
// report column) is one row of [StatusInfo] in a table: every reader asks [Status.Info] rather
// than comparing statuses, so a status added later is one row plus the cases of the switches the
// exhaustive linter then names.
type Status string

// The lifecycle: submitted → assessing → pending_review → approved | rejected, and
// submitted/assessing → auto_approved. While pending, a reviewer may ask the submitter a question
// (needs_info, and back to pending_review with the answer); the submitter may withdraw a pending
// or needs_info expense; one left pending too long expires. Nothing leaves approved, rejected,
// auto_approved, withdrawn or expired: a rejected or expired expense is resubmitted as a new one,
// linked to it (see [Expense.ResubmitOf]), except that finance records the payout of an approved
// or auto_approved expense once: paid.
const (
	StatusSubmitted     Status = "submitted"
	StatusAssessing     Status = "assessing"
	StatusPendingReview Status = "pending_review"
	StatusNeedsInfo     Status = "needs_info" // a reviewer asked the submitter a question; timers pause
	StatusApproved      Status = "approved"
	StatusRejected      Status = "rejected"
	StatusAutoApproved  Status = "auto_approved"
	StatusWithdrawn     Status = "withdrawn" // by the submitter, or superseded by its resubmission
	StatusExpired       Status = "expired"   // nobody decided in time: its own outcome, never a rejection
	StatusPaid          Status = "paid"      // finance recorded the payout of an approved expense
)

// Action is something a person may do with an expense; several or'ed together are a set.
type Action uint16

// What reviewers and the submitter may do, as [StatusInfo.Reviewers] and [StatusInfo.Submitter]
// list them for each status.
const (
	ActDecide   Action = 1 << iota // approve or reject (reviewers)
	ActAsk                         // ask the submitter a question (reviewers)
	ActComment                     // comment on the card (reviewers)
	ActAnswer                      // answer a reviewer's question (submitter)
	ActWithdraw                    // withdraw it (submitter)
	ActResubmit                    // edit it and submit it again as a new expense (submitter)
	ActAttach                      // attach a receipt from the App Home (submitter)
)

// Has reports whether every action of b is in the set a.
func (a Action) Has(b Action) bool { return b != 0 && a&b == b }

// Column is where `expensebot report` counts a routed expense. Its columns add up: routed is
// automatic plus to people, and to people is the sum of the other columns.
type Column string

// The report's columns.
const (
	ColumnNotRouted Column = ""              // not routed yet: not in the report
	ColumnAutomatic Column = "auto_approved" // approved by the policy, not by people
	ColumnApproved  Column = "approved"
	ColumnRejected  Column = "rejected"
	ColumnPending   Column = "pending"    // waiting for a reviewer
	ColumnNeedsInfo Column = "needs_info" // waiting for the submitter's answer
	ColumnWithdrawn Column = "withdrawn"
	ColumnExpired   Column = "expired"
	ColumnPaid      Column = "paid" // approved, then paid out; the report counts one the policy approved as automatic
)

// StatusInfo is what one status means, for every part of expensebot.
type StatusInfo struct {
	Status Status
	Label  string   // as a person reads it
	Next   []Status // the statuses an expense may move to from this one
	// Open: nobody has decided it yet; something will still happen to it. A status that is not
	// open is final: it is the outcome (later steps such as a payout do not reopen it).
	Open bool
	// Owed: the company owes its submitter the money.
	Owed bool
	// Counts: its money counts toward monthly limits and possible splits. Only open and owed
	// (or paid) money does: rejected, withdrawn and expired never count.
	Counts bool
	// Compared: a new claim is compared with it for a possible duplicate. Everything that counts
	// is, and so is a rejected claim: filing it again as a new expense, rather than resubmitting
	// it, must reach a person who sees the rejection. Nothing was decided about a withdrawn or
	// expired claim, so claiming it again is no duplicate.
	Compared bool
	// LiveCard: once it went to a reviewer, its approval card is kept current and receipts
	// attached to it are shared in the card's thread. An automatic approval has no reviewer.
	LiveCard bool
	// What reviewers and the submitter may do with it.
	Reviewers Action
	Submitter Action
	// Column is where `expensebot report` counts it.
	Column Column
}

// statusTable is every status in lifecycle order. Adding a status is one row here (and a
// migration widening the database's CHECK), then a case in each switch the exhaustive linter
// names.
var statusTable = []StatusInfo{
	{Status: StatusSubmitted, Label: "Submitted", Next: []Status{StatusAssessing, StatusPendingReview, StatusAutoApproved},
		Open: true, Counts: true, Compared: true, Submitter: ActAttach, Column: ColumnNotRouted},
	{Status: StatusAssessing, Label: "Assessing", Next: []Status{StatusPendingReview, StatusAutoApproved},
		Open: true, Counts: true, Compared: true, Submitter: ActAttach, Column: ColumnNotRouted},
	{Status: StatusPendingReview, Label: "Pending review", Next: []Status{StatusApproved, StatusRejected, StatusNeedsInfo, StatusWithdrawn, StatusExpired},
		Open: true, Counts: true, Compared: true, LiveCard: true, Reviewers: ActDecide | ActAsk | ActComment, Submitter: ActWithdraw | ActAttach, Column: ColumnPending},
	{Status: StatusNeedsInfo, Label: "Needs info", Next: []Status{StatusPendingReview, StatusWithdrawn},
		Open: true, Counts: true, Compared: true, LiveCard: true, Submitter: ActAnswer | ActWithdraw | ActResubmit | ActAttach, Column: ColumnNeedsInfo},
	{Status: StatusApproved, Label: "Approved", Next: []Status{StatusPaid}, Owed: true, Counts: true, Compared: true, LiveCard: true, Column: ColumnApproved},
	{Status: StatusRejected, Label: "Rejected", Compared: true, LiveCard: true, Submitter: ActResubmit, Column: ColumnRejected},
	{Status: StatusAutoApproved, Label: "Auto-approved", Next: []Status{StatusPaid}, Owed: true, Counts: true, Compared: true, Column: ColumnAutomatic},
	{Status: StatusWithdrawn, Label: "Withdrawn", LiveCard: true, Column: ColumnWithdrawn},
	{Status: StatusExpired, Label: "Expired", LiveCard: true, Submitter: ActResubmit, Column: ColumnExpired},
	// Paid: no longer owed, but it was real money, so it still counts toward limits and splits
	// and is compared for duplicates.
	{Status: StatusPaid, Label: "Paid", Counts: true, Compared: true, LiveCard: true, Column: ColumnPaid},
}

// Statuses lists every status in lifecycle order.
var Statuses = StatusesWhere(func(StatusInfo) bool { return true })

// StatusesWhere lists, in lifecycle order, the statuses whose info satisfies keep: for a query
// that filters by a property, such as StatusesWhere(func(i StatusInfo) bool { return i.Owed }).
func StatusesWhere(keep func(StatusInfo) bool) []Status {
	var out []Status
	for _, i := range statusTable {
		if keep(i) {
			out = append(out, i.Status)
		}
	}
	return out
}

// Info returns what s means. A status the table does not know (a row from a newer version, or
// none at all) is final, labelled "Unknown", allows nothing, and counts toward the controls: a
// control never fails open.
func (s Status) Info() StatusInfo {
	for _, i := range statusTable {
		if i.Status == s {
			return i
		}
	}
	return StatusInfo{Status: s, Label: "Unknown", Counts: true, Compared: true}
}

// Known reports whether s is a status of the table.
func (s Status) Known() bool { return slices.Contains(Statuses, s) }

// Routed reports whether the policy has routed an expense in status s: it left submitted and
// assessing. Exactly the routed statuses have a column in the report.
func (s Status) Routed() bool { return s.Info().Column != ColumnNotRouted }

// CanTransition reports whether an expense may move from s to next.
func (s Status) CanTransition(next Status) bool { return slices.Contains(s.Info().Next, next) }

// Final reports whether s is an outcome: nobody decides it any more.
func (s Status) Final() bool { return !s.Info().Open }

// Resubmittable reports whether the submitter may edit an expense in status s and submit it
// again as a new expense: after a rejection or an expiry, or instead of answering a question.
func (s Status) Resubmittable() bool { return s.Info().Submitter.Has(ActResubmit) }

// Withdrawable reports whether the submitter may withdraw an expense in status s.
func (s Status) Withdrawable() bool { return s.Info().Submitter.Has(ActWithdraw) }

// Label is the status as a person reads it.
func (s Status) Label() string { return s.Info().Label }
