// Package policy decides where an expense goes: approved automatically, or to one or two human
// reviewers, with reasons a reviewer can read. The decision is deterministic and pure; the AI
// assessor in this package only gives advice that the rules weigh, and it can never approve what
// the rules send to a human. Nothing here writes anything or knows about Slack.
package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/expensebot/expensebot"
)

// Rules are the limits that bind every expense, in the home currency.
type Rules struct {
	Currency            string           // home currency; others always need a human
	AutoApproveMax      expensebot.Money // auto-approval only strictly below this
	ReviewMax           expensebot.Money // strictly above this, two different reviewers
	ReceiptRequiredOver expensebot.Money // strictly above this, a missing receipt needs a human
	MinConfidence       float64          // least AI confidence for auto-approval
	Categories          map[string]CategoryRule
}

// CategoryRule narrows the rules for one category (from the policy file). Zero fields inherit.
type CategoryRule struct {
	AutoApproveMax      *expensebot.Money
	ReviewMax           *expensebot.Money
	ReceiptRequiredOver *expensebot.Money
	NeverAutoApprove    bool
	Routes              []RouteRule // the first that matches chooses channel and reviewers
}

// RouteRule sends expenses of a category above an amount to other reviewers or another channel.
type RouteRule struct {
	Over      expensebot.Money
	Channel   string
	Reviewers []string
}

// Decide returns the route for e given the AI's assessment (nil when the AI check is off). It
// auto-approves only when every rule agrees; it never rejects.
func Decide(e expensebot.Expense, a *expensebot.Assessment, r Rules) expensebot.Route {
	lim := r.limits(e.Category)
	var reasons []string
	route := expensebot.Route{ApprovalsRequired: 1}
	home := e.Amount.Currency == r.Currency
	amount := e.Amount
	if !home {
		reasons = append(reasons, fmt.Sprintf("in %s, not the home currency %s: a reviewer checks the conversion", e.Amount.Currency, r.Currency))
		// No exchange rates are guessed: the amount is compared nominally, which asks for the
		// second approval early for currencies worth less than the home one.
		amount = rescale(e.Amount, r.Currency)
	}
	if !amount.Less(lim.auto) {
		reasons = append(reasons, fmt.Sprintf("%s is at or above the auto-approve limit of %s", e.Amount, lim.auto))
	}
	if lim.review.Less(amount) {
		route.ApprovalsRequired = 2
		reasons = append(reasons, fmt.Sprintf("over %s: two different reviewers must approve", lim.review))
	}
	if len(e.ReceiptFileIDs) == 0 && lim.receipt.Less(amount) {
		reasons = append(reasons, fmt.Sprintf("receipt missing (required over %s)", lim.receipt))
	}
	if lim.never {
		reasons = append(reasons, fmt.Sprintf("%s expenses are never approved automatically", e.Category))
	}
	reasons = append(reasons, aiReasons(a, r.MinConfidence)...)
	for _, rr := range lim.routes {
		if rr.Over.Less(amount) {
			route.Channel, route.Reviewers = rr.Channel, rr.Reviewers
			reasons = append(reasons, fmt.Sprintf("%s over %s goes to %s", e.Category, rr.Over, routeTarget(rr)))
			break
		}
	}
	if len(reasons) == 0 {
		route.AutoApprove = true
		reasons = []string{fmt.Sprintf("below %s, AI approved with confidence %.2f and raised no flag", lim.auto, a.Confidence)}
	}
	route.Reasons = reasons
	return route
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
		reasons = append(reasons, "AI flagged: "+strings.Join(a.Flags, ", "))
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
	l.never, l.routes = c.NeverAutoApprove, c.Routes
	return l
}

// rescale expresses m's nominal value in the minor units of currency, so that 1,500 JPY compares
// as 1,500.00 against limits in USD.
func rescale(m expensebot.Money, currency string) expensebot.Money {
	from, _ := expensebot.CurrencyDigits(m.Currency)
	to, _ := expensebot.CurrencyDigits(currency)
	v := m.Minor
	for ; from < to; from++ {
		v *= 10
	}
	for ; from > to; from-- {
		v = (v + 9) / 10 // round up: never under-state an amount against a limit
	}
	return expensebot.Money{Minor: v, Currency: currency}
}

func knownFlag(f string) bool { return slices.Contains(expensebot.Flags, f) }
