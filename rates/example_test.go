package rates_test

import (
	"fmt"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/rates"
)

func ExampleTable_Convert() {
	ecb, err := rates.ParseECB([]byte(`<Cube><Cube time="2026-11-24">
		<Cube currency="USD" rate="1.0850"/>
		<Cube currency="GBP" rate="0.84500"/>
	</Cube></Cube>`))
	if err != nil {
		panic(err)
	}
	for _, m := range []expensebot.Money{{Minor: 990000, Currency: "EUR"}, {Minor: 10000, Currency: "GBP"}} {
		home, r, _ := ecb.Convert(m, "USD")
		fmt.Printf("%s ≈ %s at %s\n", m, home, r)
	}
	// Output:
	// 9,900.00 EUR ≈ 10,741.50 USD at 1.0850, ECB 2026-11-24
	// 100.00 GBP ≈ 128.41 USD at 1.284023669, ECB 2026-11-24
}
