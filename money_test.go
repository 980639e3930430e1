package expensebot

import (
	"strings"
	"testing"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		in   string
		want Money
	}{
		{"42.50", Money{4250, "USD"}},
		{"42", Money{4200, "USD"}},
		{"$2,500", Money{250000, "USD"}},
		{"2500 USD", Money{250000, "USD"}},
		{"2500 usd", Money{250000, "USD"}},
		{"USD 2500", Money{250000, "USD"}},
		{"1.234,56 EUR", Money{123456, "EUR"}},
		{"1 234,56 EUR", Money{123456, "EUR"}},
		{"€12.30", Money{1230, "EUR"}},
		{"42,50", Money{4250, "USD"}},
		{"1,234,567.89", Money{123456789, "USD"}},
		{"0.01", Money{1, "USD"}},
		{".5", Money{50, "USD"}},
		{"1500 JPY", Money{1500, "JPY"}},
		{"1.234 KWD", Money{1234, "KWD"}},
		{"1000000000", Money{100000000000, "USD"}},
		{"  7.5  ", Money{750, "USD"}},
		{"12 200", Money{1220000, "USD"}},           // spaced thousands, as the form's amount field gets them
		{"1 234 567,89", Money{123456789, "USD"}},   // French grouping
		{"1\u00a0234,56 EUR", Money{123456, "EUR"}}, // a no-break space, as copied from a French page
		{"12,50 €", Money{1250, "EUR"}},
		{"12,50€", Money{1250, "EUR"}},
		{"0,500 KWD", Money{500, "KWD"}}, // 0,500 cannot be grouped thousands
		{"£8", Money{800, "GBP"}},
		{"₹250", Money{25000, "INR"}},
		{"50 euros", Money{5000, "EUR"}},
		{"5000 yen", Money{5000, "JPY"}},
		{"$50 CAD", Money{5000, "CAD"}}, // a code chooses which dollar
	}
	for _, tt := range tests {
		got, err := ParseMoney(tt.in, "USD")
		if err != nil {
			t.Errorf("ParseMoney(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseMoney(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}

func TestParseMoneyRejects(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"", "enter an amount"},
		{"0", "more than zero"},
		{"0.00", "more than zero"},
		{"-5", "negative"},
		{"NaN", "not an amount"},
		{"Inf", "not an amount"},
		{"1e5", "not an amount"},
		{"42.505", "2 decimal places"},
		{"12.5 JPY", "whole amount"},
		{"1000000000.01", "more than 1,000,000,000"},
		{"99999999999999999999999", "more than"},
		{"12 XYZ", "not a currency code"},
		{"$12 EUR", "two different currencies"},
		{"1,23,456", "threes"},
		{"1.2.3,4,5", "decimal separator"},
		{"12.", "nothing after"},
		{"abc", "not an amount"},
		{"5 3", "grouped in threes"},     // two numbers, never 53
		{"12 34.5", "grouped in threes"}, // never 1234.5
		{"0 500", "grouped in threes"},
		{"0,500", "2 decimal places"}, // a decimal comma, never 500
		{"0.500.000", "cannot start with 0"},
		{"42.5 JPY", "JPY has no minor units: write a whole amount, e.g. 43 JPY, not 42.5 JPY."},
		{"¥5000", "JPY or CNY"},     // USD home: yen or yuan?
		{"30 pounds", "GBP or EGP"}, // or a weight
		{"€5 USD", "two different currencies"},
		{"5.000 CLP", "CLP has no minor units: write 5000 CLP or 5 CLP, not 5.000 CLP."},
		{"$", "enter an amount"},
	}
	for _, tt := range tests {
		_, err := ParseMoney(tt.in, "USD")
		if err == nil {
			t.Errorf("ParseMoney(%q) accepted it", tt.in)
			continue
		}
		if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("ParseMoney(%q) = %v (code %s), want a message with %q", tt.in, err, ErrorCode(err), tt.msg)
		}
	}
}

