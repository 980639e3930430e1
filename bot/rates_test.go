package bot_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/rates"
)

// ecbDaily is the ECB's eurofxref-daily.xml for one day, cut to two currencies.
const ecbDaily = `<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<Cube>
		<Cube time='2026-11-24'>
			<Cube currency='USD' rate='1.0850'/>
			<Cube currency='GBP' rate='0.84500'/>
		</Cube>
	</Cube>
</gesmes:Envelope>`

// TestForeignCurrencyWithoutRates: with no exchange rates configured, 9,900 EUR has no known
// amount in USD, so it is never approved automatically and two reviewers must approve; the card
// says why.
func TestForeignCurrencyWithoutRates(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.start()
		h.command(emp, "9900 EUR Conference hotel #lodging")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "Needs 2 approvals")
		for _, want := range []string{
			"*Amount*\n9,900.00 EUR · no known exchange rate to USD",
			"no exchange rate from EUR to USD is known: the amount counts as over 10,000.00 USD, so it is never approved automatically and two different reviewers must approve",
		} {
			if !strings.Contains(m.Visible(), want) {
				t.Errorf("card lacks %q:\n%s", want, m.Visible())
			}
		}
		if e.ApprovalsRequired != 2 || e.HomeAmount != (expensebot.Money{Currency: "USD"}) || e.Rate != (expensebot.Rate{}) {
			t.Errorf("stored %+v", e)
		}
		h.command(emp, "12.50 EUR Coffee with a candidate #meals")
		m = h.approvalMessage(e.ID+1, "Needs 2 approvals")
		if !strings.Contains(m.Visible(), "12.50 EUR · no known exchange rate to USD") {
			t.Errorf("a small amount without a rate:\n%s", m.Visible())
		}
	})
}

// TestForeignCurrencyWithECBRates: the bot fetches the ECB's rates at start; 9,900 EUR is then
// 10,741.50 USD, over the two-approver limit (compared nominally it was under it), the card
// shows both amounts and the rate, and the expense and its audit trail record them. A small
// foreign expense is approved automatically, as a home one is.
func TestForeignCurrencyWithECBRates(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		ecb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, ecbDaily) }))
		defer ecb.Close()
		book, err := rates.Open(context.Background(), rates.Config{Home: "USD", URL: ecb.URL,
			Now: func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC) }}, h.db, slog.New(slog.NewTextHandler(h.logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		h.rates = book
		h.start()
		h.eventually("the ECB's rates are fetched", func() bool {
			_, _, ok := book.Convert(expensebot.Money{Minor: 100, Currency: "EUR"})
			return ok
		})

		h.command(emp, "9900 EUR Conference hotel #lodging")
		e := h.latest(emp, expensebot.StatusPendingReview)
		m := h.approvalMessage(e.ID, "Needs 2 approvals")
		for _, want := range []string{
			"*Amount*\n9,900.00 EUR ≈ 10,741.50 USD at 1.0850, ECB 2026-11-24",
			"9,900.00 EUR (10,741.50 USD) is at or above the auto-approve limit of 1,000.00 USD",
			"over 10,000.00 USD: two different reviewers must approve",
		} {
			if !strings.Contains(m.Visible(), want) {
				t.Errorf("card lacks %q:\n%s", want, m.Visible())
			}
		}
		wantRate := expensebot.Rate{From: "EUR", To: "USD", Value: "1.0850", Source: "ECB", Date: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
		if e.ApprovalsRequired != 2 || e.HomeAmount != (expensebot.Money{Minor: 1074150, Currency: "USD"}) || e.Rate != wantRate {
			t.Errorf("stored %+v", e)
		}
		evs, _ := h.db.Events(context.Background(), e.ID)
		for _, ev := range evs {
			if ev.Kind != expensebot.EventRouted {
				continue
			}
			var d map[string]any
			json.Unmarshal(ev.Detail, &d)
			if d["home_amount_minor"] != float64(1074150) || d["rate"] != "1.0850" || d["rate_source"] != "ECB" || d["rate_date"] != "2026-11-24" {
				t.Errorf("routed event = %s", ev.Detail)
			}
		}

		h.command(emp, "42.50 EUR Team lunch #meals")
		h.dm(emp, "(42.50 EUR, Team lunch) was approved automatically")
		small := h.latest(emp, expensebot.StatusAutoApproved)
		if small.HomeAmount != (expensebot.Money{Minor: 4612, Currency: "USD"}) || small.Rate.Value != "1.0850" {
			t.Errorf("auto-approved %+v", small)
		}
	})
}
