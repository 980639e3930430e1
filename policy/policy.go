// Package policy decides where an expense goes: approved automatically, or to one or two human
// reviewers, with reasons a reviewer can read. The decision is deterministic and pure; the AI
// assessor in this package only gives advice that the rules weigh, and it can never approve what
// the rules send to a human. Nothing here writes anything or knows about Slack.
package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/receipt"
)

// Rules are the limits that bind every expense, in the home currency.
type Rules struct {
	Currency            string           // home currency; other currencies are compared converted
	AutoApproveMax      expensebot.Money // auto-approval only strictly below this
	ReviewMax           expensebot.Money // strictly above this, two different reviewers
	ReceiptRequiredOver expensebot.Money // strictly above this, a missing receipt needs a human
	MinConfidence       float64          // least AI confidence for auto-approval
	// SplitWindow is how close together expenses of one person in one category must have been
	// incurred to count as a possible split purchase (EXPENSEBOT_SPLIT_WINDOW); 0 turns the check off.
	SplitWindow time.Duration
	// MaxAge is how long after it was incurred an expense may still be approved automatically
	// (EXPENSEBOT_MAX_AGE); older ones go to a person. 0 turns the check off.
	MaxAge     time.Duration
	Controls   Controls // the policy file's controls section
	Categories map[string]CategoryRule
	// Accounting says how the accounting export books expenses; it routes nothing, so it is left
	// out of the rules' version.
	Accounting Accounting `json:"-"`
}

// Accounting is the policy file's accounting section: how approved expenses are booked.
type Accounting struct {
	PayableAccount string // the account an expense is owed from (credited in a journal), e.g. "Employee reimbursements"
	TaxType        string // Xero's tax rate name for the bills, e.g. "Tax Exempt"
}

// CategoryRule narrows the rules for one category (from the policy file). Zero fields inherit.
type CategoryRule struct {
	AutoApproveMax      *expensebot.Money
	ReviewMax           *expensebot.Money
	ReceiptRequiredOver *expensebot.Money
	NeverAutoApprove    bool
	Routes              []RouteRule       // the first that matches chooses channel and reviewers
	MonthlyMax          *expensebot.Money // above this per person per calendar month, a person decides
	// Account is the ledger account the accounting export books the category to: a code for
	// Xero, an account name for QuickBooks. It routes nothing, so it is left out of the version.
	Account string `json:"-"`
}

// RouteRule sends expenses of a category above an amount to other reviewers or another channel.
type RouteRule struct {
	Over      expensebot.Money
	Channel   string
	Reviewers []string
}

// Decide returns the route for e given the AI's assessment (nil when the AI check is off) and
// the submitter's other expenses around it (h, see [History]). It auto-approves only when every
// rule agrees; it never rejects. The finance controls (possible duplicates, possible split
// purchases, monthly limits) add their findings to the route and send the expense to a person.
//
// Every limit is in the home currency. An expense in another currency is compared by
// e.HomeAmount, converted by the caller beforehand and rounded up, so that a limit is reached
// early, never late; it is then routed by the same rules as a home one. Without a usable rate
// (e.HomeAmount.Minor 0) the amount counts as above every limit: never approved automatically,
// two different reviewers, a receipt required, and the category's first route applies.
func Decide(e expensebot.Expense, a *expensebot.Assessment, h History, r Rules) expensebot.Route {
	lim := r.limits(e.Category)
	var reasons []string
	route := expensebot.Route{ApprovalsRequired: 1}
	amount, shown, known := inHome(e, r.Currency)
	route.HomeAmount = amount
	above := func(limit expensebot.Money) bool { return !known || limit.Less(amount) }
	if known {
		if e.Amount.Currency != r.Currency {
			route.Rate = e.Rate
		}
		if !amount.Less(lim.auto) {
			reasons = append(reasons, fmt.Sprintf("%s is at or above the auto-approve limit of %s", shown, lim.auto))
		}
		if lim.review.Less(amount) {
			route.ApprovalsRequired = 2
			reasons = append(reasons, fmt.Sprintf("over %s: two different reviewers must approve", lim.review))
		}
	} else {
		route.ApprovalsRequired = 2
		reasons = append(reasons, fmt.Sprintf("%s: the amount counts as over %s, so it is never approved automatically and two different reviewers must approve",
			noRate(e, r.Currency), lim.review))
	}
	if len(e.ReceiptFileIDs) == 0 && above(lim.receipt) {
		reasons = append(reasons, fmt.Sprintf("receipt missing (required over %s)", lim.receipt))
	}
	reasons = append(reasons, receipt.Reasons(e)...)
	if lim.never {
		reasons = append(reasons, fmt.Sprintf("%s expenses are never approved automatically", e.Category))
	}
	reasons = append(reasons, aiReasons(a, r.MinConfidence)...)
	if r.MaxAge > 0 && !e.CreatedAt.IsZero() && date(e.CreatedAt).Sub(date(e.IncurredOn)) > r.MaxAge {
		reasons = append(reasons, fmt.Sprintf("incurred on %s, more than %s before it was submitted", e.IncurredOn.Format("2 Jan 2006"), window(r.MaxAge)))
	}
	found, findings, two := controls(e, h, r, lim)
	reasons = append(reasons, found...)
	route.Findings = findings
	if two {
		route.ApprovalsRequired = 2
	}
	for _, rr := range lim.routes {
		if above(rr.Over) {
			route.Channel, route.Reviewers = rr.Channel, rr.Reviewers
			reasons = append(reasons, fmt.Sprintf("%s over %s goes to %s", e.Category, rr.Over, routeTarget(rr)))
			break
		}
	}
	if len(reasons) == 0 {
		route.AutoApprove = true
		why := fmt.Sprintf("below %s, AI approved with confidence %.2f and raised no flag", lim.auto, a.Confidence)
		if route.Rate.Value != "" {
			why += fmt.Sprintf("; %s ≈ %s at %s", e.Amount, amount, route.Rate)
		}
		reasons = []string{why}
	}
	route.Reasons = reasons
	return route
}

