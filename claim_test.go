package expensebot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestParseClaim guards the readings of the quick command that must stay as they are. To add a
// case, give the text, the home currency and the claim expected, the amount as Money.String
// writes it.
func TestParseClaim(t *testing.T) {
	tests := []struct {
		name, in, home             string
		amount, description, categ string
	}{
		{"Decimals", "42.50 Team lunch", "USD", "42.50 USD", "Team lunch", "other"},
		{"Whole", "42 tea", "USD", "42.00 USD", "tea", "other"},
		{"CodeAfter", "120 EUR Train #travel", "USD", "120.00 EUR", "Train", "travel"},
		{"CodeAfterLowerCase", "120 eur Train to Paris", "USD", "120.00 EUR", "Train to Paris", "other"},
		{"CodeBefore", "USD 15 Parking", "EUR", "15.00 USD", "Parking", "other"},
		{"DollarGrouped", "$2,500 flights", "USD", "2,500.00 USD", "flights", "other"},
		{"DollarIsHomeCAD", "$50 lunch", "CAD", "50.00 CAD", "lunch", "other"},
		{"DollarApartIsHomeCAD", "$ 50 lunch", "CAD", "50.00 CAD", "lunch", "other"},
		{"DollarAndCode", "$50 USD lunch", "CAD", "50.00 USD", "lunch", "other"},
		{"EuroAfter", "12,50 € Taxi", "USD", "12.50 EUR", "Taxi", "other"},
		{"EuroTouching", "12,50€ Taxi", "USD", "12.50 EUR", "Taxi", "other"},
		{"Name", "50 euros dinner", "USD", "50.00 EUR", "dinner", "other"},
		{"NameDollarsHome", "50 dollars dinner", "AUD", "50.00 AUD", "dinner", "other"},
		{"EuropeanGrouping", "1.234,56 EUR Hotel", "USD", "1,234.56 EUR", "Hotel", "other"},
		{"Yen", "1500 JPY Sushi", "USD", "1,500 JPY", "Sushi", "other"},
		{"YenSignHomeJPY", "¥1500 Sushi", "JPY", "1,500 JPY", "Sushi", "other"},
		{"NumberAfterCurrency", "5 EUR 3 coffees", "USD", "5.00 EUR", "3 coffees", "other"},
		{"NumberInAWord", "25 3-day parking pass", "USD", "25.00 USD", "3-day parking pass", "other"},
		{"SplitSuggestion", "5 for 3 coffees", "USD", "5.00 USD", "for 3 coffees", "other"},
		{"JoinedSuggestion", "53 coffees", "USD", "53.00 USD", "coffees", "other"},
		{"WordCodeInCapitals", "12 PEN refills", "USD", "12.00 PEN", "refills", "other"},
		{"WordCodeAfterCurrency", "USD 12 pen refills", "USD", "12.00 USD", "pen refills", "other"},
		{"UnknownCodeIsAWord", "30 AWS credits", "USD", "30.00 USD", "AWS credits", "other"},
		{"CodeLaterWithCurrencyFirst", "42 EUR taxi, paid in USD", "USD", "42.00 EUR", "taxi, paid in USD", "other"},
		{"CategoryAnyCase", "42 Lunch #Meals", "USD", "42.00 USD", "Lunch", "meals"},
		{"CategoryFirst", "42 #meals lunch", "USD", "42.00 USD", "lunch", "meals"},
		{"CategoryTwiceSame", "42 lunch #meals #MEALS", "USD", "42.00 USD", "lunch", "meals"},
		{"NotACategory", "42 lunch #general", "USD", "42.00 USD", "lunch #general", "other"},
		{"Spaces", "  42   tea   and\tcake ", "USD", "42.00 USD", "tea and cake", "other"},
		{"ThreeDecimals", "1.250 KWD Taxi", "USD", "1.250 KWD", "Taxi", "other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClaim(tt.in, tt.home)
			if err != nil {
				t.Fatalf("ParseClaim(%q, %s): %v", tt.in, tt.home, err)
			}
			if got.Amount.String() != tt.amount || got.Description != tt.description || got.Category != tt.categ {
				t.Fatalf("ParseClaim(%q, %s) = %s %q #%s; want %s %q #%s", tt.in, tt.home,
					got.Amount, got.Description, got.Category, tt.amount, tt.description, tt.categ)
			}
		})
	}
}

