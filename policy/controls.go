package policy

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/expensebot/expensebot"
)

// History is the other expenses that the finance controls weigh against a new one: the
// submitter's own incurred within [Span] of it, and anyone's whose receipt a model read within
// the duplicate window (for the receipt facts). The workflow gathers it from the store before it
// calls [Decide]; Decide only reads it, so a route stays a pure function of its inputs.
type History []expensebot.Expense

// Controls are the finance controls' settings: the policy file's controls section. A zero field
// takes its default.
type Controls struct {
	// DuplicateWindow is how far apart two claims of one expense may have been incurred
	// (duplicate_window; default 7 days).
	DuplicateWindow time.Duration
	// DuplicateTolerance is how far apart, in the home currency, the amounts of two claims of one
	// expense may be (duplicate_tolerance and duplicate_tolerance_min); nil: 1 % or 1.00,
	// whichever is larger.
	DuplicateTolerance *Tolerance
	// RateBand is how many times larger or smaller than the previous rate for the same pair a new
	// exchange rate may be before it is refused at load (rate_band; default 10).
	RateBand int64
}

// Tolerance is a share of an amount with a floor: whichever is larger.
type Tolerance struct {
	BasisPoints int64            // hundredths of a percent: 100 is 1 %
	Min         expensebot.Money // in the home currency
}

// Defaults of [Controls].
const (
	DefaultDuplicateWindow      = 7 * 24 * time.Hour
	DefaultDuplicateBasisPoints = 100 // 1 %
	DefaultDuplicateMinMajor    = 1   // 1.00 of the home currency
	DefaultRateBand             = 10
)

// Window is the duplicate window in force.
func (c Controls) Window() time.Duration {
	if c.DuplicateWindow > 0 {
		return c.DuplicateWindow
	}
	return DefaultDuplicateWindow
}

// Band is the exchange-rate sanity band in force.
func (c Controls) Band() int64 {
	if c.RateBand > 1 {
		return c.RateBand
	}
	return DefaultRateBand
}

// Tolerance returns the tolerance in force for home.
func (c Controls) Tolerance(home string) Tolerance {
	if c.DuplicateTolerance != nil {
		return *c.DuplicateTolerance
	}
	m, _ := expensebot.ParseMoney(fmt.Sprint(DefaultDuplicateMinMajor), home)
	m.Currency = home
	return Tolerance{BasisPoints: DefaultDuplicateBasisPoints, Min: m}
}

// of is the tolerance for an amount: its share, rounded up, or the floor, whichever is larger.
func (t Tolerance) of(m expensebot.Money) int64 {
	share := (m.Minor*t.BasisPoints + 9999) / 10000
	if m.Currency != t.Min.Currency {
		return share // a floor in another currency cannot be compared: the share alone
	}
	return max(share, t.Min.Minor)
}

// Span returns the dates (midnight UTC, both included) between which the submitter's other
// expenses matter to e: its calendar month (for monthly limits), the split window and the
// duplicate window either side of it, whichever reaches further. A window that is not whole
// days reaches the whole of its last day.
func Span(e expensebot.Expense, r Rules) (from, to time.Time) {
	day := date(e.IncurredOn)
	reach := max(r.SplitWindow, r.Controls.Window())
	from, to = day.Add(-reach), day.Add(reach)
	first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1)
	if first.Before(from) {
		from = first
	}
	if last.After(to) {
		to = last
	}
	return date(from), date(to)
}

// DuplicateSpan returns the dates (midnight UTC, both included) between which anyone's expenses
// are compared with e by their receipt facts.
func DuplicateSpan(e expensebot.Expense, r Rules) (from, to time.Time) {
	day, w := date(e.IncurredOn), r.Controls.Window()
	return date(day.Add(-w)), date(day.Add(w))
}

// HasFacts reports whether a model read merchant, date, total and currency on any of e's
// receipts: only then can anyone's claim of the same bill be found by its receipt.
func HasFacts(e expensebot.Expense) bool {
	for _, r := range e.Receipts {
		if _, ok := facts(r); ok {
			return true
		}
	}
	return false
}

