// Package rates converts money to the home currency, so that every limit of the policy is
// compared in one currency. Rates come from a rates file (CSV or YAML, see [ParseFile]) and from
// the European Central Bank's daily reference rates (see [ParseECB]), kept current by a [Book]
// that fetches them daily and caches the last document in the database.
//
// Money is never a float here: rates are exact decimals read from their text, conversion is
// done with math/big, and the home amount is rounded up, so that a limit is reached early, never
// late.
package rates

import (
	"math/big"
	"time"

	"github.com/expensebot/expensebot"
)

// Table is one set of quotes from one source, as parsed; it is never changed afterwards, so it
// is safe for concurrent use.
type Table struct {
	Source string // who quoted the rates: "ECB", or the rates file's name

	base    string // the currency every quote is against
	perBase bool   // a quote is units of the currency per unit of base (ECB); else base units per unit of the currency
	quotes  map[string]quote
}

type quote struct {
	text  string   // as written, e.g. "1.0850"
	value *big.Rat // the same, exactly
	date  time.Time
	line  int // where it was written, for error messages
}

// AsOf is the day of the newest quote in t.
func (t *Table) AsOf() time.Time {
	var d time.Time
	for _, q := range t.quotes {
		if q.date.After(d) {
			d = q.date
		}
	}
	return d
}

// Len is the number of currencies t quotes (its base not counted).
func (t *Table) Len() int { return len(t.quotes) }

// Rate returns the rate from one currency to another: how many units of to one unit of from is
// worth. A rate that is a single quote keeps its text ("1.0850"); one derived from two quotes
// (a cross rate through the ECB's euro) or from inverting a quote is rounded up to ten
// significant digits. Its date is that of the older quote used. It reports false when t lacks
// either currency.
func (t *Table) Rate(from, to string) (expensebot.Rate, bool) {
	r, _, ok := t.rate(from, to)
	return r, ok
}

func (t *Table) rate(from, to string) (expensebot.Rate, *big.Rat, bool) {
	if from == to {
		return expensebot.Rate{}, nil, false
	}
	f, okF := t.lookup(from)
	h, okH := t.lookup(to)
	if !okF || !okH {
		return expensebot.Rate{}, nil, false
	}
	r := expensebot.Rate{From: from, To: to, Source: t.Source, Date: older(f.date, h.date)}
	// A quote as written is the rate when the other side is the base and the quote points the
	// right way: ECB "USD 1.0850" is EUR→USD, file "EUR,USD,1.0850" is EUR→USD.
	switch {
	case t.perBase && from == t.base:
		r.Value = h.text
		return r, h.value, true
	case !t.perBase && to == t.base:
		r.Value = f.text
		return r, f.value, true
	}
	// Otherwise derive it: the worth of one from in base over the worth of one to in base.
	exact := new(big.Rat).Quo(t.worth(f), t.worth(h))
	r.Value = formatUp(exact, sigDigits)
	v, _ := new(big.Rat).SetString(r.Value)
	return r, v, true
}

// lookup returns the quote of a currency; the base is worth one of itself and has no date.
func (t *Table) lookup(c string) (quote, bool) {
	if c == t.base {
		return quote{text: "1", value: big.NewRat(1, 1)}, true
	}
	q, ok := t.quotes[c]
	return q, ok
}

// worth is how many units of base one unit of q's currency is worth.
func (t *Table) worth(q quote) *big.Rat {
	if t.perBase {
		return new(big.Rat).Inv(q.value)
	}
	return q.value
}

func older(a, b time.Time) time.Time {
	switch {
	case a.IsZero():
		return b
	case b.IsZero() || a.Before(b):
		return a
	}
	return b
}

// Convert expresses m in the home currency at t's rate, rounded up to home's minor unit. It
// reports false when t has no rate between the two, either currency is not one expensebot
// accepts, or the result does not fit. An amount already in home is returned as it is, with the
// zero Rate.
func (t *Table) Convert(m expensebot.Money, home string) (expensebot.Money, expensebot.Rate, bool) {
	if m.Currency == home {
		return m, expensebot.Rate{}, true
	}
	from, okF := expensebot.CurrencyDigits(m.Currency)
	to, okT := expensebot.CurrencyDigits(home)
	if !okF || !okT {
		return expensebot.Money{}, expensebot.Rate{}, false
	}
	r, v, ok := t.rate(m.Currency, home)
	if !ok {
		return expensebot.Money{}, expensebot.Rate{}, false
	}
	// home minor = m.Minor × rate × 10^to / 10^from, rounded up.
	x := new(big.Rat).SetInt64(m.Minor)
	x.Mul(x, v)
	x.Mul(x, new(big.Rat).SetInt(pow10(to)))
	x.Quo(x, new(big.Rat).SetInt(pow10(from)))
	n := ceil(x)
	if !n.IsInt64() {
		return expensebot.Money{}, expensebot.Rate{}, false
	}
	return expensebot.Money{Minor: n.Int64(), Currency: home}, r, true
}
