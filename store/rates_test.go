package store_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/rates"
	"github.com/expensebot/expensebot/store"
)

var _ rates.Store = (*store.DB)(nil)

// routedDetail returns the detail of an expense's routed event.
func routedDetail(t *testing.T, db *store.DB, id int64) map[string]any {
	t.Helper()
	evs, err := db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == expensebot.EventRouted {
			var d map[string]any
			if err := json.Unmarshal(ev.Detail, &d); err != nil {
				t.Fatal(err)
			}
			return d
		}
	}
	t.Fatalf("no routed event for #%d", id)
	return nil
}

// TestRouteRecordsConversion: the amount the policy compared and the rate that converted it are
// stored on the expense and in the routed audit event, converted or not.
func TestRouteRecordsConversion(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		rate := expensebot.Rate{From: "EUR", To: "USD", Value: "1.0850", Source: "ECB", Date: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
		tests := []struct {
			name   string
			amount expensebot.Money
			route  expensebot.Route
			detail string // the conversion's part of the routed event, as JSON
		}{
			{"converted", expensebot.Money{Minor: 990000, Currency: "EUR"},
				expensebot.Route{ApprovalsRequired: 2, HomeAmount: expensebot.Money{Minor: 1074150, Currency: "USD"}, Rate: rate},
				`{"home_amount_minor":1074150,"home_currency":"USD","rate":"1.0850","rate_date":"2026-11-24","rate_source":"ECB"}`},
			{"no rate known", expensebot.Money{Minor: 990000, Currency: "EUR"},
				expensebot.Route{ApprovalsRequired: 2, HomeAmount: expensebot.Money{Currency: "USD"}},
				`{"home_amount_minor":null,"home_currency":"USD"}`},
			{"home currency", expensebot.Money{Minor: 4250, Currency: "USD"},
				expensebot.Route{ApprovalsRequired: 1, HomeAmount: expensebot.Money{Minor: 4250, Currency: "USD"}},
				`{"home_amount_minor":4250,"home_currency":"USD"}`},
			{"routed without conversion", expensebot.Money{Minor: 4250, Currency: "USD"}, expensebot.Route{ApprovalsRequired: 1}, `{}`},
		}
		for i, tt := range tests {
			e := newExpense("conv-"+tt.name, "U1", 1)
			e.Amount = tt.amount
			e, _, err := db.Submit(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			routed, err := db.Route(ctx, e.ID, nil, tt.route)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			got, _ := db.Expense(ctx, e.ID)
			wantRate := tt.route.Rate
			if got.HomeAmount != tt.route.HomeAmount || got.Rate != wantRate || routed.HomeAmount != got.HomeAmount || routed.Rate != got.Rate {
				t.Errorf("%d %s: stored home %s rate %+v; want %s %+v", i, tt.name, got.HomeAmount, got.Rate, tt.route.HomeAmount, wantRate)
			}
			d := routedDetail(t, db, e.ID)
			conv := map[string]any{}
			for _, k := range []string{"home_amount_minor", "home_currency", "rate", "rate_date", "rate_source"} {
				if v, ok := d[k]; ok {
					conv[k] = v
				}
			}
			if b, _ := json.Marshal(conv); string(b) != tt.detail {
				t.Errorf("%s: routed event = %s, want %s", tt.name, b, tt.detail)
			}
		}
	})
}

func TestRatesCache(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		const url = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
		if doc, err := db.Rates(ctx, url); doc != nil || err != nil {
			t.Errorf("empty cache = %q, %v; want nil, nil", doc, err)
		}
		for _, doc := range []string{"<first/>", "<second/>"} {
			if err := db.SaveRates(ctx, url, []byte(doc)); err != nil {
				t.Fatal(err)
			}
			if got, err := db.Rates(ctx, url); string(got) != doc || err != nil {
				t.Errorf("cache = %q, %v; want %q", got, err, doc)
			}
		}
		if doc, _ := db.Rates(ctx, url+"?other"); doc != nil {
			t.Errorf("another URL's cache = %q", doc)
		}
	})
}
