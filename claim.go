package expensebot

import (
	"slices"
	"strings"
)

// Claim is what a person writes after /expense: how much, what for and in which category. It is
// a draft: the Slack edge adds who, when and the idempotency key to make an [Expense].
type Claim struct {
	Amount      Money
	Category    string // one of Categories: "other" unless the text names one with #category
	Description string // the words left, one space apart; never empty, at most MaxDescription bytes
}

// ParseClaim reads the text of the quick command, /expense <amount> [currency] <description>
// [#category], as in:
//
//	42.50 Team lunch   120 EUR Train to Paris #travel   $2,500 Flights   USD 15 Parking   12,50 € Taxi
//
// home is the workspace's currency: the amount's currency when none is written, and the meaning
// of shared signs such as $, as [ParseMoney] explains. The rules, all there so that an amount is
// never guessed:
//   - The amount is one word. A currency may stand before it (a code or sign: "USD 15", "$ 15"),
//     touch it ("$15", "15€") or follow it as the next word (a code, sign or name: "120 EUR",
//     "12,50 €", "50 euros"). ParseMoney reads the amount and that currency together, so an error
//     in either is reported as it is ("JPY has no minor units: …"): a currency word after the
//     amount is never moved into the description to make the amount parse.
//   - Two numbers are never joined. An amount followed by another number ("5 3 coffees",
//     "12 200 pens") is refused, with both readings written out (`/expense 5 for 3 coffees`,
//     `/expense 53 coffees`). Reading only the first number would be right for one of those and
//     wrong for the other. Spaced thousands stay for the form's amount field, which holds nothing
//     else; the quick command says "12200" or "12,200".
//   - A currency code after the amount counts in any case ("120 eur"), except the codes that are
//     also everyday words (CAD COP MAD PEN PHP RON TRY): "12 pen refills" is refused with both
//     readings unless the code is written in capitals ("12 PEN").
//   - A currency at the end of the description ("42 taxi EUR"), when none was written with the
//     amount, is refused: the amount would otherwise be in the home currency.
//   - A #word naming one of [Categories], in any case and anywhere after the amount, sets the
//     category and leaves the description; other #words stay in it. Two categories are refused.
//   - The text must start with the amount and say what it was for.
//
// Every error is an *[Error] with code EINVALID whose message, written for the person who typed
// the command, shows how to write it.
func ParseClaim(text, home string) (Claim, error) {
	words := strings.Fields(text)
	if len(words) == 0 {
		return Claim{}, Errorf(EINVALID, "Write the amount, then what it was for, e.g. `/expense 42.50 Team lunch`.")
	}
	n := 0 // the amount's number
	if len(words) > 1 && isLeadingCurrency(words[0]) && looksLikeAmount(words[1]) {
		n = 1
	}
	if !looksLikeAmount(words[n]) {
		return Claim{}, amountFirst(words, home)
	}
	amount, rest := words[:n+1:n+1], words[n+1:]
	if len(rest) > 0 && isNumber(rest[0]) {
		return Claim{}, twoNumbers(words, n, home)
	}
	if len(rest) > 0 {
		switch w := rest[0]; {
		case isWordCode(w) && !currencyWritten(amount):
			return Claim{}, codeOrWord(amount, rest, home)
		case isCurrencyWord(w): // even after "$5": ParseMoney then refuses "$5 EUR"
			amount, rest = append(amount, w), rest[1:]
		}
	}
	m, err := ParseMoney(strings.Join(amount, " "), home)
	if err != nil {
		return Claim{}, err
	}
	c := Claim{Amount: m, Category: "other"}
	var desc []string
	tagged := ""
	for _, w := range rest {
		cat, ok := categoryTag(w)
		if !ok {
			desc = append(desc, w)
			continue
		}
		if tagged != "" && cat != tagged {
			return Claim{}, Errorf(EINVALID, "Choose one category: #%s or #%s.", tagged, cat)
		}
		tagged, c.Category = cat, cat
	}
	if len(desc) == 0 {
		return Claim{}, Errorf(EINVALID, "Please say what %s was for: `%s`.", m, command(amount, "Team lunch"))
	}
	if last := desc[len(desc)-1]; isCurrencyWord(last) && !currencyWritten(amount) {
		moved := append(append(slices.Clone(amount), last), desc[:len(desc)-1]...)
		if tagged != "" {
			moved = append(moved, "#"+tagged)
		}
		return Claim{}, Errorf(EINVALID, "Put the currency right after the amount: `%s`.", command(moved, "Team lunch"))
	}
	c.Description = strings.Join(desc, " ")
	if len(c.Description) > MaxDescription {
		return Claim{}, Errorf(EINVALID, "The description is too long (%d characters, at most %d).", len(c.Description), MaxDescription)
	}
	return c, nil
}

// wordCodes are the currency codes that are also everyday words: "12 pen refills" is not
// obviously 12 Peruvian soles, so in lower or mixed case they are not read as currencies.
var wordCodes = []string{"CAD", "COP", "MAD", "PEN", "PHP", "RON", "TRY"}

// isWordCode reports whether w is one of wordCodes written other than in capitals.
func isWordCode(w string) bool {
	code := strings.ToUpper(w)
	return w != code && slices.Contains(wordCodes, code)
}

