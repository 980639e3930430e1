package expensebot

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// Money is an amount in a currency's minor units (cents for USD, yen for JPY). It is never a float.
type Money struct {
	Minor    int64  // amount in minor units
	Currency string // ISO 4217 code, upper case
}

// MaxMajor is the largest amount, in major units, the bot accepts: anything above is a typo.
const MaxMajor = 1_000_000_000

// ParseMoney reads an amount as people type it. home is the currency when none is written; it
// also says which currency a shared sign such as $ means. Accepted forms:
//
//	42.50   42   42,50   2500 USD   USD 2500   2500 usd   $2,500   €12.30   12,50 €   50 euros
//	1.234,56 EUR   1 234,56 EUR   12 200
//
// Numbers: a lone "." is a decimal point. A lone "," is a thousands separator when exactly three
// digits follow it and the number does not start with 0 (2,500), and a decimal comma otherwise
// (42,50; 0,500). When both appear, the last one is the decimal separator and the other groups
// thousands, which must then come in threes. Spaces group thousands only in threes (1 234,56 and
// 12 200 are one number each): "5 3" is refused, never read as 53.
//
// Currencies: an ISO code in any case or a sign, before or after the number, or a name after it.
// A sign or name that several currencies share means home when home is one of them:
//   - $ means home when home writes itself $: the dollars USD, CAD, AUD, NZD, SGD, HKD and TWD,
//     and the pesos MXN, ARS, CLP and COP. With any other home it is refused, with a message
//     asking for the code: no dollar is the obvious one.
//   - ¥ (and the full-width ￥) means JPY or CNY by the same rule, and is refused otherwise.
//   - £ means EGP when home is EGP, and GBP otherwise.
//   - € means EUR and ₹ means INR.
//   - dollars, pesos, pounds and rupees follow the $ rule for their currencies and are refused
//     when home is none of them; euros, yen, yuan (rmb) and francs (CHF) name one currency.
//
// A code next to a sign chooses among the sign's currencies ("$50 CAD"); a code or sign that
// contradicts another ("$12 EUR") is refused.
//
// Zero, negatives, exponents, NaN/Inf, more decimals than the currency has and amounts over
// MaxMajor are refused too. Every error is an *[Error] with code EINVALID and a message a person
// can act on.
func ParseMoney(text, home string) (Money, error) {
	s, marks := cutMarks(strings.TrimSpace(text))
	if s == "" {
		return Money{}, Errorf(EINVALID, "Please enter an amount, e.g. 42.50.")
	}
	currency, err := pickCurrency(marks, home, s, text)
	if err != nil {
		return Money{}, err
	}
	digits := currencies[currency]
	if strings.HasPrefix(s, "-") {
		return Money{}, Errorf(EINVALID, "The amount must be positive; %q is negative.", text)
	}
	intPart, frac, err := splitNumber(s)
	if err != nil {
		return Money{}, Errorf(EINVALID, "%q is not an amount I can read (%s). Try 42.50 or 2500 USD.", text, err)
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 10 { // longer than MaxMajor: refuse before it can overflow
		return Money{}, tooLarge(currency)
	}
	major := int64(0)
	if intPart != "" {
		major, _ = strconv.ParseInt(intPart, 10, 64) // only digits, at most 10 of them
	}
	if major > MaxMajor {
		return Money{}, tooLarge(currency)
	}
	if len(frac) > digits {
		if digits == 0 {
			return Money{}, noMinorUnits(currency, s, major, frac)
		}
		return Money{}, Errorf(EINVALID, "%s has %d decimal places; %q has %d.", currency, digits, text, len(frac))
	}
	minor := major * pow10(digits)
	if frac != "" {
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", digits-len(frac)), 10, 64)
		minor += f
	}
	if minor == 0 {
		return Money{}, Errorf(EINVALID, "The amount must be more than zero.")
	}
	if minor > MaxMajor*pow10(digits) {
		return Money{}, tooLarge(currency)
	}
	return Money{Minor: minor, Currency: currency}, nil
}

// noMinorUnits refuses decimals in a currency that has none, showing whole amounts the person
// may have meant; they choose, we only show how to write it. After one to three digits, three
// decimals may be a thousands group (5.000 CLP is five thousand pesos in Chile), so that reading
// is offered too.
func noMinorUnits(currency, number string, major int64, frac string) error {
	whole := major
	if frac[0] >= '5' || whole == 0 {
		whole++
	}
	if len(frac) == 3 && major > 0 && major < 1000 {
		return Errorf(EINVALID, "%s has no minor units: write %d%s %s or %d %s, not %s %s.",
			currency, major, frac, currency, whole, currency, number, currency)
	}
	return Errorf(EINVALID, "%s has no minor units: write a whole amount, e.g. %s %s, not %s %s.",
		currency, groupThousands(strconv.FormatInt(whole, 10)), currency, number, currency)
}

func tooLarge(currency string) error {
	return Errorf(EINVALID, "That is more than %s %s; please check the amount.", groupThousands(strconv.Itoa(MaxMajor)), currency)
}

// cutMarks takes the currency off both ends of s: a sign touching the number or not ($5, $ 5,
// 5€, 5 €), a code before or after it (USD 5, 5 usd) or a name after it (5 euros). It returns
// what is left, which should be the number, and the marks as written.
func cutMarks(s string) (string, []string) {
	var marks []string
	if sign, rest, ok := cutSign(s, strings.CutPrefix); ok {
		marks, s = append(marks, sign), strings.TrimSpace(rest)
	} else if f := strings.Fields(s); len(f) > 1 && isCode(f[0]) {
		marks, s = append(marks, f[0]), strings.TrimSpace(strings.TrimPrefix(s, f[0]))
	}
	if sign, rest, ok := cutSign(s, strings.CutSuffix); ok {
		marks, s = append(marks, sign), strings.TrimSpace(rest)
	} else if f := strings.Fields(s); len(f) > 1 && (isCode(f[len(f)-1]) || isCurrencyName(f[len(f)-1])) {
		last := f[len(f)-1]
		marks, s = append(marks, last), strings.TrimSpace(strings.TrimSuffix(s, last))
	}
	return s, marks
}

func cutSign(s string, cut func(s, sign string) (string, bool)) (sign, rest string, ok bool) {
	for _, c := range signs {
		if rest, ok := cut(s, c.sign); ok {
			return c.sign, rest, true
		}
	}
	return "", s, false
}

// signFor returns the currencies a sign standing alone can mean.
func signFor(w string) (currencySign, bool) {
	for _, c := range signs {
		if c.sign == w {
			return c.currencySign, true
		}
	}
	return currencySign{}, false
}

// sharedSign returns the currencies a sign or name can mean.
func sharedSign(mark string) (currencySign, bool) {
	if c, ok := signFor(mark); ok {
		return c, true
	}
	c, ok := currencyNames[strings.ToLower(mark)]
	return c, ok
}

func isCurrencyName(word string) bool {
	_, ok := currencyNames[strings.ToLower(word)]
	return ok
}

// pickCurrency decides the currency of number from the marks written around it, following the
// rules of ParseMoney. text is the whole input, for messages.
func pickCurrency(marks []string, home, number, text string) (string, error) {
	code := ""
	for _, m := range marks {
		if _, ok := sharedSign(m); ok {
			continue
		}
		c := strings.ToUpper(m)
		if code != "" && code != c {
			return "", twoCurrencies(text)
		}
		code = c
	}
	if code != "" && !ValidCurrency(code) {
		return "", unknownCurrency(code)
	}
	currency := code
	for _, m := range marks {
		s, ok := sharedSign(m)
		if !ok {
			continue
		}
		var c string
		switch {
		case code != "":
			if !slices.Contains(s.codes, code) {
				return "", twoCurrencies(text)
			}
			continue
		case slices.Contains(s.codes, home):
			c = home
		case s.fallback != "":
			c = s.fallback
		default:
			return "", Errorf(EINVALID, "%s could be %s: write the currency code instead, e.g. %s %s.", m, s.could, number, s.codes[0])
		}
		if currency != "" && currency != c {
			return "", twoCurrencies(text)
		}
		currency = c
	}
	if currency == "" {
		currency = home
	}
	if !ValidCurrency(currency) {
		return "", unknownCurrency(currency)
	}
	return currency, nil
}

func twoCurrencies(text string) error {
	return Errorf(EINVALID, "%q names two different currencies.", text)
}

func unknownCurrency(code string) error {
	return Errorf(EINVALID, "%q is not a currency code I know; use an ISO code such as USD or EUR.", code)
}

func isCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) || r > unicode.MaxASCII {
			return false
		}
	}
	return true
}

