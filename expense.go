package expensebot

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CheckResubmit says why user may not edit e and submit it again as a new expense, or returns
// nil: only its submitter may, only once, and only when it was rejected, expired or is waiting
// for their answer to a question. The error is EFORBIDDEN or ECONFLICT.
func (e Expense) CheckResubmit(user string) error {
	switch {
	case e.SubmitterID != user:
		return Errorf(EFORBIDDEN, "Only its submitter can resubmit expense #%d.", e.ID)
	case e.ResubmittedAs != 0:
		return Errorf(ECONFLICT, "Expense #%d was already resubmitted as #%d.", e.ID, e.ResubmittedAs)
	case !e.Status.Resubmittable():
		return Errorf(ECONFLICT, "Expense #%d is %s; only a rejected or expired expense, or one with a question waiting, can be edited and resubmitted.",
			e.ID, strings.ToLower(e.Status.Label()))
	}
	return nil
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
	Receipts       []Receipt // the files checked and kept, oldest first; loaded with one expense, not with lists
	Status         Status
	IdempotencyKey string // Slack trigger_id or envelope id; the same key never creates twice

	// Set at routing, before the policy decides: Amount in the home currency, rounded up, and the
	// rate that converted it (the zero Rate for an amount already in the home currency).
	// HomeAmount.Minor is 0 when no usable rate was known; Rate then describes the newest rate
	// there was if it was too old to use, and is not stored. HomeAmount.Currency is "" for an
	// expense routed before conversion existed.
	HomeAmount Money
	Rate       Rate

	// Set when a system submitted the expense for the submitter through the approval API.
	SubmittedBy string // the client as an actor, "api:<name>"; "" when the submitter did
	CallbackURL string // where each final outcome is POSTed; "" for none
	RequestHash string // hash of the API request, so that a reused Idempotency-Key with another body is refused

	// Set once routed.
	Assessment        *Assessment // the AI's advice, nil while not yet assessed
	ReviewReasons     []string    // why a human must look, in the reviewer's words
	ApprovalsRequired int         // 1 or 2 distinct approvals when routed to review
	ReviewChannel     string      // where the approvals message was posted
	ReviewMessageTS   string      // Slack ts of the approvals message, "" until posted
	Reviewers         []string    // who may decide it (user and group ids), fixed when routed and widened by escalation
	RulesVersion      string      // the version of the rules that routed it
	Findings          []Finding   // what the finance controls found in the submitter's other expenses

	// The lifecycle after routing.
	ResubmitOf    int64     // the expense this one resubmits, 0 if none
	ResubmittedAs int64     // the expense that resubmits this one, 0 if none
	Question      string    // while needs_info: the reviewer's question
	QuestionBy    string    // who asked it
	QuestionFor   string    // the reviewer they asked for, when they decide as a delegate
	PausedAt      time.Time // while needs_info: when the question was asked (timers stand still)
	RemindAt      time.Time // next reminder to the reviewers, zero if none
	EscalateAt    time.Time // when it is escalated, zero if not (any more)
	ExpiresAt     time.Time // when it expires, zero if never
	EscalatedTo   []string  // who was added to Reviewers by escalation

	// Set by reviewers.
	FirstApprover    string // the first of two approvals, "" if none yet
	FirstApproverFor string // the reviewer the first approver stood in for, "" if they decided in their own right
	FirstApprovedAt  time.Time
	DecidedBy        string // reviewer, the submitter (withdrawn), "policy" (auto-approved) or "system" (expired)
	DecidedFor       string // the reviewer DecidedBy stood in for as a delegate, "" if none
	DecidedAt        time.Time
	DecisionReason   string

	// Set by finance.
	ExportBatch   int64     // the marked accounting export that wrote it, 0 if none
	PaidAt        time.Time // when the payout was recorded, zero until paid
	PaidBy        string    // who recorded it
	PaidReference string    // the payment's reference (a bank transfer's, say), "" if none given
	// The hold on its assessment: the instance holding it ("" when none) and the number of holds
	// taken on it so far, which the holder's writes present as their fencing token.
	HeldBy      string
	HoldAttempt int

	CreatedAt time.Time
	UpdatedAt time.Time
}

// Fields of an expense that a person fills in; an *Error about one of them names it in Field, so
// a form shows the message beside the right input.
const (
	FieldAmount      = "amount"
	FieldCurrency    = "currency"
	FieldCategory    = "category"
	FieldDescription = "description"
	FieldDate        = "date"
)

