package expensebot

import "slices"

// This file holds the currencies the bot knows and how people write them: ISO codes, signs such as
// $ and €, and names such as euros.

// currencies maps the ISO 4217 codes we accept to their number of minor-unit digits. Codes missing
// here are rejected rather than guessed.
var currencies = map[string]int{
	"AED": 2, "ARS": 2, "AUD": 2, "BGN": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0,
	"CNY": 2, "COP": 2, "CZK": 2, "DKK": 2, "EGP": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2,
	"IDR": 2, "ILS": 2, "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KES": 2, "KRW": 0, "KWD": 3,
	"MAD": 2, "MXN": 2, "MYR": 2, "NGN": 2, "NOK": 2, "NZD": 2, "OMR": 3, "PEN": 2, "PHP": 2,
	"PKR": 2, "PLN": 2, "QAR": 2, "RON": 2, "RSD": 2, "SAR": 2, "SEK": 2, "SGD": 2, "THB": 2,
	"TND": 3, "TRY": 2, "TWD": 2, "UAH": 2, "USD": 2, "VND": 0, "ZAR": 2,
}

// CurrencyDigits returns the number of minor-unit digits of code and whether the code is known.
func CurrencyDigits(code string) (int, bool) {
	d, ok := currencies[code]
	return d, ok
}

// ValidCurrency reports whether code is an ISO 4217 code the bot accepts.
func ValidCurrency(code string) bool {
	_, ok := currencies[code]
	return ok
}

// A currencySign is a way to write a currency other than its ISO code: a sign such as $ or a
// name such as euros. Several currencies may share one; home decides among them.
type currencySign struct {
	codes    []string // the currencies it can mean, the most common first
	fallback string   // what it means when home is none of codes; "" when nothing can be assumed
	could    string   // the choice, for the message that refuses to guess
}

var (
	dollars = []string{"USD", "CAD", "AUD", "NZD", "SGD", "HKD", "TWD"}
	// pesos whose own sign is $ (a Mexican menu says $50 and means pesos).
	dollarSignPesos = []string{"MXN", "ARS", "CLP", "COP"}
	yenYuan         = currencySign{[]string{"JPY", "CNY"}, "", "JPY or CNY"}
)

// signs are the currency signs ParseMoney reads before or after a number. No sign is a prefix of
// another, so the order does not matter.
var signs = []struct {
	sign string
	currencySign
}{
	// $ is the sign of every dollar and of the pesos above; none of them is the obvious one.
	{"$", currencySign{append(slices.Clip(dollars), dollarSignPesos...), "", "USD, CAD, AUD or another dollar or peso"}},
	{"€", currencySign{[]string{"EUR"}, "EUR", ""}},
	// £ is GBP except to an Egyptian, who writes the Egyptian pound E£ or LE when abroad.
	{"£", currencySign{[]string{"GBP", "EGP"}, "GBP", ""}},
	{"¥", yenYuan},
	{"￥", yenYuan}, // the full-width form Chinese and Japanese keyboards type
	{"₹", currencySign{[]string{"INR"}, "INR", ""}},
}

// currencyNames are the words people write after an amount for its currency ("50 euros"). A name
// shared by several currencies never falls back: "30 pounds" may even be a weight. Names not
// listed here are not currencies.
var currencyNames = map[string]currencySign{
	"dollar": dollarName, "dollars": dollarName,
	"peso": pesoName, "pesos": pesoName,
	"pound": poundName, "pounds": poundName,
	"rupee": rupeeName, "rupees": rupeeName,
	"euro": oneCurrency("EUR"), "euros": oneCurrency("EUR"),
	"yen":  oneCurrency("JPY"),
	"yuan": oneCurrency("CNY"), "rmb": oneCurrency("CNY"), "renminbi": oneCurrency("CNY"),
	"franc": oneCurrency("CHF"), "francs": oneCurrency("CHF"),
}

var (
	dollarName = currencySign{dollars, "", "USD, CAD, AUD or another dollar"}
	pesoName   = currencySign{[]string{"MXN", "PHP", "ARS", "CLP", "COP"}, "", "MXN, PHP or another peso"}
	poundName  = currencySign{[]string{"GBP", "EGP"}, "", "GBP or EGP"}
	rupeeName  = currencySign{[]string{"INR", "PKR"}, "", "INR or PKR"}
)

func oneCurrency(code string) currencySign { return currencySign{[]string{code}, code, ""} }
