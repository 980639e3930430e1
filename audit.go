package expensebot

import (
	"encoding/json"
	"time"
)

// Actors that are not people.
const (
	ActorAI     = "ai"
	ActorPolicy = "policy"
	ActorSystem = "system"
	ActorExport = "export" // the accounting export, marking what it exported
)

// Kinds of audit event, one for every step an expense takes.
const (
	EventSubmitted     = "submitted"
	EventAssessing     = "assessing"
	EventAssessed      = "assessed"             // the AI's verdict, or why there is none
	EventRouted        = "routed"               // the policy's route and reasons
	EventAutoApproved  = "auto_approved"        // approved by policy without a human
	EventFirstApproval = "first_approval"       // one of two approvals
	EventApproved      = "approved"             // final human approval
	EventRejected      = "rejected"             // human rejection with reason
	EventCommented     = "commented"            // a reviewer's comment; state unchanged
	EventRefused       = "refused"              // someone tried to decide and was not allowed
	EventReviewPosted  = "review_posted"        // the approvals message exists in Slack
	EventNotified      = "notified"             // the submitter was told the outcome
	EventReviewBlocked = "review_blocked"       // the card could not be posted until an administrator acts
	EventSpotPosted    = "spot_check_posted"    // the spot-check message of an automatic approval exists in Slack
	EventSpotConfirmed = "spot_check_confirmed" // a reviewer found nothing wrong with a spot-checked expense
	EventSpotFlagged   = "spot_check_flagged"   // a reviewer recorded a finding on a spot-checked expense
	EventSpotCleared   = "spot_check_cleared"   // a reviewer or finance settled a flag: the expense may be paid
	EventSpotUpheld    = "spot_check_upheld"    // a reviewer or finance settled a flag: the expense must not be paid
	EventExported      = "exported"             // the accounting export wrote the expense in a marked batch
	EventPaid          = "paid"                 // finance recorded the payout, with who and the reference

	EventCallbackDelivered = "callback_delivered" // an API client's callback URL took an outcome
	EventCallbackFailed    = "callback_failed"    // one try to reach a callback URL failed
	EventInfoRequested     = "info_requested"     // a reviewer asked the submitter a question (needs_info)
	EventInfoProvided      = "info_provided"      // the submitter answered; back to pending_review
	EventWithdrawn         = "withdrawn"          // the submitter withdrew it
	EventResubmitted       = "resubmitted"        // on the old expense: it was edited and submitted again as a new one
	EventReminded          = "reminded"           // the reviewers were reminded that it waits
	EventEscalated         = "escalated"          // it waited too long: more people may decide it now
	EventExpired           = "expired"            // nobody decided it in time
	EventRulesChanged      = "rules_changed"      // an administrator changed the rules (no expense: ExpenseID 0)
)

// ActorAPI is the actor for an approval API client called name.
func ActorAPI(name string) string { return "api:" + name }

// AuditEvent is one line of the append-only audit trail.
type AuditEvent struct {
	ID        int64
	ExpenseID int64
	Kind      string
	Actor     string // Slack user id, or ActorAI / ActorPolicy / ActorSystem
	At        time.Time
	Detail    json.RawMessage // kind-specific facts, e.g. the assessment or a reason
}

// NewEvent builds an event whose detail is v encoded as JSON. At is left zero: the store stamps
// it with its clock when it appends the event.
func NewEvent(expenseID int64, kind, actor string, v any) AuditEvent {
	detail := json.RawMessage("{}")
	if v != nil {
		if b, err := json.Marshal(v); err == nil {
			detail = b
		}
	}
	return AuditEvent{ExpenseID: expenseID, Kind: kind, Actor: actor, Detail: detail}
}

// RuleSet is one version of the rules in force: the routing limits, categories, approvals channel,
// reviewers, escalation and timers, as the settings document a [RuleSet.Source] gave. The newest
// is applied by every instance; routes record its Version.
type RuleSet struct {
	ID        int64
	Version   string          // what routes record as their rules version
	Source    string          // RulesFromEnvironment or RulesFromAdmin
	ChangedBy string          // the administrator's user id; "" for the environment
	Settings  json.RawMessage // the settings document (policy.Settings encoded)
	CreatedAt time.Time
}

// Where a rule set came from.
const (
	RulesFromEnvironment = "environment" // the environment and the policy file, at a start
	RulesFromAdmin       = "admin"       // an administrator in the App Home
)