// controls applies the finance controls: possible duplicates, possible split purchases, and the
// category's monthly limit per person. Each finding also gives the reviewer a reason; two is
// true when the parts of a split together need two different approvers.
//
// The parts of a possible split are the submitter's other expenses, in any category, incurred
// within the split window of e, that add to a total (see counts), and that on their own were
// below the limit in question (an expense above it was reviewed so on its own). Merchant and
// description play no part: a split purchase is often described differently each time. Their
// sum with e is compared with e's category's limits, as one expense of that size would be.
func controls(e expensebot.Expense, h History, r Rules, lim limits) (reasons []string, findings []expensebot.Finding, two bool) {
	var dups, autoParts, reviewParts []expensebot.Expense
	amount, known := homeValue(e, r.Currency)
	autoSum, reviewSum, month := amount, amount, amount
	day := date(e.IncurredOn)
	replaced := ancestors(e, h)
	tol := r.Controls.Tolerance(r.Currency)
	for _, o := range h {
		if o.ID == e.ID || replaced[o.ID] || o.ResubmitOf == e.ID {
			continue // a resubmission and what it replaces are one claim
		}
		apart := absDuration(date(o.IncurredOn).Sub(day))
		if duplicate(e, o, r, tol, apart) {
			dups = append(dups, o)
		}
		if o.SubmitterID != e.SubmitterID || !o.Status.Info().Counts {
			continue
		}
		v, ok := homeValue(o, r.Currency)
		if !ok {
			continue
		}
		if r.SplitWindow > 0 && apart <= r.SplitWindow {
			if v.Less(lim.auto) {
				autoParts = append(autoParts, o)
				autoSum.Minor += v.Minor
			}
			if !lim.review.Less(v) {
				reviewParts = append(reviewParts, o)
				reviewSum.Minor += v.Minor
			}
		}
		if o.Category == e.Category && sameMonth(o.IncurredOn, e.IncurredOn) {
			month.Minor += v.Minor
		}
	}
	if len(dups) > 0 {
		reasons = append(reasons, fmt.Sprintf("possibly claimed twice: %s incurred within %s of it, for an amount within %s and a similar description or merchant, or with the same receipt",
			ids(dups), window(r.Controls.Window()), tolText(tol)))
		findings = append(findings, finding(expensebot.FlagPossibleDuplicate, dups))
	}
	switch {
	case known && len(reviewParts) > 0 && !lim.review.Less(amount) && lim.review.Less(reviewSum):
		two = true
		reasons = append(reasons, fmt.Sprintf("possibly one purchase split up: with %s, expenses within %s of each other come to %s, over %s: two different reviewers must approve",
			ids(reviewParts), window(r.SplitWindow), reviewSum, lim.review))
		findings = append(findings, finding(expensebot.FlagSplitOverReview, reviewParts))
	case known && len(autoParts) > 0 && amount.Less(lim.auto) && !autoSum.Less(lim.auto):
		reasons = append(reasons, fmt.Sprintf("possibly one purchase split up: with %s, expenses within %s of each other come to %s, at or above the auto-approve limit of %s",
			ids(autoParts), window(r.SplitWindow), autoSum, lim.auto))
		findings = append(findings, finding(expensebot.FlagPossibleSplit, autoParts))
	}
	if known && lim.monthly != nil && lim.monthly.Less(month) {
		reasons = append(reasons, fmt.Sprintf("%s expenses of %s come to %s with this one, over the limit of %s per person per month",
			e.Category, e.IncurredOn.Format("January 2006"), month, *lim.monthly))
		findings = append(findings, expensebot.Finding{Flag: expensebot.FlagOverMonthlyMax})
	}
	return reasons, findings, two
}

// ancestors are the expenses e replaces, directly or through earlier resubmissions, as far as h
// holds them.
func ancestors(e expensebot.Expense, h History) map[int64]bool {
	byID := make(map[int64]expensebot.Expense, len(h))
	for _, o := range h {
		byID[o.ID] = o
	}
	out := map[int64]bool{}
	for id := e.ResubmitOf; id != 0 && !out[id]; {
		out[id] = true
		id = byID[id].ResubmitOf
	}
	return out
}

// duplicate reports whether o may be a claim of the same expense as e: incurred within the
// duplicate window, not withdrawn or expired (a rejected claim made again is still worth a
// second look: it is how a refusal would be worked around), and either carrying a receipt with the same facts read on it (anyone's), or
// the same submitter's with an amount within the tolerance and a similar description or the same
// merchant on the receipts.
func duplicate(e, o expensebot.Expense, r Rules, tol Tolerance, apart time.Duration) bool {
	if apart > r.Controls.Window() || !o.Status.Info().Compared {
		return false // nothing was decided about a withdrawn or expired claim: claiming it again is no duplicate
	}
	if sameReceipt(e, o) {
		return true
	}
	if o.SubmitterID != e.SubmitterID || !near(e, o, r.Currency, tol) {
		return false
	}
	return similar(o.Description, e.Description) || sameMerchant(e, o)
}

// near reports whether the amounts of a and b are within the tolerance: in the home currency
// when both are known there, else in their own currency when it is the same one.
func near(a, b expensebot.Expense, home string, tol Tolerance) bool {
	va, oka := homeValue(a, home)
	vb, okb := homeValue(b, home)
	if !oka || !okb {
		if a.Amount.Currency != b.Amount.Currency {
			return false
		}
		va, vb = a.Amount, b.Amount
	}
	return absMinor(va.Minor-vb.Minor) <= tol.of(expensebot.Money{Minor: max(va.Minor, vb.Minor), Currency: va.Currency})
}

// receiptFacts are the facts of a receipt that identify a bill, normalised for comparison.
type receiptFacts struct{ merchant, date, total, currency string }

