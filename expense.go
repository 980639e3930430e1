package expensebot

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is where an expense is in its lifecycle.
type Status string

// The lifecycle: submitted → assessing → pending_review → approved | rejected, and
// submitted/assessing → auto_approved. Nothing leaves approved, rejected or auto_approved.
const (
	StatusSubmitted     Status = "submitted"
	StatusAssessing     Status = "assessing"
	StatusPendingReview Status = "pending_review"
	StatusApproved      Status = "approved"
	StatusRejected      Status = "rejected"
	StatusAutoApproved  Status = "auto_approved"
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusSubmitted, StatusAssessing, StatusPendingReview, StatusApproved, StatusRejected, StatusAutoApproved}

var transitions = map[Status][]Status{
	StatusSubmitted:     {StatusAssessing, StatusPendingReview, StatusAutoApproved},
	StatusAssessing:     {StatusPendingReview, StatusAutoApproved},
	StatusPendingReview: {StatusApproved, StatusRejected},
}

// CanTransition reports whether an expense may move from s to next.
func (s Status) CanTransition(next Status) bool { return slices.Contains(transitions[s], next) }

// Final reports whether no further change can happen.
func (s Status) Final() bool { return len(transitions[s]) == 0 }

// Label is the status as a person reads it.
func (s Status) Label() string {
	switch s {
	case StatusPendingReview:
		return "Pending review"
	case StatusAutoApproved:
		return "Auto-approved"
	case "":
		return "Unknown"
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// Categories a submitter can choose; "other" catches the rest.
var Categories = []string{"travel", "meals", "lodging", "transport", "software", "equipment", "training", "office", "other"}

// Expense is one claim for reimbursement.
type Expense struct {
	ID             int64
	TeamID         string // Slack workspace the expense came from
	SubmitterID    string // Slack user id of the person claiming
	Amount         Money
	Category       string
	Description    string
	IncurredOn     time.Time // a date; the time of day is zero, UTC
	ReceiptFileIDs []string
	Status         Status
	IdempotencyKey string // Slack trigger_id or envelope id; the same key never creates twice

	// Set once routed.
	Assessment        *Assessment // the AI's advice, nil while not yet assessed
	ReviewReasons     []string    // why a human must look, in the reviewer's words
	ApprovalsRequired int         // 1 or 2 distinct approvals when routed to review
	ReviewChannel     string      // where the approvals message was posted
	ReviewMessageTS   string      // Slack ts of the approvals message, "" until posted

	// Set by reviewers.
	FirstApprover   string // the first of two approvals, "" if none yet
	FirstApprovedAt time.Time
	DecidedBy       string // reviewer, or "policy" for an automatic approval
	DecidedAt       time.Time
	DecisionReason  string

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Validate checks what a submission must carry before it is stored.
func (e *Expense) Validate() error {
	switch {
	case e.SubmitterID == "":
		return Errorf(EINVALID, "An expense needs a submitter.")
	case e.Amount.Minor <= 0:
		return Errorf(EINVALID, "The amount must be more than zero.")
	case !ValidCurrency(e.Amount.Currency):
		return Errorf(EINVALID, "%q is not a currency code I know.", e.Amount.Currency)
	case e.Amount.Minor > MaxMajor*pow10(currencies[e.Amount.Currency]):
		return tooLarge(e.Amount.Currency)
	case strings.TrimSpace(e.Description) == "":
		return Errorf(EINVALID, "Please say what the expense was for.")
	case len(e.Description) > MaxDescription:
		return Errorf(EINVALID, "The description is too long (%d characters, at most %d).", len(e.Description), MaxDescription)
	case e.Category != "" && !slices.Contains(Categories, e.Category):
		return Errorf(EINVALID, "%q is not a category; choose one of %s.", e.Category, strings.Join(Categories, ", "))
	case !e.IncurredOn.IsZero() && e.IncurredOn.After(time.Now().Add(48*time.Hour)):
		return Errorf(EINVALID, "The date %s is in the future.", e.IncurredOn.Format(time.DateOnly))
	}
	return nil
}

// MaxDescription bounds a description so that it always fits a Slack section.
const MaxDescription = 1000

// Assessment is the AI's advice on one expense, with what it cost and how far to trust it.
type Assessment struct {
	Decision         string   `json:"decision,omitempty"` // approve | reject | review
	Confidence       float64  `json:"confidence"`
	ConfidenceSource string   `json:"confidence_source,omitempty"` // logprobs | model | none
	Reasons          []string `json:"reasons,omitempty"`
	Flags            []string `json:"flags,omitempty"`
	Model            string   `json:"model,omitempty"`
	PromptVersion    string   `json:"prompt_version,omitempty"`
	LatencyMS        int64    `json:"latency_ms"`
	PromptTokens     int      `json:"prompt_tokens,omitempty"`
	CompletionTokens int      `json:"completion_tokens,omitempty"`
	Offline          bool     `json:"offline,omitempty"` // made by the sandbox's built-in assessor, not a model
	Error            string   `json:"error,omitempty"`   // set when the AI could not give advice
}

// Usable reports whether the assessment carries advice (as opposed to a failure).
func (a *Assessment) Usable() bool {
	return a != nil && a.Error == "" && a.Decision != ""
}

// AI decisions.
const (
	AIApprove = "approve"
	AIReject  = "reject"
	AIReview  = "review"
)

// Outcome is what a reviewer does with a pending expense.
type Outcome string

// Reviewer outcomes.
const (
	Approve Outcome = "approve"
	Reject  Outcome = "reject"
)

// Decision is one reviewer's approve or reject on one expense.
type Decision struct {
	ExpenseID int64
	Reviewer  string // Slack user id
	Outcome   Outcome
	Reason    string // required to reject
}

// Validate checks that a decision can be recorded.
func (d Decision) Validate() error {
	switch {
	case d.Reviewer == "":
		return Errorf(EINVALID, "A decision needs a reviewer.")
	case d.Outcome != Approve && d.Outcome != Reject:
		return Errorf(EINVALID, "Unknown decision %q.", d.Outcome)
	case d.Outcome == Reject && strings.TrimSpace(d.Reason) == "":
		return Errorf(EINVALID, "Please give a reason for the rejection.")
	case len(d.Reason) > MaxDescription:
		return Errorf(EINVALID, "The reason is too long (at most %d characters).", MaxDescription)
	}
	return nil
}

// AlreadyDecidedError is returned to whoever loses a race to decide an expense.
type AlreadyDecidedError struct {
	ExpenseID int64
	Status    Status
	By        string
	At        time.Time
}

func (e *AlreadyDecidedError) Error() string {
	by := e.By
	if by != "" && by != ActorPolicy {
		by = "<@" + by + ">"
	}
	return fmt.Sprintf("Expense #%d was already %s by %s at %s.", e.ExpenseID,
		strings.ToLower(e.Status.Label()), by, e.At.UTC().Format("2006-01-02 15:04 UTC"))
}

// Route is the policy's verdict on where an expense goes. A route never rejects: that is a human's.
type Route struct {
	AutoApprove       bool
	ApprovalsRequired int      // 1 or 2 distinct reviewers when not auto-approved
	Reasons           []string // why: for the reviewer, or why it was safe to auto-approve
	Channel           string   // approvals channel chosen by a policy-file rule; "" for the default
	Reviewers         []string // reviewers chosen by a policy-file rule; nil for the default
}

// Notice is something people must be told once a state change is committed: it is written in the
// same transaction as the change and delivered afterwards, retried until it gets through.
type Notice struct {
	ID        int64
	Kind      string // NoticePostReview, NoticeUpdateReview, NoticeTellSubmitter, NoticeComment
	ExpenseID int64
	Event     string // the audit event it tells of, e.g. EventApproved
	Actor     string // who caused it
	Text      string // a comment's text
	Attempts  int    // deliveries tried before this one
}

// Kinds of notice.
const (
	NoticePostReview    = "post_review"    // post the approvals message for an expense routed to review
	NoticeUpdateReview  = "update_review"  // redraw the approvals message after a decision
	NoticeTellSubmitter = "tell_submitter" // DM the submitter what happened
	NoticeComment       = "comment"        // a reviewer's comment: thread reply and DM to the submitter
)
