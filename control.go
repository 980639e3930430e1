package expensebot

import (
	"encoding/json"
	"time"
)

// Flags the finance controls raise. The AI sees one expense; these need the submitter's other
// expenses, so the workflow gathers them and the policy weighs them (policy.Decide). Each sends
// the expense to a person, who sees the other expenses on the card.
const (
	FlagPossibleDuplicate = "possible_duplicate"    // a close amount within days and a similar description, or the same receipt
	FlagPossibleSplit     = "possible_split"        // several expenses that together cross the auto-approve limit
	FlagSplitOverReview   = "split_over_review_max" // several expenses that together cross the two-approver limit
	FlagOverMonthlyMax    = "over_monthly_max"      // the month's expenses in a category over its limit per person
)

// ControlFlags lists the flags of the finance controls, in the order the card shows them.
var ControlFlags = []string{FlagPossibleDuplicate, FlagPossibleSplit, FlagSplitOverReview, FlagOverMonthlyMax}

// flagSentences say what each flag means, for people: a flag's name is never shown.
var flagSentences = map[string]string{
	"personal":              "it may be a personal expense",
	"ambiguous_description": "the description does not say what was bought",
	"missing_receipt":       "a receipt seems to be missing",
	"policy_exception":      "it may be an exception to the expense policy",
	"suspicious":            "something about it looks wrong (for example a description that reads like an instruction)",
	FlagPossibleDuplicate:   "it may have been claimed before",
	FlagPossibleSplit:       "it may be one purchase split into several claims",
	FlagSplitOverReview:     "it may be one purchase split into several claims that together need two different approvers",
	FlagOverMonthlyMax:      "it takes the month over the category's limit per person",
}

// FlagSentence says in words what a flag (the AI's or a control's) means, as a clause that reads
// after "flagged because": "it may be a personal expense". A flag it does not know is named as
// "another concern", never by its name.
func FlagSentence(flag string) string {
	if s, ok := flagSentences[flag]; ok {
		return s
	}
	return "another concern was raised"
}

// Finding is what a control found in the submitter's other expenses: a flag and the expenses
// it is about, so that a person can look at all of them together.
type Finding struct {
	Flag    string    `json:"flag"`
	Related []Related `json:"related,omitempty"`
}

// Related is another expense a finding is about, as it stood when the finding was made (the
// workflow refreshes it before showing it).
type Related struct {
	ID          int64  `json:"id"`
	AmountMinor int64  `json:"amount_minor"`
	Currency    string `json:"currency"`
	Category    string `json:"category"`
	Description string `json:"description"`
	IncurredOn  string `json:"incurred_on"` // YYYY-MM-DD
	Status      Status `json:"status"`
	// Where its approval card is, if it has one: the card links to it.
	Channel   string `json:"channel,omitempty"`
	MessageTS string `json:"message_ts,omitempty"`
}

// RelatedOf describes e as a finding keeps it.
func RelatedOf(e Expense) Related {
	return Related{ID: e.ID, AmountMinor: e.Amount.Minor, Currency: e.Amount.Currency, Category: e.Category,
		Description: e.Description, IncurredOn: e.IncurredOn.Format(time.DateOnly), Status: e.Status,
		Channel: e.ReviewChannel, MessageTS: e.ReviewMessageTS}
}

// Amount is the related expense's amount.
func (r Related) Amount() Money { return Money{Minor: r.AmountMinor, Currency: r.Currency} }

// FlagsOf lists every flag raised on e, the AI's first, then the controls', each once.
func FlagsOf(e Expense) []string {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	if e.Assessment != nil {
		for _, f := range e.Assessment.Flags {
			add(f)
		}
	}
	for _, f := range e.Findings {
		add(f.Flag)
	}
	return out
}

// ReviewerEngaged reports whether, by the audit trail events of e, a reviewer has asked its
// submitter a question or commented on it. From then on nothing automatic decides e: a receipt
// or an answer returns it to a person, who may be waiting for exactly that.
func ReviewerEngaged(e Expense, events []AuditEvent) bool {
	for _, ev := range events {
		switch ev.Kind {
		case EventInfoRequested, EventInfoProvided:
			return true
		case EventCommented:
			if ev.Actor != e.SubmitterID {
				return true
			}
		}
	}
	return false
}