func facts(r expensebot.Receipt) (receiptFacts, bool) {
	if r.Reading == nil || r.Reading.Error != "" || !r.Reading.Facts.Readable {
		return receiptFacts{}, false
	}
	f := r.Reading.Facts
	out := receiptFacts{merchant: merchant(f.Merchant), date: strings.TrimSpace(f.Date), currency: strings.ToUpper(strings.TrimSpace(f.Currency))}
	if m, err := expensebot.ParseMoney(strings.TrimSpace(f.Total), out.currency); err == nil {
		out.total = fmt.Sprint(m.Minor)
	}
	return out, out.merchant != "" && out.date != "" && out.total != "" && out.currency != ""
}

// sameReceipt reports whether a receipt of a and one of b have the same merchant, date, total
// and currency read on them: one bill, whoever photographed it.
func sameReceipt(a, b expensebot.Expense) bool {
	for _, ra := range a.Receipts {
		fa, ok := facts(ra)
		if !ok {
			continue
		}
		for _, rb := range b.Receipts {
			if fb, ok := facts(rb); ok && fa == fb {
				return true
			}
		}
	}
	return false
}

// sameMerchant reports whether a receipt of a and one of b name the same merchant.
func sameMerchant(a, b expensebot.Expense) bool {
	for _, ra := range a.Receipts {
		if ra.Reading == nil || merchant(ra.Reading.Facts.Merchant) == "" {
			continue
		}
		for _, rb := range b.Receipts {
			if rb.Reading != nil && merchant(ra.Reading.Facts.Merchant) == merchant(rb.Reading.Facts.Merchant) {
				return true
			}
		}
	}
	return false
}

// merchant normalises a merchant's name as read: letters and digits only, lower case, so that
// "Luigi's" and "LUIGIS" are one.
func merchant(s string) string { return strings.Join(words(s), "") }

// tolText says the tolerance as people read it: "1 % or 1.00 USD".
func tolText(t Tolerance) string {
	pct := fmt.Sprintf("%d.%02d", t.BasisPoints/100, t.BasisPoints%100)
	pct = strings.TrimSuffix(strings.TrimRight(pct, "0"), ".")
	return fmt.Sprintf("%s %% or %s", pct, t.Min)
}

func absMinor(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// homeValue is what x counts for against limits in the home currency, and whether that is known:
// its amount when it is in the home currency, else its conversion (see [Decide]). An expense in
// another currency that no rate converted adds to no total.
func homeValue(x expensebot.Expense, home string) (expensebot.Money, bool) {
	switch {
	case x.Amount.Currency == home:
		return x.Amount, true
	case x.HomeAmount.Currency == home && x.HomeAmount.Minor > 0:
		return x.HomeAmount, true
	}
	return expensebot.Money{Currency: home}, false
}

func finding(flag string, list []expensebot.Expense) expensebot.Finding {
	f := expensebot.Finding{Flag: flag}
	for _, o := range list {
		f.Related = append(f.Related, expensebot.RelatedOf(o))
	}
	return f
}

// ids names expenses as people read them: "#12", "#12 and #13", "#12, #13 and #14".
func ids(list []expensebot.Expense) string {
	names := make([]string, len(list))
	for i, o := range list {
		names[i] = fmt.Sprintf("#%d", o.ID)
	}
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// window writes a duration as people say it: 72h is "3 days", 36h "36 hours".
func window(d time.Duration) string {
	switch {
	case d == 24*time.Hour:
		return "a day"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

func date(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

func sameMonth(a, b time.Time) bool {
	a, b = a.UTC(), b.UTC()
	return a.Year() == b.Year() && a.Month() == b.Month()
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// similar reports whether two descriptions could be of one expense. Case, punctuation and word
// order do not matter. They are similar when every word of the shorter is in the longer ("Dinner"
// and "Team dinner at Luigi's"), or when they share most of their letter pairs (Sørensen–Dice on
// bigrams of each word, at least 0.6: "Dinner at Luigis" and "dinner, Luigi's"). "Taxi" and
// "Lunch" are not; "Taxi to the airport" and "Taxi from the airport" are, which a person settles
// with one click.
func similar(a, b string) bool {
	wa, wb := words(a), words(b)
	if len(wa) == 0 || len(wb) == 0 {
		return false
	}
	if len(wa) > len(wb) {
		wa, wb = wb, wa
	}
	if containsAll(wb, wa) {
		return true
	}
	return dice(bigrams(wa), bigrams(wb)) >= 0.6
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

func containsAll(set, sub []string) bool {
	have := map[string]bool{}
	for _, w := range set {
		have[w] = true
	}
	for _, w := range sub {
		if !have[w] {
			return false
		}
	}
	return true
}

// bigrams counts the letter pairs within each word; a one-letter word counts as itself.
func bigrams(ws []string) map[string]int {
	out := map[string]int{}
	for _, w := range ws {
		r := []rune(w)
		if len(r) == 1 {
			out[w]++
		}
		for i := 0; i+1 < len(r); i++ {
			out[string(r[i:i+2])]++
		}
	}
	return out
}

func dice(a, b map[string]int) float64 {
	na, nb, common := 0, 0, 0
	for k, n := range a {
		na += n
		common += min(n, b[k])
	}
	for _, n := range b {
		nb += n
	}
	if na+nb == 0 {
		return 0
	}
	return 2 * float64(common) / float64(na+nb)
}
