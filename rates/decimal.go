package rates

import (
	"fmt"
	"math/big"
	"strings"
)

// maxDecimal bounds the length of a rate as written: longer text is a mistake, not precision.
const maxDecimal = 24

// parseDecimal reads a rate as written in a rates file or the ECB's XML: digits with an optional
// decimal point ("1.0850", "162.5", "3"), more than zero. Signs, exponents, fractions, grouping and
// decimal commas are refused, so that no rate is ever read as something its author did not mean.
func parseDecimal(s string) (*big.Rat, error) {
	intPart, frac, hasPoint := strings.Cut(s, ".")
	switch {
	case s == "":
		return nil, fmt.Errorf("the rate is empty")
	case len(s) > maxDecimal:
		return nil, fmt.Errorf("rate %q is longer than %d characters", s, maxDecimal)
	case intPart == "" || !digits(intPart) || (hasPoint && (frac == "" || !digits(frac))):
		return nil, fmt.Errorf("rate %q is not a decimal number such as 1.0850", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("rate %q is not a decimal number such as 1.0850", s)
	}
	if r.Sign() <= 0 {
		return nil, fmt.Errorf("rate %q must be more than zero", s)
	}
	return r, nil
}

func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// sigDigits is how many significant digits a derived rate (a cross rate, or the inverse of a
// quote) keeps. ECB quotes have five or six; ten loses nothing a quote carries.
const sigDigits = 10

// formatUp writes r (more than zero) as a decimal of at most sig significant digits, rounded up,
// without trailing zeros: a derived rate is never smaller than the exact one, so an amount
// converted at it reaches a limit early, never late.
func formatUp(r *big.Rat, sig int) string {
	// e is the exponent of r's leading digit: 10^e <= r < 10^(e+1).
	e := 0
	if q := new(big.Int).Quo(r.Num(), r.Denom()); q.Sign() > 0 {
		e = len(q.String()) - 1
	} else {
		x := new(big.Rat).Set(r)
		ten := big.NewRat(10, 1)
		one := big.NewRat(1, 1)
		for x.Cmp(one) < 0 {
			x.Mul(x, ten)
			e--
		}
	}
	scale := max(sig-1-e, 0)
	scaled := ceil(new(big.Rat).Mul(r, new(big.Rat).SetInt(pow10(scale))))
	s := scaled.String()
	if scale == 0 {
		return s
	}
	if len(s) <= scale {
		s = strings.Repeat("0", scale-len(s)+1) + s
	}
	s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// ceil returns the least integer not below r.
func ceil(r *big.Rat) *big.Int {
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}
