package policy

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/expensebot/expensebot"
)

// History is the submitter's other expenses that the finance controls weigh against a new one:
// those incurred within [Span] of it. The workflow gathers it from the store before it calls
// [Decide]; Decide only reads it, so a route stays a pure function of its inputs.
type History []expensebot.Expense

// duplicateWindow is how far apart two claims of one expense may have been incurred.
const duplicateWindow = 24 * time.Hour

// Span returns the dates (midnight UTC, both included) between which the submitter's other
// expenses matter to e: its calendar month (for monthly limits), the split window either side of
// it, and a day either side (for duplicates), whichever reaches further. A window that is not whole
// days reaches the whole of its last day.
func Span(e expensebot.Expense, r Rules) (from, to time.Time) {
	day := date(e.IncurredOn)
	reach := max(r.SplitWindow, duplicateWindow)
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

// controls applies the finance controls: possible duplicates, possible split purchases, and the
// category's monthly limit per person. Each finding also gives the reviewer a reason.
func controls(e expensebot.Expense, h History, r Rules, lim limits) (reasons []string, findings []expensebot.Finding) {
	var dups, parts []expensebot.Expense
	amount, known := homeValue(e, r.Currency)
	sum, month := amount, amount
	day := date(e.IncurredOn)
	for _, o := range h {
		// Only open and owed money counts (rejected, withdrawn and expired never do), and a
		// resubmission replaces the expense it resubmits rather than repeating it.
		if o.ID == e.ID || o.ID == e.ResubmitOf || o.SubmitterID != e.SubmitterID || !o.Status.Info().Counts {
			continue
		}
		apart := absDuration(date(o.IncurredOn).Sub(day))
		if o.Amount == e.Amount && apart <= duplicateWindow && similar(o.Description, e.Description) {
			dups = append(dups, o)
		}
		if o.Category != e.Category {
			continue
		}
		v, ok := homeValue(o, r.Currency)
		if !ok {
			continue
		}
		if r.SplitWindow > 0 && apart <= r.SplitWindow && v.Less(lim.auto) {
			parts = append(parts, o)
			sum.Minor += v.Minor
		}
		if sameMonth(o.IncurredOn, e.IncurredOn) {
			month.Minor += v.Minor
		}
	}
	if len(dups) > 0 {
		reasons = append(reasons, fmt.Sprintf("possibly claimed twice: %s has the same amount, a date at most a day apart and a similar description",
			ids(dups)))
		findings = append(findings, finding(expensebot.FlagPossibleDuplicate, dups))
	}
	if known && len(parts) > 0 && amount.Less(lim.auto) && !sum.Less(lim.auto) {
		reasons = append(reasons, fmt.Sprintf("possibly one purchase split up: with %s, %s expenses within %s of each other come to %s, at or above the auto-approve limit of %s",
			ids(parts), e.Category, window(r.SplitWindow), sum, lim.auto))
		findings = append(findings, finding(expensebot.FlagPossibleSplit, parts))
	}
	if known && lim.monthly != nil && lim.monthly.Less(month) {
		reasons = append(reasons, fmt.Sprintf("%s expenses of %s come to %s with this one, over the limit of %s per person per month",
			e.Category, e.IncurredOn.Format("January 2006"), month, *lim.monthly))
		findings = append(findings, expensebot.Finding{Flag: expensebot.FlagOverMonthlyMax})
	}
	return reasons, findings
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