// splitNumber separates the integer digits from the decimal digits following the rules of
// ParseMoney, validating grouping.
func splitNumber(s string) (intPart, frac string, err error) {
	if groups := strings.Fields(s); len(groups) > 1 {
		return splitSpaced(groups)
	}
	if s == "" {
		return "", "", fmt.Errorf("no digits")
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != '.' && r != ',' {
			return "", "", fmt.Errorf("unexpected %q", r)
		}
	}
	dots, commas := strings.Count(s, "."), strings.Count(s, ",")
	var dec, group string
	switch {
	case dots > 0 && commas > 0:
		if strings.LastIndex(s, ".") > strings.LastIndex(s, ",") {
			dec, group = ".", ","
		} else {
			dec, group = ",", "."
		}
		if strings.Count(s, dec) > 1 {
			return "", "", fmt.Errorf("more than one decimal separator")
		}
	case dots == 1:
		dec = "."
	case dots > 1:
		group = "."
	case commas == 1 && len(s)-strings.Index(s, ",")-1 == 3 && s[0] != '0':
		group = "," // 2,500; but 0,500 cannot be grouped, so it is a decimal comma
	case commas == 1:
		dec = ","
	case commas > 1:
		group = ","
	}
	intPart = s
	if dec != "" {
		i := strings.Index(s, dec)
		intPart, frac = s[:i], s[i+1:]
		if frac == "" {
			return "", "", fmt.Errorf("nothing after the decimal separator")
		}
		if strings.ContainsAny(frac, ".,") {
			return "", "", fmt.Errorf("separator after the decimal point")
		}
	}
	if group != "" {
		groups := strings.Split(intPart, group)
		if len(groups[0]) < 1 || len(groups[0]) > 3 {
			return "", "", fmt.Errorf("thousands must be grouped in threes")
		}
		if groups[0][0] == '0' {
			return "", "", fmt.Errorf("a number grouped in thousands cannot start with 0")
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return "", "", fmt.Errorf("thousands must be grouped in threes")
			}
		}
		intPart = strings.Join(groups, "")
	}
	if intPart == "" {
		intPart = "0"
	}
	return intPart, frac, nil
}

