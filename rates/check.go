package rates

import (
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"
)

// DefaultBand is how many times larger or smaller than the previous rate of the same pair a new
// one may be (the policy file's controls.rate_band).
const DefaultBand = 10

// The plausible range of any rate: a unit of one currency is worth at least a billionth and at
// most a billion units of another (the widest real pairs are about a millionth apart). Outside
// it a rate is a typo such as 0.0000000000000000000001, never a price.
var (
	minRate = big.NewRat(1, 1_000_000_000)
	maxRate = big.NewRat(1_000_000_000, 1)
)

// Check refuses a table a finance team would not have meant, naming each line: a rate dated
// after today (now's UTC date), one outside the plausible range, and one more than band times
// larger or smaller than prev's rate for the same currency (prev may be nil; band below 2 is
// DefaultBand). A table dated in the future would otherwise never look stale.
func (t *Table) Check(now time.Time, prev *Table, band int64) error {
	if band < 2 {
		band = DefaultBand
	}
	today := now.UTC().Truncate(24 * time.Hour)
	var problems []string
	where := func(q quote, c string) string {
		if q.line > 0 {
			return fmt.Sprintf("line %d: %s", q.line, c)
		}
		return c
	}
	for _, c := range slices.Sorted(mapKeys(t.quotes)) {
		q := t.quotes[c]
		if q.date.After(today) {
			problems = append(problems, fmt.Sprintf("%s: the rate is dated %s, after today (%s)", where(q, c), q.date.Format(time.DateOnly), today.Format(time.DateOnly)))
		}
		if q.value.Cmp(minRate) < 0 || q.value.Cmp(maxRate) > 0 {
			problems = append(problems, fmt.Sprintf("%s: the rate %s is outside any plausible range (0.000000001 to 1000000000)", where(q, c), q.text))
			continue
		}
		if prev == nil || prev.base != t.base || prev.perBase != t.perBase {
			continue
		}
		p, ok := prev.quotes[c]
		if !ok {
			continue
		}
		ratio := new(big.Rat).Quo(q.value, p.value)
		b := big.NewRat(band, 1)
		if ratio.Cmp(b) > 0 || ratio.Cmp(new(big.Rat).Inv(b)) < 0 {
			problems = append(problems, fmt.Sprintf("%s: the rate %s is more than %d times away from the previous one, %s of %s",
				where(q, c), q.text, band, p.text, p.date.Format(time.DateOnly)))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("refused: %s", strings.Join(problems, "; "))
	}
	return nil
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