// Validate checks what a submission must carry before it is stored, as of now, and returns the
// first problem [Expense.Problems] finds, or nil.
func (e *Expense) Validate(now time.Time) error {
	if p := e.Problems(now); len(p) > 0 {
		return p[0]
	}
	return nil
}

// Problems lists everything wrong with a submission as of now, at most one per field, in the
// order of the form. Each is EINVALID and names its field, so a form shows all of them at once,
// each beside its input. Lengths are counted in characters, as people count them.
func (e *Expense) Problems(now time.Time) []*Error {
	var out []*Error
	add := func(f, format string, args ...any) {
		err := Errorf(EINVALID, format, args...)
		err.Field = f
		out = append(out, err)
	}
	if e.SubmitterID == "" {
		out = append(out, Errorf(EINVALID, "An expense needs a submitter."))
	}
	switch {
	case e.Amount.Minor <= 0:
		add(FieldAmount, "The amount must be more than zero.")
	case !ValidCurrency(e.Amount.Currency):
		add(FieldCurrency, "%q is not a currency code I know.", e.Amount.Currency)
	case e.Amount.Minor > MaxMajor*pow10(currencies[e.Amount.Currency]):
		add(FieldAmount, "%s", ErrorMessage(tooLarge(e.Amount.Currency)))
	}
	if e.Category != "" && !slices.Contains(Categories, e.Category) {
		add(FieldCategory, "%q is not a category; choose one of %s.", e.Category, strings.Join(Categories, ", "))
	}
	switch n := utf8.RuneCountInString(e.Description); {
	case !Visible(e.Description):
		add(FieldDescription, "Please say what the expense was for.")
	case n > MaxDescription:
		add(FieldDescription, "The description is too long (%d characters, at most %d).", n, MaxDescription)
	}
	switch {
	case e.IncurredOn.IsZero():
	case e.IncurredOn.After(now.Add(48 * time.Hour)):
		add(FieldDate, "The date %s is in the future.", e.IncurredOn.Format(time.DateOnly))
	case e.IncurredOn.Before(now.AddDate(-2, 0, 0)):
		add(FieldDate, "The date %s is more than two years ago; please ask finance.", e.IncurredOn.Format(time.DateOnly))
	}
	return out
}

// Visible reports whether s has at least one character a person can see: letters, digits,
// punctuation or symbols, not only spaces and invisible formatting such as zero-width spaces.
func Visible(s string) bool {
	for _, r := range s {
		if unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}

// Truncate shortens s to at most n characters, ending with "…" when it cut. It never splits a
// character; it is the one place text is shortened.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// MaxDescription bounds a description so that it always fits a Slack section.
const MaxDescription = 1000

// Submission is one expense handed over to be saved and, once saved, what became of it.
type Submission struct {
	Expense Expense
	Saved   Expense // the stored expense: this one, or the earlier one with its idempotency key
	Created bool    // false when an expense with the same idempotency key existed
	Err     error   // EINVALID when this expense breaks a rule; nothing of it is stored
}

// ErrNewReceipts is a route refused because receipts were attached to the expense after it was
// assessed: it is assessed again with them, never routed without them.
var ErrNewReceipts = errors.New("receipts were attached since the assessment")

// ErrLostHold is a write refused because the lease it was made under (an assessment's hold, a
// notice's claim) ran out and was taken by another holder, or another attempt: the work is that
// holder's now, and the writer drops it.
var ErrLostHold = errors.New("the lease on this work passed to another holder")

// Routing is one expense's route handed over to be recorded and, once recorded, what became of
// it.
type Routing struct {
	ID         int64
	Assessment *Assessment // nil: no AI check
	Route      Route
	// With CheckReceipts the route is recorded only while the expense still has the receipts the
	// assessment and the policy saw: Receipts kept, and the receipt list ReceiptFileIDs as read
	// (receipts are only ever added). Else Err is ErrNewReceipts, and nothing is recorded.
	CheckReceipts  bool
	Receipts       int
	ReceiptFileIDs []string
	// HoldAttempt, when not 0, is the assessment hold the route was computed under: the route is
	// recorded only while the store's instance still holds that attempt (else Err wraps ErrLostHold).
	HoldAttempt int
	Routed      Expense  // the expense as routed
	Notices     []Notice // the notices the route queued and claimed for the caller, with their ids and destinations
	Waiting     int      // the notices the route queued for any instance to claim (cards: they keep the outbox's order)
	Err         error    // ECONFLICT when the expense was routed already; nothing of this one is recorded
}

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
	ExpenseID  int64
	Reviewer   string // Slack user id of who clicked
	OnBehalfOf string // the away reviewer Reviewer decides for as their delegate, "" in their own right
	Outcome    Outcome
	Reason     string // required to reject
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
	case utf8.RuneCountInString(d.Reason) > MaxDescription:
		return Errorf(EINVALID, "The reason is too long (at most %d characters).", MaxDescription)
	}
	return nil
}