// inHome returns the amount of e to compare with the limits, how to show it in a reason, and
// whether it is known: the amount itself in the home currency, else its conversion.
func inHome(e expensebot.Expense, home string) (amount expensebot.Money, shown string, known bool) {
	switch {
	case e.Amount.Currency == home:
		return e.Amount, e.Amount.String(), true
	case e.HomeAmount.Currency == home && e.HomeAmount.Minor > 0:
		return e.HomeAmount, fmt.Sprintf("%s (%s)", e.Amount, e.HomeAmount), true
	}
	return expensebot.Money{Currency: home}, e.Amount.String(), false
}

// noRate says why an amount in another currency could not be converted.
func noRate(e expensebot.Expense, home string) string {
	if e.Rate.Value != "" {
		return fmt.Sprintf("the newest %s to %s rate (%s) is too old to use", e.Amount.Currency, home, e.Rate)
	}
	return fmt.Sprintf("no exchange rate from %s to %s is known", e.Amount.Currency, home)
}

// aiReasons says why the AI's advice does not allow auto-approval, or nothing when it does.
func aiReasons(a *expensebot.Assessment, minConfidence float64) []string {
	switch {
	case a == nil:
		return []string{"AI check is off"}
	case a.Error != "":
		return []string{"AI check failed: " + a.Error}
	case !a.Usable():
		return []string{"AI check gave no usable answer"}
	}
	var reasons []string
	if a.Decision != expensebot.AIApprove {
		why := ""
		if len(a.Reasons) > 0 {
			why = ": " + strings.Join(a.Reasons, "; ")
		}
		reasons = append(reasons, fmt.Sprintf("AI suggests %s%s", a.Decision, why))
	}
	if a.Confidence < minConfidence {
		reasons = append(reasons, fmt.Sprintf("AI confidence %.2f is below %.2f", a.Confidence, minConfidence))
	}
	if len(a.Flags) > 0 {
		said := make([]string, len(a.Flags))
		for i, f := range a.Flags {
			said[i] = expensebot.FlagSentence(f)
		}
		reasons = append(reasons, "AI flagged it: "+strings.Join(said, "; "))
	}
	return reasons
}

func routeTarget(rr RouteRule) string {
	var parts []string
	if len(rr.Reviewers) > 0 {
		parts = append(parts, "reviewers "+strings.Join(rr.Reviewers, ", "))
	}
	if rr.Channel != "" {
		parts = append(parts, "channel "+rr.Channel)
	}
	return strings.Join(parts, " in ")
}

type limits struct {
	auto, review, receipt expensebot.Money
	monthly               *expensebot.Money
	never                 bool
	routes                []RouteRule
}

func (r Rules) limits(category string) limits {
	l := limits{auto: r.AutoApproveMax, review: r.ReviewMax, receipt: r.ReceiptRequiredOver}
	c, ok := r.Categories[category]
	if !ok {
		return l
	}
	if c.AutoApproveMax != nil {
		l.auto = *c.AutoApproveMax
	}
	if c.ReviewMax != nil {
		l.review = *c.ReviewMax
	}
	if c.ReceiptRequiredOver != nil {
		l.receipt = *c.ReceiptRequiredOver
	}
	l.never, l.routes, l.monthly = c.NeverAutoApprove, c.Routes, c.MonthlyMax
	return l
}

// ReceiptLimits returns the amount above which an expense needs a receipt, and the categories
// whose own rule sets another.
func (r Rules) ReceiptLimits() (def expensebot.Money, byCategory map[string]expensebot.Money) {
	for _, c := range expensebot.Categories {
		if l := r.limits(c).receipt; l != r.ReceiptRequiredOver {
			if byCategory == nil {
				byCategory = map[string]expensebot.Money{}
			}
			byCategory[c] = l
		}
	}
	return r.ReceiptRequiredOver, byCategory
}

func knownFlag(f string) bool { return slices.Contains(expensebot.Flags, f) }
