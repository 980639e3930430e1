package rates

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/expensebot/expensebot"
)

// SourceECB names the European Central Bank's reference rates on the approval card.
const SourceECB = "ECB"

// ParseECB reads the European Central Bank's euro foreign exchange reference rates in their XML
// format (eurofxref-daily.xml; the 90-day and historical files work too, and the newest day is
// used):
//
//	<Cube>
//	  <Cube time="2026-11-24">
//	    <Cube currency="USD" rate="1.0850"/>
//
// Each rate is units of the currency per 1 EUR; rates between two other currencies are derived
// through the euro. Currencies expensebot does not accept are skipped. Malformed XML, a rate
// outside a day, a bad date or rate, a currency quoted twice on one day and a document without
// rates are errors that name the line.
func ParseECB(data []byte) (*Table, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var (
		newest  *Table
		newestD time.Time
		day     *Table // the day being read
		date    time.Time
	)
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("ECB rates: %w", err) // an *xml.SyntaxError names the line
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local != "Cube" {
			continue
		}
		line, _ := d.InputPos()
		attrs := map[string]string{}
		for _, a := range start.Attr {
			attrs[a.Name.Local] = a.Value
		}
		if when, ok := attrs["time"]; ok {
			if date, err = parseDate(when); err != nil {
				return nil, fmt.Errorf("ECB rates: line %d: %w", line, err)
			}
			day = &Table{Source: SourceECB, base: "EUR", perBase: true, quotes: map[string]quote{}}
			if newest == nil || date.After(newestD) {
				newest, newestD = day, date
			}
			continue
		}
		currency, hasCurrency := attrs["currency"]
		text, hasRate := attrs["rate"]
		switch {
		case !hasCurrency && !hasRate:
			continue // the outer Cube that holds the days
		case day == nil:
			return nil, fmt.Errorf("ECB rates: line %d: a rate outside a <Cube time=\"…\"> day", line)
		case !hasCurrency || !hasRate:
			return nil, fmt.Errorf("ECB rates: line %d: a rate needs both currency and rate", line)
		}
		if !expensebot.ValidCurrency(currency) {
			if len(currency) != 3 {
				return nil, fmt.Errorf("ECB rates: line %d: %q is not a currency code", line, currency)
			}
			continue // a currency nobody can submit an expense in
		}
		if err := day.add(currency, text, date, line); err != nil {
			return nil, fmt.Errorf("ECB rates: line %d: %w", line, err)
		}
	}
	if newest == nil || len(newest.quotes) == 0 {
		return nil, fmt.Errorf("ECB rates: no <Cube time=\"…\"> day with rates in the document; is it the ECB's eurofxref XML?")
	}
	return newest, nil
}
