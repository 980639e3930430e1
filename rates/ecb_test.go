package rates

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseECB(t *testing.T) {
	tab := mustFixture(t, "eurofxref-daily.xml")
	if tab.Source != "ECB" || tab.Len() != 30 || tab.AsOf() != time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC) {
		t.Errorf("daily: source %q, %d currencies, as of %s", tab.Source, tab.Len(), tab.AsOf())
	}
	hist := mustFixture(t, "eurofxref-hist-3d.xml")
	if r, ok := hist.Rate("EUR", "USD"); !ok || r.Value != "1.0850" || r.Date.Format(time.DateOnly) != "2026-11-24" {
		t.Errorf("a history file gives the newest day: %+v", r)
	}
	// Days need not come newest first.
	b, _ := os.ReadFile("testdata/eurofxref-hist-3d.xml")
	swapped := strings.Replace(strings.Replace(string(b), "2026-11-24", "X", 1), "2026-11-20", "2026-11-24", 1)
	swapped = strings.Replace(swapped, "X", "2026-11-20", 1)
	if r, _ := mustTable(t, "h.xml", []byte(swapped)).Rate("EUR", "USD"); r.Value != "1.0811" {
		t.Errorf("newest day when last = %+v", r)
	}
}

// TestParseECBErrors: a document that is not what the ECB publishes is refused with the line,
// and the rates in use stay. Add a case as the XML and a part of the message.
func TestParseECBErrors(t *testing.T) {
	day := func(rates string) string {
		return "<Envelope>\n<Cube>\n<Cube time=\"2026-11-24\">\n" + rates + "\n</Cube>\n</Cube>\n</Envelope>\n"
	}
	tests := []struct{ xml, want string }{
		{"", "no <Cube time"},
		{"<html><body>Maintenance</body></html>", "no <Cube time"},
		{day(""), "no <Cube time"},
		{day(`<Cube currency="USD" rate="1.0850">`), "XML syntax error on line"},
		{day(`<Cube currency="USD" rate="1,0850"/>`), `line 4: USD: rate "1,0850" is not a decimal number`},
		{day(`<Cube currency="USD" rate="-1"/>`), `line 4: USD: rate "-1"`},
		{day(`<Cube currency="USD"/>`), "line 4: a rate needs both currency and rate"},
		{day(`<Cube currency="USD" rate="1.08"/>` + "\n" + `<Cube currency="USD" rate="1.09"/>`), "line 5: USD has a rate already (line 4)"},
		{day(`<Cube currency="EURO" rate="1"/>`), `line 4: "EURO" is not a currency code`},
		{"<Cube>\n<Cube currency=\"USD\" rate=\"1.08\"/>\n</Cube>", "line 2: a rate outside a <Cube time"},
		{"<Cube>\n<Cube time=\"24.11.2026\">\n</Cube>\n</Cube>", `line 2: date "24.11.2026"`},
	}
	for _, tt := range tests {
		_, err := ParseECB([]byte(tt.xml))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseECB(%q) error = %v, want one containing %q", tt.xml, err, tt.want)
		}
	}
	// A currency nobody can submit in is skipped, not an error.
	if tab, err := ParseECB([]byte(day(`<Cube currency="USD" rate="1.08"/><Cube currency="XDR" rate="0.8"/>`))); err != nil || tab.Len() != 1 {
		t.Errorf("unknown currency: %v", err)
	}
}

// FuzzParseECB: no document makes the parser panic, and every rate it accepts converts one minor
// unit to at least one minor unit of the euro (rates are exact, positive, and rounded up).
func FuzzParseECB(f *testing.F) {
	b, _ := os.ReadFile("testdata/eurofxref-daily.xml")
	f.Add(b)
	f.Add([]byte(`<Cube><Cube time="2026-11-24"><Cube currency="JPY" rate="0.0000001"/></Cube></Cube>`))
	f.Add([]byte(`<Cube time="2026-11-24"><Cube currency="USD" rate="1e9"/>`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		tab, err := ParseECB(doc)
		if err != nil {
			return
		}
		for c := range tab.quotes {
			if got, _, ok := tab.Convert(money(1, c), "EUR"); !ok || got.Minor < 1 {
				t.Errorf("1 minor unit of %s = %s (%v)", c, got, ok)
			}
		}
	})
}
