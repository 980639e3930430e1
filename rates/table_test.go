package rates

import (
	"math/big"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

func mustTable(t *testing.T, name string, data []byte) *Table {
	t.Helper()
	var tab *Table
	var err error
	if strings.HasSuffix(name, ".xml") {
		tab, err = ParseECB(data)
	} else {
		tab, err = ParseFile(name, data)
	}
	if err != nil {
		t.Fatal(err)
	}
	return tab
}

func mustFixture(t *testing.T, name string) *Table {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return mustTable(t, name, b)
}

func money(minor int64, currency string) expensebot.Money {
	return expensebot.Money{Minor: minor, Currency: currency}
}

// TestConvert guards conversion and its rounding: the home amount is rounded up to the home
// currency's minor unit, for currencies with 0, 2 and 3 minor digits, direct from a rates file
// and derived through the euro from the ECB's quotes. Add a case with its expected home amount
// and rate text, computed by hand or with exact fractions (never with floats).
func TestConvert(t *testing.T) {
	csv := mustFixture(t, "rates.csv")
	ecb := mustFixture(t, "eurofxref-daily.xml")
	toJPY := mustTable(t, "jpy.yaml", []byte("to: JPY\ndate: 2026-11-24\nrates:\n  USD: 151.2345\n  KWD: 492.51\n"))
	toKWD := mustTable(t, "kwd.yaml", []byte("to: KWD\ndate: 2026-11-24\nrates:\n  EUR: 0.3345\n  JPY: 0.00205\n"))
	tests := []struct {
		name  string
		table *Table
		m     expensebot.Money
		home  string
		want  expensebot.Money
		rate  string
	}{
		{"9,900.00 EUR at 1.0850", csv, money(990000, "EUR"), "USD", money(1074150, "USD"), "1.0850"},
		{"42.50 EUR: 46.1125 rounds up", csv, money(4250, "EUR"), "USD", money(4612, "USD"), "1.0850"},
		{"0.01 EUR: 0.01085 rounds up", csv, money(1, "EUR"), "USD", money(2, "USD"), "1.0850"},
		{"1 JPY (no minor unit) to 0.01 USD", csv, money(1, "JPY"), "USD", money(1, "USD"), "0.0067"},
		{"150,000 JPY exactly", csv, money(150000, "JPY"), "USD", money(100500, "USD"), "0.0067"},
		{"1.234 KWD (three digits): 4.0187678 up", csv, money(1234, "KWD"), "USD", money(402, "USD"), "3.2567"},
		{"0.001 KWD", csv, money(1, "KWD"), "USD", money(1, "USD"), "3.2567"},
		{"to JPY: 10.01 USD is 1,513.857… up", toJPY, money(1001, "USD"), "JPY", money(1514, "JPY"), "151.2345"},
		{"KWD to JPY", toJPY, money(1000, "KWD"), "JPY", money(493, "JPY"), "492.51"},
		{"to KWD: 100.00 EUR exactly", toKWD, money(10000, "EUR"), "KWD", money(33450, "KWD"), "0.3345"},
		{"to KWD: 0.01 EUR is 0.003345 up", toKWD, money(1, "EUR"), "KWD", money(4, "KWD"), "0.3345"},
		{"to KWD: 1,000 JPY", toKWD, money(1000, "JPY"), "KWD", money(2050, "KWD"), "0.00205"},
		{"ECB: EUR to USD is the quote", ecb, money(990000, "EUR"), "USD", money(1074150, "USD"), "1.0850"},
		{"ECB: EUR to GBP is the quote as written", ecb, money(10000, "EUR"), "GBP", money(8450, "GBP"), "0.84500"},
		{"ECB cross: GBP to USD via EUR", ecb, money(10000, "GBP"), "USD", money(12841, "USD"), "1.284023669"},
		{"ECB cross: JPY to USD via EUR", ecb, money(20000, "JPY"), "USD", money(13354, "USD"), "0.006676923077"},
		{"ECB cross: USD to JPY via EUR", ecb, money(10000, "USD"), "JPY", money(14977, "JPY"), "149.7695853"},
		{"ECB inverse: USD to EUR", ecb, money(10000, "USD"), "EUR", money(9217, "EUR"), "0.9216589862"},
		{"ECB cross: the largest IDR amount", ecb, money(100000000000, "IDR"), "USD", money(6304310, "USD"), "0.00006304309301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, r, ok := tt.table.Convert(tt.m, tt.home)
			if !ok || got != tt.want || r.Value != tt.rate {
				t.Errorf("Convert(%s, %s) = %s at %q (ok %v), want %s at %q", tt.m, tt.home, got, r.Value, ok, tt.want, tt.rate)
			}
			if r.From != tt.m.Currency || r.To != tt.home || r.Source != tt.table.Source || r.Date.IsZero() {
				t.Errorf("rate = %+v", r)
			}
		})
	}
}

