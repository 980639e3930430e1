package expensebot

import (
	"fmt"
	"time"
)

// Rate is the exchange rate an amount in another currency was converted at: one unit of From is
// worth Value units of To, the home currency. The zero Rate means no conversion was made.
type Rate struct {
	From   string    // the currency of the expense
	To     string    // the home currency
	Value  string    // an exact decimal such as "1.0850", never a float
	Source string    // where the rate came from: "ECB", or the rates file's name
	Date   time.Time // the day the rate was quoted for, midnight UTC
}

// String formats r for people, e.g. "1.0850, ECB 2026-11-24".
func (r Rate) String() string {
	return fmt.Sprintf("%s, %s %s", r.Value, r.Source, r.Date.Format(time.DateOnly))
}