// Decided returns the ECONFLICT error for a decision on an expense that is already final or out
// of the reviewers' hands. The message names no one: each edge says who decided, in its own way.
func Decided(e Expense) *Error {
	switch e.Status {
	case StatusExpired:
		return Errorf(ECONFLICT, "Expense #%d expired: nobody decided it in time, so it can no longer be approved or rejected. Its submitter can edit and resubmit it.", e.ID)
	case StatusWithdrawn:
		return Errorf(ECONFLICT, "Expense #%d was withdrawn by its submitter; there is nothing left to decide.", e.ID)
	case StatusNeedsInfo:
		return Errorf(ECONFLICT, "Expense #%d is waiting for its submitter to answer a question; it comes back to the reviewers with the answer.", e.ID)
	case StatusPaid:
		return Errorf(ECONFLICT, "Expense #%d was approved and has been paid; there is nothing left to decide.", e.ID)
	case StatusSubmitted, StatusAssessing, StatusPendingReview, StatusApproved, StatusRejected, StatusAutoApproved:
	}
	return Errorf(ECONFLICT, "Expense #%d was already %s.", e.ID, strings.ToLower(e.Status.Label()))
}

// Principals are the people an act by user on behalf of onBehalfOf ("" for none) counts as: the
// clicker and, for a delegate, the reviewer they stand in for. Two approvals of one expense need
// two different people, so their principals must not meet.
func Principals(user, onBehalfOf string) []string {
	if onBehalfOf == "" || onBehalfOf == user {
		return []string{user}
	}
	return []string{user, onBehalfOf}
}

// Timing is how long an expense may wait for a reviewer before the reviewers are reminded (and
// again every RemindAfter), before EscalateTo may decide it too, and before it expires. Zero
// turns each off. Time spent waiting for the submitter's answer (needs_info) does not count.
type Timing struct {
	RemindAfter   time.Duration
	EscalateAfter time.Duration
	ExpireAfter   time.Duration
}

// Delegation is a reviewer away until Until, with Delegate deciding for them meanwhile.
type Delegation struct {
	Reviewer string
	Delegate string
	Until    time.Time
}

// Active reports whether the delegation is in force at now.
func (d Delegation) Active(now time.Time) bool { return d.Delegate != "" && now.Before(d.Until) }

// MaxQuestion bounds a reviewer's question and the submitter's answer, as a comment is bounded.
const MaxQuestion = MaxDescription

// Flags the AI may raise, the one list the assessor's schema, its answer check and the policy use.
var Flags = []string{"personal", "ambiguous_description", "missing_receipt", "policy_exception", "suspicious"}

// Total is the count and sum of expenses in one status and currency, of one month or of all time.
type Total struct {
	Month  time.Time // the first day (UTC) of the month the expenses were incurred in; zero for all time
	Status Status
	Count  int
	Sum    Money
}

// Route is the policy's verdict on where an expense goes. A route never rejects: that is a human's.
type Route struct {
	AutoApprove       bool
	ApprovalsRequired int       // 1 or 2 distinct reviewers when not auto-approved
	Reasons           []string  // why: for the reviewer, or why it was safe to auto-approve
	Channel           string    // approvals channel chosen by a policy-file rule; "" for the default
	Reviewers         []string  // reviewers chosen by a policy-file rule; nil for the default
	Version           string    // the version of the rules that chose this route
	HomeAmount        Money     // the amount the limits were compared with; Minor 0 when no rate was known
	Rate              Rate      // the rate that converted it; the zero Rate when none was used
	Findings          []Finding // what the finance controls found; each also gives a reason
	// SpotCheck is the workflow's random draw for an automatic approval, recorded with it; nil
	// when the route is not automatic.
	SpotCheck *SpotDraw
	Timing    Timing // when reviewers are reminded, the expense escalated and expired
}