func TestConvertUnknown(t *testing.T) {
	csv := mustFixture(t, "rates.csv")
	ecb := mustFixture(t, "eurofxref-daily.xml")
	tests := []struct {
		name  string
		table *Table
		m     expensebot.Money
		home  string
	}{
		{"currency not in the file", csv, money(100, "CAD"), "USD"},
		{"home currency not in the file", csv, money(100, "EUR"), "CHF"},
		{"KWD is not quoted by the ECB", ecb, money(100, "KWD"), "USD"},
		{"home KWD is not quoted by the ECB", ecb, money(100, "EUR"), "KWD"},
		{"not a currency expensebot accepts", ecb, money(100, "XAU"), "USD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, r, ok := tt.table.Convert(tt.m, tt.home); ok {
				t.Errorf("Convert(%s, %s) = %s at %+v; want no rate", tt.m, tt.home, got, r)
			}
		})
	}
	if got, r, ok := ecb.Convert(money(4250, "USD"), "USD"); !ok || got != money(4250, "USD") || r != (expensebot.Rate{}) {
		t.Errorf("home to home = %s %+v %v, want the amount as it is", got, r, ok)
	}
}

// TestConvertNeverLate checks the promise behind the rounding against exact fractions: the home
// amount is never below the exact value (a limit is reached early, never late) and above it by
// less than one minor unit plus what rounding a derived rate up can add.
func TestConvertNeverLate(t *testing.T) {
	ecb := mustFixture(t, "eurofxref-daily.xml")
	ten := func(n int) *big.Rat { return new(big.Rat).SetInt(pow10(n)) }
	for _, pair := range [][2]string{{"GBP", "USD"}, {"JPY", "USD"}, {"USD", "JPY"}, {"USD", "EUR"}, {"IDR", "CHF"}, {"KRW", "ISK"}} {
		from, home := pair[0], pair[1]
		fq, hq := ecb.quotes[from].value, ecb.quotes[home].value
		if from == "EUR" {
			fq = big.NewRat(1, 1)
		}
		if home == "EUR" {
			hq = big.NewRat(1, 1)
		}
		exactRate := new(big.Rat).Quo(hq, fq)
		fd, _ := expensebot.CurrencyDigits(from)
		hd, _ := expensebot.CurrencyDigits(home)
		for minor := int64(1); minor < 200000; minor = minor*3 + 1 {
			got, _, ok := ecb.Convert(money(minor, from), home)
			if !ok {
				t.Fatalf("%s→%s: no rate", from, home)
			}
			exact := new(big.Rat).SetInt64(minor)
			exact.Mul(exact, exactRate).Mul(exact, ten(hd)).Quo(exact, ten(fd))
			g := new(big.Rat).SetInt64(got.Minor)
			slack := new(big.Rat).Add(big.NewRat(1, 1), new(big.Rat).Mul(exact, big.NewRat(1, 1_000_000_000)))
			if g.Cmp(exact) < 0 || new(big.Rat).Sub(g, exact).Cmp(slack) >= 0 {
				t.Errorf("%d %s minor → %d %s minor; exact %s", minor, from, got.Minor, home, exact.FloatString(6))
			}
		}
	}
}

func TestRateDateIsTheOlderQuote(t *testing.T) {
	csv := mustFixture(t, "rates.csv")
	// KWD is quoted for the 23rd, EUR for the 24th; USD is the base and has no date.
	if r, _ := csv.Rate("KWD", "USD"); r.Date != time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) {
		t.Errorf("KWD→USD date = %s", r.Date)
	}
	if r, _ := csv.Rate("KWD", "EUR"); r.Date != time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC) || r.Value != "3.001566821" {
		t.Errorf("KWD→EUR = %+v", r)
	}
}

func TestFormatUp(t *testing.T) {
	tests := []struct {
		r    *big.Rat
		want string
	}{
		{big.NewRat(1, 3), "0.3333333334"},
		{big.NewRat(2, 3), "0.6666666667"},
		{big.NewRat(1085, 1000), "1.085"},
		{big.NewRat(10, 1), "10"},
		{big.NewRat(123456789012, 1), "123456789012"},
		{big.NewRat(999999999999, 100000000000), "10"},
		{big.NewRat(1, 70000), "0.00001428571429"},
	}
	for _, tt := range tests {
		if got := formatUp(tt.r, sigDigits); got != tt.want {
			t.Errorf("formatUp(%s) = %s, want %s", tt.r, got, tt.want)
		}
	}
}

func TestParseDecimal(t *testing.T) {
	for _, ok := range []string{"1.0850", "162.50", "3", "0.000001", "17210.45"} {
		if _, err := parseDecimal(ok); err != nil {
			t.Errorf("parseDecimal(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "1e5", "-1", "+1", "1,08", "1.", ".5", "0", "0.0000", "1/3", " 1", "NaN", "Inf", "0x10", "1_000", strings.Repeat("1", 30)} {
		if r, err := parseDecimal(bad); err == nil {
			t.Errorf("parseDecimal(%q) = %s, want an error", bad, r)
		}
	}
}