// splitSpaced reads a number whose thousands are grouped by spaces, as in French "1 234,56": the
// first group has one to three digits and does not start with 0, every other group has exactly
// three, and only the last may end in decimals after a "." or ",". Anything else, such as "5 3"
// or "12 34.5", is two numbers, and joining them would be a guess.
func splitSpaced(groups []string) (intPart, frac string, err error) {
	last := groups[len(groups)-1]
	if i := strings.IndexAny(last, ".,"); i >= 0 {
		last, frac = last[:i], last[i+1:]
		if frac == "" {
			return "", "", fmt.Errorf("nothing after the decimal separator")
		}
		if strings.ContainsAny(frac, ".,") {
			return "", "", fmt.Errorf("separator after the decimal point")
		}
		if r, ok := nonDigit(frac); ok {
			return "", "", fmt.Errorf("unexpected %q", r)
		}
	}
	groups = append(slices.Clip(groups[:len(groups)-1]), last)
	for i, g := range groups {
		if r, ok := nonDigit(g); ok {
			return "", "", fmt.Errorf("unexpected %q", r)
		}
		if (i == 0 && (len(g) > 3 || g[0] == '0')) || (i > 0 && len(g) != 3) {
			return "", "", fmt.Errorf("thousands must be grouped in threes")
		}
	}
	return strings.Join(groups, ""), frac, nil
}

// nonDigit returns the first rune of s that is not an ASCII digit.
func nonDigit(s string) (rune, bool) {
	for _, r := range s {
		if r < '0' || r > '9' {
			return r, true
		}
	}
	return 0, false
}

func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}

// Major returns the amount as a decimal string without grouping, e.g. "2500.00".
func (m Money) Major() string {
	digits := currencies[m.Currency]
	neg := m.Minor < 0
	v := m.Minor
	if neg {
		v = -v
	}
	s := strconv.FormatInt(v, 10)
	if digits > 0 {
		for len(s) <= digits {
			s = "0" + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// String formats m for people, e.g. "2,500.00 USD". ParseMoney reads it back unchanged.
func (m Money) String() string {
	major := m.Major()
	intPart, frac, _ := strings.Cut(major, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = groupThousands(strings.TrimPrefix(intPart, "-"))
	if neg {
		intPart = "-" + intPart
	}
	if frac != "" {
		return intPart + "." + frac + " " + m.Currency
	}
	return intPart + " " + m.Currency
}

func groupThousands(digits string) string {
	var b strings.Builder
	for i, r := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Less reports whether m is smaller than o; both must be in the same currency.
func (m Money) Less(o Money) bool { return m.Minor < o.Minor }