// TestParseClaimRefuses guards the texts whose amount would be a guess, and the messages that
// say how to write them. A message that suggests commands must suggest ones that parse, and when
// it asks "Did you mean A or B?" its first command must read A and its second B. To add a case,
// give the text, the home currency and a piece of the message.
func TestParseClaimRefuses(t *testing.T) {
	tests := []struct{ name, in, home, msg string }{
		{"TwoNumbers", "5 3 coffees", "USD", "Did you mean 5.00 USD or 53.00 USD? I never join two numbers into one amount: write `/expense 5 for 3 coffees` or `/expense 53 coffees`."},
		{"TwoNumbersThousands", "12 200 pens", "USD", "Did you mean 12.00 USD or 12,200.00 USD?"},
		{"SpacedThousands", "1 234,56 EUR Hotel", "USD", "Did you mean 1.00 EUR or 1,234.56 EUR?"},
		{"TwoNumbersDollar", "$5 3 coffees", "CAD", "Did you mean 5.00 CAD or 53.00 CAD?"},
		{"TwoNumbersCodeFirst", "EUR 5 3 coffees", "USD", "`/expense EUR 5 for 3 coffees` or `/expense EUR 53 coffees`"},
		{"TwoNumbersNoDescription", "5 3", "USD", "Did you mean 5.00 USD or 53.00 USD?"},
		{"TwoNumbersNotJoinable", "5 3.5.5 coffees", "USD", "5 and 3.5.5 are two numbers, and I never join them into one amount. If the amount is 5.00 USD, write `/expense 5 for 3.5.5 coffees`."},
		{"YenDecimals", "42.5 JPY taxi", "USD", "JPY has no minor units: write a whole amount, e.g. 43 JPY, not 42.5 JPY."},
		{"YenDecimalsLowerCase", "42.5 jpy taxi", "USD", "JPY has no minor units"},
		{"YenSignDecimals", "¥42.5 taxi", "JPY", "JPY has no minor units"},
		{"TooManyDecimals", "42.505 EUR taxi", "USD", "EUR has 2 decimal places"},
		{"UnknownCodeBefore", "XYZ 12 stuff", "USD", "Start with the amount: `/expense 12 XYZ stuff`."},
		{"DollarHomeEUR", "$50 lunch", "EUR", "$ could be USD, CAD, AUD or another dollar or peso: write the currency code instead, e.g. 50 USD."},
		{"YenSignHomeUSD", "¥1500 sushi", "USD", "¥ could be JPY or CNY"},
		{"PoundsHomeUSD", "30 pounds of coffee", "USD", "pounds could be GBP or EGP"},
		{"TwoCurrencies", "$5 EUR lunch", "USD", "names two different currencies"},
		{"WordCode", "12 pen refills", "USD", "Is \"pen\" the currency PEN or part of the description? Write `/expense 12 PEN refills` for PEN, or `/expense 12 USD pen refills`."},
		{"WordCodeAlone", "12 try", "USD", "`/expense 12 TRY Team lunch` for TRY, or `/expense 12 USD try`"},
		{"CurrencyLast", "42 taxi EUR", "USD", "Put the currency right after the amount: `/expense 42 EUR taxi`."},
		{"CurrencyNameLast", "42 dinner #meals euros", "USD", "`/expense 42 euros dinner #meals`"},
		{"DescriptionOnly", "Team lunch", "USD", "Start with the amount, e.g. `/expense 42.50 Team lunch`."},
		{"AmountLast", "lunch 42", "USD", "Start with the amount: `/expense 42 lunch`."},
		{"AmountAndCurrencyLast", "lunch 42 EUR", "USD", "Start with the amount: `/expense 42 EUR lunch`."},
		{"AmountOnly", "42", "USD", "Please say what 42.00 USD was for: `/expense 42 Team lunch`."},
		{"AmountAndCategoryOnly", "42 EUR #travel", "USD", "Please say what 42.00 EUR was for: `/expense 42 EUR Team lunch`."},
		{"Empty", "  ", "USD", "Write the amount, then what it was for, e.g. `/expense 42.50 Team lunch`."},
		{"Negative", "-5 refund", "USD", "negative"},
		{"Zero", "0 free", "USD", "more than zero"},
		{"Exponent", "1e5 lunch", "USD", "not an amount"},
		{"TooLarge", "2000000000 yacht", "USD", "more than 1,000,000,000 USD"},
		{"TwoCategories", "42 lunch #travel #meals", "USD", "Choose one category: #travel or #meals."},
		{"LongDescription", "42 " + strings.Repeat("a", MaxDescription+1), "USD", "too long"},
		{"UnknownHome", "42 tea", "XXX", "not a currency code I know"},
	}
	suggestion := regexp.MustCompile("`(/expense [^`]*)`")
	readings := regexp.MustCompile(`^Did you mean (.+?) or (.+?)\?`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseClaim(tt.in, tt.home)
			if err == nil {
				t.Fatalf("ParseClaim(%q, %s) = %s %q #%s; want an error with %q", tt.in, tt.home, got.Amount, got.Description, got.Category, tt.msg)
			}
			msg := ErrorMessage(err)
			if ErrorCode(err) != EINVALID || !strings.Contains(msg, tt.msg) {
				t.Fatalf("ParseClaim(%q, %s): %v (code %s); want a message with %q", tt.in, tt.home, msg, ErrorCode(err), tt.msg)
			}
			want := readings.FindStringSubmatch(msg)
			for i, m := range suggestion.FindAllStringSubmatch(msg, -1) {
				c, err := ParseClaim(strings.TrimPrefix(m[1], "/expense "), tt.home)
				if err != nil {
					t.Errorf("suggestion %q does not parse: %v", m[1], err)
					continue
				}
				if want != nil && c.Amount.String() != want[i+1] {
					t.Errorf("suggestion %q reads %s; the message says %s", m[1], c.Amount, want[i+1])
				}
			}
		})
	}
}

