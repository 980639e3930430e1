package expensebot

import "time"

// Draft is an expense read off a receipt that its owner has not submitted yet: the file they
// posted in the bot's DM, what was read on it, and the expense suggested from it. Nothing of it is
// an expense until the owner clicks Submit; discarded or expired, only its audit trail remains.
type Draft struct {
	ID          int64
	UserID      string  // who posted the file, and the only one who may submit it
	TeamID      string  // the workspace, for the expense
	Channel     string  // the DM the draft was answered in
	MessageTS   string  // the draft's message there, once posted ("" until then)
	Receipt     Receipt // the file, checked and hashed, with its Reading (the facts; no comparison yet)
	Amount      Money   // suggested from the receipt's total
	Merchant    string
	Category    string // suggested by code from the merchant's name
	Description string
	IncurredOn  time.Time // the receipt's date, or the day it was posted
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// Expense is the expense the draft suggests, not yet submitted: the caller sets who submits it
// and its idempotency key.
func (d Draft) Expense() Expense {
	return Expense{TeamID: d.TeamID, SubmitterID: d.UserID, Amount: d.Amount, Category: d.Category,
		Description: d.Description, IncurredOn: d.IncurredOn, ReceiptFileIDs: []string{d.Receipt.FileID}}
}

// Audit events of drafts, kept in the drafts' own append-only trail (a draft is no expense).
const (
	EventDraftCreated   = "draft_created"   // a receipt was read and drafted: file, facts, the suggestion
	EventDraftSubmitted = "draft_submitted" // its owner submitted it: the expense id
	EventDraftDiscarded = "draft_discarded" // its owner discarded it
	EventDraftExpired   = "draft_expired"   // nobody acted on it within the draft TTL
)

// DraftEvent is one line of a draft's audit trail.
type DraftEvent struct {
	DraftID int64
	Kind    string
	Actor   string
	At      time.Time
	Detail  map[string]any
}