// TestParseMoneyHome guards the signs and names several currencies share: they mean the home
// currency when it is one of them and are refused, never guessed, otherwise. To add a case, give
// the input, the home currency and either the money or a piece of the message.
func TestParseMoneyHome(t *testing.T) {
	tests := []struct {
		name, in, home string
		want           Money
		msg            string
	}{
		{"DollarHomeUSD", "$50", "USD", Money{5000, "USD"}, ""},
		{"DollarHomeCAD", "$50", "CAD", Money{5000, "CAD"}, ""},
		{"DollarHomeAUD", "$ 50", "AUD", Money{5000, "AUD"}, ""},
		{"DollarHomeNZD", "50$", "NZD", Money{5000, "NZD"}, ""},
		{"DollarHomeSGD", "$50", "SGD", Money{5000, "SGD"}, ""},
		{"DollarHomeHKD", "$50", "HKD", Money{5000, "HKD"}, ""},
		{"DollarHomeTWD", "$50", "TWD", Money{5000, "TWD"}, ""},
		{"DollarHomeMXN", "$50", "MXN", Money{5000, "MXN"}, ""}, // the peso's own sign
		{"DollarHomeCLP", "$5000", "CLP", Money{5000, "CLP"}, ""},
		{"DollarHomeEUR", "$50", "EUR", Money{}, "$ could be USD, CAD, AUD or another dollar or peso: write the currency code instead, e.g. 50 USD."},
		{"DollarHomeGBP", "$2,500", "GBP", Money{}, "e.g. 2,500 USD"},
		{"DollarCodeHomeEUR", "$50 USD", "EUR", Money{5000, "USD"}, ""},
		{"DollarCodeOtherDollar", "$50 CAD", "USD", Money{5000, "CAD"}, ""},
		{"DollarCodeNotDollar", "$50 EUR", "CAD", Money{}, "two different currencies"},
		{"DollarsHomeCAD", "50 dollars", "CAD", Money{5000, "CAD"}, ""},
		{"DollarsHomeMXN", "50 dollars", "MXN", Money{}, "USD, CAD, AUD or another dollar"}, // dólares are not pesos
		{"DollarsHomeEUR", "50 dollars", "EUR", Money{}, "write the currency code"},
		{"YenHomeJPY", "¥5000", "JPY", Money{5000, "JPY"}, ""},
		{"YenHomeCNY", "¥50", "CNY", Money{5000, "CNY"}, ""},
		{"YenFullWidthCNY", "￥50", "CNY", Money{5000, "CNY"}, ""},
		{"YenHomeUSD", "¥5000", "USD", Money{}, "¥ could be JPY or CNY: write the currency code instead, e.g. 5000 JPY."},
		{"YenCode", "¥5000 JPY", "EUR", Money{5000, "JPY"}, ""},
		{"PoundHomeEUR", "£8", "EUR", Money{800, "GBP"}, ""},
		{"PoundHomeEGP", "£8", "EGP", Money{800, "EGP"}, ""},
		{"PoundsHomeGBP", "8 pounds", "GBP", Money{800, "GBP"}, ""},
		{"EuroHomeUSD", "€8", "USD", Money{800, "EUR"}, ""},
		{"EurosHomeCAD", "8 Euros", "CAD", Money{800, "EUR"}, ""},
		{"NoCurrencyUsesHome", "8", "KWD", Money{8000, "KWD"}, ""},
		{"BadHome", "8", "XXX", Money{}, "not a currency code I know"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMoney(tt.in, tt.home)
			if tt.msg != "" {
				if err == nil || ErrorCode(err) != EINVALID || !strings.Contains(ErrorMessage(err), tt.msg) {
					t.Fatalf("ParseMoney(%q, %s) = %v, %v; want an EINVALID error with %q", tt.in, tt.home, got, err, tt.msg)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseMoney(%q, %s) = %+v, %v; want %+v", tt.in, tt.home, got, err, tt.want)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	tests := []struct {
		m    Money
		want string
	}{
		{Money{250000, "USD"}, "2,500.00 USD"},
		{Money{5, "USD"}, "0.05 USD"},
		{Money{1500, "JPY"}, "1,500 JPY"},
		{Money{1234, "KWD"}, "1.234 KWD"},
		{Money{123456789, "EUR"}, "1,234,567.89 EUR"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.m, got, tt.want)
		}
	}
}

// fuzzHomes are the home currencies the fuzz tests try: a dollar, a non-dollar, a currency
// without minor units, one with three, and one that owns ¥.
var fuzzHomes = []string{"USD", "EUR", "JPY", "KWD", "CNY", "CAD"}

// FuzzParseMoney proves the parser never panics, never accepts what the rules forbid, and reads
// back exactly what it writes, whatever the home currency.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"42.50", "$2,500", "2500 USD", "1.234,56 EUR", "0", "-1", "1e9", "NaN", "1,23", "€ 5", "12 JPY",
		"1 234,56 EUR", "5 3", "12 200", "0,500", "¥5000", "12,50 €", "50 euros", "$50 CAD", "42.5 JPY", "1\u00a0234"} {
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s string, h uint8) {
		home := fuzzHomes[int(h)%len(fuzzHomes)]
		m, err := ParseMoney(s, home)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseMoney(%q, %s): error without EINVALID code: %v", s, home, err)
			}
			return
		}
		mustBeMoney(t, m)
		for _, other := range fuzzHomes {
			back, err := ParseMoney(m.String(), other)
			if err != nil || back != m {
				t.Fatalf("round trip of %q (home %s): %+v → %q → %+v (home %s), %v", s, home, m, m.String(), back, other, err)
			}
		}
	})
}

// mustBeMoney fails unless m is an amount the bot may store: a known currency, more than zero,
// at most MaxMajor, and exactly the currency's number of decimals when written out.
func mustBeMoney(tb testing.TB, m Money) {
	tb.Helper()
	digits, ok := CurrencyDigits(m.Currency)
	if !ok || m.Minor <= 0 || m.Minor > MaxMajor*pow10(digits) {
		tb.Fatalf("accepted %+v", m)
	}
	if _, frac, _ := strings.Cut(m.Major(), "."); len(frac) != digits {
		tb.Fatalf("%+v has %d decimals written out, want %d", m, len(frac), digits)
	}
}
