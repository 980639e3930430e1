package policy

import (
	"strings"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/rates"
)

// TestDecideWithRatesFile routes foreign expenses as the workflow does: converted with the rates
// of a rates file first, then decided. It guards the bug this replaced, where 9,900 EUR was
// compared with limits in USD as if it were 9,900 USD.
func TestDecideWithRatesFile(t *testing.T) {
	file, err := rates.ParseFile("rates.csv", []byte("from,to,rate,date\nEUR,USD,1.0850,2026-11-24\nJPY,USD,0.0067,2026-11-24\n"))
	if err != nil {
		t.Fatal(err)
	}
	convert := func(e expensebot.Expense) expensebot.Expense {
		if home, r, ok := file.Convert(e.Amount, "USD"); ok {
			e.HomeAmount, e.Rate = home, r
		} else {
			e.HomeAmount, e.Rate = expensebot.Money{Currency: "USD"}, r
		}
		return e
	}
	tests := []struct {
		name      string
		amount    expensebot.Money
		auto      bool
		approvals int
		reason    string
	}{
		{"9900 EUR: over 10,000 USD once converted", expensebot.Money{Minor: 990000, Currency: "EUR"}, false, 2, "9,900.00 EUR (10,741.50 USD) is at or above"},
		{"42.50 EUR: auto-approved like 46.12 USD", expensebot.Money{Minor: 4250, Currency: "EUR"}, true, 1, "42.50 EUR ≈ 46.12 USD at 1.0850, rates.csv 2026-11-24"},
		{"100,000 JPY: 670 USD, auto-approved", expensebot.Money{Minor: 100000, Currency: "JPY"}, true, 1, "≈ 670.00 USD at 0.0067"},
		{"GBP: not in the file", expensebot.Money{Minor: 4250, Currency: "GBP"}, false, 2, "no exchange rate from GBP to USD is known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := convert(expensebot.Expense{Amount: tt.amount, Category: "meals", Description: "dinner", ReceiptFileIDs: []string{"F1"}})
			r := Decide(e, confident(), nil, defaults)
			if r.AutoApprove != tt.auto || r.ApprovalsRequired != tt.approvals || !strings.Contains(strings.Join(r.Reasons, " | "), tt.reason) {
				t.Errorf("route = %+v, want auto=%v approvals=%d reason %q", r, tt.auto, tt.approvals, tt.reason)
			}
			if tt.approvals == 1 && (r.HomeAmount != e.HomeAmount || r.Rate != e.Rate) {
				t.Errorf("the route does not record the conversion: %+v", r)
			}
		})
	}
}