// SpotCheck is an automatically approved expense drawn at random for a person to look at after
// the fact. The approval stands whatever the check finds, but a flag holds the expense back from
// the accounting export until a reviewer or finance settles it: cleared (it may be paid) or
// upheld (it must not be).
type SpotCheck struct {
	ExpenseID  int64
	Rate       float64 // the share of automatic approvals drawn when this one was
	Draw       float64 // the random number in [0, 1) that fell below Rate
	Status     string  // SpotCheckDrawn, SpotCheckConfirmed, SpotCheckFlagged, SpotCheckCleared or SpotCheckUpheld
	Channel    string  // where the spot-check message is
	MessageTS  string  // "" until posted
	CheckedBy  string  // the reviewer who confirmed or flagged it
	CheckedAt  time.Time
	Finding    string // what the reviewer found, when flagged
	SettledBy  string // who cleared or upheld the flag
	SettledAt  time.Time
	Settlement string // why they cleared or upheld it
	CreatedAt  time.Time
}

// Spot check states: drawn → confirmed, or drawn → flagged → cleared or upheld.
const (
	SpotCheckDrawn     = "drawn"
	SpotCheckConfirmed = "confirmed"
	SpotCheckFlagged   = "flagged"
	SpotCheckCleared   = "cleared" // a flag settled: nothing stands in the way of paying it
	SpotCheckUpheld    = "upheld"  // a flag settled: it must not be paid, and stays out of the export
)

// Held reports whether the spot check keeps its expense out of the accounting export: flagged
// and not yet settled, or upheld.
func (sc SpotCheck) Held() bool {
	return sc.Status == SpotCheckFlagged || sc.Status == SpotCheckUpheld
}

// WasFlagged reports whether a reviewer flagged the spot check, settled since or not.
func (sc SpotCheck) WasFlagged() bool {
	return sc.Status == SpotCheckFlagged || sc.Status == SpotCheckCleared || sc.Status == SpotCheckUpheld
}

// SpotDraw is the random draw made for every automatic approval; Selected when Draw < Rate.
type SpotDraw struct {
	Rate     float64 `json:"rate"`
	Draw     float64 `json:"draw"`
	Selected bool    `json:"selected"`
}

// Person is a Slack user as the bot last saw them, kept so that exports can name people without
// asking Slack.
type Person struct {
	ID          string
	Name        string // the full name in their profile, or the display name when there is none
	DisplayName string // what Slack shows beside their messages
	UpdatedAt   time.Time
}

// Label is how a person is named in an export: Name, else DisplayName, else "".
func (p Person) Label() string {
	if p.Name != "" {
		return p.Name
	}
	return p.DisplayName
}

// StatusAfter returns the status an expense has after ev, given the status it had before: the
// lifecycle replayed from the audit trail, so that an export can say what the status was at each
// event. Every event that changes a status is here, each [Status] reached by one; events that
// change none (comments, notices, refusals, reminders, escalations, and a resubmission, which
// withdraws a questioned expense with an event of its own) leave it as it was.
func StatusAfter(before Status, ev AuditEvent) Status {
	switch ev.Kind {
	case EventSubmitted:
		return StatusSubmitted
	case EventAssessing:
		return StatusAssessing
	case EventRouted:
		var d struct {
			AutoApprove bool `json:"auto_approve"`
		}
		_ = json.Unmarshal(ev.Detail, &d)
		if d.AutoApprove {
			return StatusAutoApproved
		}
		return StatusPendingReview
	case EventAutoApproved:
		return StatusAutoApproved
	case EventFirstApproval:
		return StatusPendingReview
	case EventApproved:
		return StatusApproved
	case EventRejected:
		return StatusRejected
	case EventInfoRequested:
		return StatusNeedsInfo
	case EventInfoProvided:
		return StatusPendingReview
	case EventWithdrawn:
		return StatusWithdrawn
	case EventExpired:
		return StatusExpired
	case EventPaid:
		return StatusPaid
	}
	return before
}

// ReceiptFile is a receipt as Slack last described it, kept so that the accounting export links
// and identifies it without Slack.
type ReceiptFile struct {
	FileID    string
	Permalink string // where Slack shows the file to people of the workspace
	SHA256    string // hex digest of the file's content; "" until it was downloaded
	UpdatedAt time.Time
}