// isLeadingCurrency reports whether w can be the currency written before the amount: a sign
// standing alone or a code ("USD 15", "$ 15").
func isLeadingCurrency(w string) bool {
	if _, ok := signFor(w); ok {
		return true
	}
	return ValidCurrency(strings.ToUpper(w)) && !isWordCode(w)
}

// isCurrencyWord reports whether w names a currency after the amount: a sign standing alone, a
// name ParseMoney knows, or a known code.
func isCurrencyWord(w string) bool {
	if _, ok := signFor(w); ok || isCurrencyName(w) {
		return true
	}
	return ValidCurrency(strings.ToUpper(w)) && !isWordCode(w)
}

// currencyWritten reports whether the words of an amount name its currency.
func currencyWritten(amount []string) bool {
	_, marks := cutMarks(strings.Join(amount, " "))
	return len(marks) > 0
}

// looksLikeAmount reports whether w was meant as an amount: a number, perhaps signed or with a
// currency sign ("42", ".5", "$2,500", "-5", "1e5"), as opposed to a word of the description.
func looksLikeAmount(w string) bool {
	for {
		if _, rest, ok := cutSign(w, strings.CutPrefix); ok {
			w = rest
		} else if rest, ok := strings.CutPrefix(w, "-"); ok {
			w = rest
		} else if rest, ok := strings.CutPrefix(w, "+"); ok {
			w = rest
		} else {
			break
		}
	}
	if len(w) > 1 && (w[0] == '.' || w[0] == ',') {
		w = w[1:]
	}
	return w != "" && w[0] >= '0' && w[0] <= '9'
}

// isNumber reports whether w is a number of its own ("3", "200", "234,56", "$3"): after an
// amount it would be a second number, not a word of the description as "3-day" or "2x" are.
func isNumber(w string) bool {
	_, w, _ = cutSign(w, strings.CutPrefix)
	_, w, _ = cutSign(w, strings.CutSuffix)
	digits := false
	for _, r := range w {
		switch {
		case r >= '0' && r <= '9':
			digits = true
		case r != '.' && r != ',':
			return false
		}
	}
	return digits
}

// categoryTag returns the category a word such as "#travel" names.
func categoryTag(w string) (string, bool) {
	name, ok := strings.CutPrefix(w, "#")
	name = strings.ToLower(name)
	return name, ok && slices.Contains(Categories, name)
}

// command writes a quick command from words, with description standing in for a missing one
// so that the command shown can be sent as it is.
func command(words []string, description string) string {
	for _, w := range words {
		if _, tag := categoryTag(w); !tag && !looksLikeAmount(w) && !isCurrencyWord(w) {
			description = ""
			break
		}
	}
	return strings.TrimSpace("/expense " + strings.Join(words, " ") + " " + description)
}

// amountFirst answers a text that does not start with an amount. When another word is one, it
// shows the text with that word moved to the front.
func amountFirst(words []string, home string) error {
	for i, w := range words {
		if !looksLikeAmount(w) {
			continue
		}
		if _, err := ParseMoney(w, home); err != nil {
			continue
		}
		start, end := i, i+1
		if start > 0 && isLeadingCurrency(words[start-1]) {
			start--
		} else if end < len(words) && isCurrencyWord(words[end]) {
			end++
		}
		moved := slices.Concat(words[start:end], words[:start], words[end:])
		return Errorf(EINVALID, "Start with the amount: `%s`.", command(moved, "Team lunch"))
	}
	example := strings.Join(words, " ")
	if len(example) > 60 {
		example = "Team lunch"
	}
	return Errorf(EINVALID, "Start with the amount, e.g. `/expense 42.50 %s`.", example)
}

// twoNumbers refuses an amount followed by another number, words[n] and words[n+1], writing out
// both readings.
func twoNumbers(words []string, n int, home string) error {
	before, first, second, after := words[:n], words[n], words[n+1], words[n+2:]
	var currency []string // a currency after the second number belongs to the amount
	if len(after) > 0 && isCurrencyWord(after[0]) {
		currency, after = after[:1], after[1:]
	}
	amount := func(number string) []string { return slices.Concat(before, []string{number}, currency) }
	alone, err := ParseMoney(strings.Join(amount(first), " "), home)
	if err != nil {
		return err
	}
	split := command(slices.Concat(amount(first), []string{"for", second}, after), "")
	joined, err := ParseMoney(strings.Join(amount(first+second), " "), home)
	if err != nil {
		return Errorf(EINVALID, "%s and %s are two numbers, and I never join them into one amount. If the amount is %s, write `%s`.",
			first, second, alone, split)
	}
	return Errorf(EINVALID, "Did you mean %s or %s? I never join two numbers into one amount: write `%s` or `%s`.",
		alone, joined, split, command(slices.Concat(amount(first+second), after), "Team lunch"))
}

// codeOrWord refuses a currency code that is also a word ("12 pen refills"), writing out both
// readings.
func codeOrWord(amount, rest []string, home string) error {
	m, err := ParseMoney(strings.Join(amount, " "), home)
	if err != nil {
		return err
	}
	code := strings.ToUpper(rest[0])
	asCode := command(slices.Concat(amount, []string{code}, rest[1:]), "Team lunch")
	asWord := command(slices.Concat(amount, []string{m.Currency}, rest), "")
	return Errorf(EINVALID, "Is %q the currency %s or part of the description? Write `%s` for %s, or `%s`.",
		rest[0], code, asCode, code, asWord)
}
