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
		{"0,500 KWD", Money{500, "KWD"}},            // 0,500 cannot be grouped thousands
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

// FuzzParseMoney proves the parser never panics, never accepts what the rules forbid, and reads
// back exactly what it writes.
func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"42.50", "$2,500", "2500 USD", "1.234,56 EUR", "0", "-1", "1e9", "NaN", "1,23", "€ 5", "12 JPY",
		"1 234,56 EUR", "5 3", "12 200", "0,500", "1\u00a0234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseMoney(s, "USD")
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseMoney(%q): error without EINVALID code: %v", s, err)
			}
			return
		}
		digits, ok := CurrencyDigits(m.Currency)
		if !ok || m.Minor <= 0 || m.Minor > MaxMajor*pow10(digits) {
			t.Fatalf("ParseMoney(%q) accepted %+v", s, m)
		}
		back, err := ParseMoney(m.String(), "USD")
		if err != nil || back != m {
			t.Fatalf("round trip of %q: %+v → %q → %+v, %v", s, m, m.String(), back, err)
		}
	})
}