// Notice is something people must be told once a state change is committed: it is written in the
// same transaction as the change and delivered afterwards, retried until it gets through.
type Notice struct {
	ID        int64
	Kind      string // NoticePostReview, NoticeUpdateReview, NoticeTellSubmitter, NoticeComment, NoticeThread, NoticeCallback
	ExpenseID int64
	Event     string // the audit event it tells of, e.g. EventApproved
	Actor     string // who caused it
	Text      string // a comment's, question's or answer's text
	Attempts  int    // deliveries tried before this one
	Dest      string // the conversation it goes to: a channel, a submitter's user id; for a callback, its receiver's host (CallbackHost)

	// Filled in when a reminder or escalation is delivered, from the expense as it is then: not
	// stored.
	Mention   []string     // user and group ids who may decide the expense
	Delegates []Delegation // delegates standing in for one of them
}

// Delivered is a notice that got through, with the audit event that records it, if any.
type Delivered struct {
	NoticeID int64
	Event    *AuditEvent
}

// Kinds of notice.
const (
	NoticePostReview    = "post_review"    // post the approvals message for an expense routed to review
	NoticeUpdateReview  = "update_review"  // redraw the approvals message after a decision
	NoticeTellSubmitter = "tell_submitter" // DM the submitter what happened
	NoticeComment       = "comment"        // a reviewer's comment or question: thread reply and DM to the submitter
	NoticeThread        = "thread"         // a reply under the approvals message: an answer, a reminder, an escalation
	NoticeCallback      = "callback"       // POST an outcome to the expense's CallbackURL (API submissions)
	NoticeSpotCheck     = "spot_check"     // post the spot-check message of an expense drawn for one
	NoticeUpdateSpot    = "update_spot"    // redraw the spot-check message after it was confirmed or flagged
	NoticeSpotFinding   = "spot_finding"   // tell finance, in the spot check's thread, what was flagged, cleared or upheld
)

// CallbackNotices are the notices that POST the outcome event (an audit event kind, such as
// EventApproved) of e to its callback URL: none when e has no callback URL. A store queues them
// in the transaction that records the outcome.
func CallbackNotices(e Expense, event, actor string) []Notice {
	if e.CallbackURL == "" {
		return nil
	}
	return []Notice{{Kind: NoticeCallback, ExpenseID: e.ID, Event: event, Actor: actor}}
}

// MaxPayReference bounds the reference of a payout (a bank transfer's, say).
const MaxPayReference = 200

// Payout records that finance paid approved expenses.
type Payout struct {
	By        string // who recorded it, as they name themselves: a person, or an API client
	Actor     string // the audit trail's actor: By, or ActorAPI(client)
	Reference string // the payment's reference, "" if none
}

// Validate checks that a payout can be recorded.
func (p Payout) Validate() error {
	switch {
	case strings.TrimSpace(p.By) == "" || p.Actor == "":
		return Errorf(EINVALID, "A payout needs the name of who recorded it.")
	case utf8.RuneCountInString(p.By) > 100:
		return Errorf(EINVALID, "The name of who recorded the payout is too long (at most 100 characters).")
	case utf8.RuneCountInString(p.Reference) > MaxPayReference:
		return Errorf(EINVALID, "The payment reference is too long (at most %d characters).", MaxPayReference)
	}
	return nil
}

// Payable says why e cannot be recorded as paid, or returns nil: only an approved expense (by a
// person or by the policy) is paid, and only once.
func Payable(e Expense) error {
	switch {
	case e.Status == StatusPaid:
		ref := ""
		if e.PaidReference != "" {
			ref = fmt.Sprintf(" (reference %s)", e.PaidReference)
		}
		return Errorf(ECONFLICT, "Expense #%d was already paid on %s by %s%s; it is not paid twice.",
			e.ID, e.PaidAt.UTC().Format("2 Jan 2006 15:04 UTC"), e.PaidBy, ref)
	case !e.Status.CanTransition(StatusPaid):
		return Errorf(ECONFLICT, "Expense #%d is %s; only an approved expense can be paid.", e.ID, strings.ToLower(e.Status.Label()))
	}
	return nil
}

// Paid is what became of one expense of a payout: the expense as paid, or why it was refused.
type Paid struct {
	ID      int64
	Expense Expense // as it stands after the payout (or as it stood when refused, if it exists)
	Err     error   // ECONFLICT (not payable), ENOTFOUND, or another error; nil when paid
}

// CallbackHost is the receiver a callback URL names, for a callback notice's Dest: its host and
// port, lower case; "" when the URL cannot be read.
func CallbackHost(callbackURL string) string {
	u, err := url.Parse(callbackURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}