// FuzzParseClaim proves the quick command's parser never panics, refuses only with EINVALID, and
// accepts only claims the bot may store, whose amount reads back the same from its written form
// and whose written form reads back as the same claim.
func FuzzParseClaim(f *testing.F) {
	for _, s := range []string{"42.50 Team lunch", "5 3 coffees", "12 200 pens", "42.5 JPY taxi", "$50 lunch",
		"120 EUR Train #travel", "42 tea", "$2,500 flights", "USD 15 Parking", "12,50 € Taxi", "12 pen refills",
		"50 euros dinner", "lunch 42", "42", "42 taxi EUR", "1 234,56 EUR Hotel", "5 EUR 3 coffees #meals #travel"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, h uint8) {
		home := fuzzHomes[int(h)%len(fuzzHomes)]
		c, err := ParseClaim(s, home)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseClaim(%q, %s): error without EINVALID code: %v", s, home, err)
			}
			return
		}
		mustBeMoney(t, c.Amount)
		if back, err := ParseMoney(c.Amount.String(), home); err != nil || back != c.Amount {
			t.Fatalf("ParseClaim(%q, %s): amount %+v → %q → %+v, %v", s, home, c.Amount, c.Amount.String(), back, err)
		}
		if !slices.Contains(Categories, c.Category) {
			t.Fatalf("ParseClaim(%q, %s): category %q", s, home, c.Category)
		}
		if c.Description == "" || c.Description != strings.Join(strings.Fields(c.Description), " ") || len(c.Description) > MaxDescription {
			t.Fatalf("ParseClaim(%q, %s): description %q", s, home, c.Description)
		}
		written := c.Amount.String() + " " + c.Description + " #" + c.Category
		if back, err := ParseClaim(written, home); err != nil || back != c {
			t.Fatalf("ParseClaim(%q, %s) = %+v; written %q it reads %+v, %v", s, home, c, written, back, err)
		}
	})
}

func ExampleParseClaim() {
	for _, text := range []string{"120 EUR Train to Paris #travel", "$50 lunch", "5 3 coffees", "42.5 JPY taxi"} {
		c, err := ParseClaim(text, "CAD")
		if err != nil {
			fmt.Println(ErrorMessage(err))
			continue
		}
		fmt.Printf("%s | %s | %s\n", c.Amount, c.Description, c.Category)
	}
	// Output:
	// 120.00 EUR | Train to Paris | travel
	// 50.00 CAD | lunch | other
	// Did you mean 5.00 CAD or 53.00 CAD? I never join two numbers into one amount: write `/expense 5 for 3 coffees` or `/expense 53 coffees`.
	// JPY has no minor units: write a whole amount, e.g. 43 JPY, not 42.5 JPY.
}
