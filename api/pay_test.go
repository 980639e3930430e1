package api_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
)

const treasuryToken = "tok-treasury-0123456789"

// TestPayoutOverTheAPI: POST /v1/payouts needs the pay role (403 without it, whatever else the
// client may do); with it, a batch pays exactly its approved expenses, once, recorded as the
// client in the audit trail with the reference; a second payout is refused naming who paid; GET
// shows the payment. Every answer is checked against openapi.json.
func TestPayoutOverTheAPI(t *testing.T) {
	e := newEnv(t, func(c *api.Config) {
		clients, err := api.ParseClients([]string{"billing=" + billingToken, "audit*=" + auditToken, "treasury:pay=" + treasuryToken})
		if err != nil {
			t.Fatal(err)
		}
		c.Clients = clients
	})
	ctx := context.Background()
	approved := func(minor string) expensebot.Expense {
		t.Helper()
		r := e.submit(billingToken, `{"submitter":"UJANE","amount":"`+minor+`","description":"Flights"}`)
		ex, err := e.db.Route(ctx, id(t, r), nil, expensebot.Route{ApprovalsRequired: 1})
		if err != nil {
			t.Fatal(err)
		}
		if ex, err = e.db.Decide(ctx, expensebot.Decision{ExpenseID: ex.ID, Reviewer: "UREV", Outcome: expensebot.Approve}); err != nil {
			t.Fatal(err)
		}
		return ex
	}
	a, b := approved("2500"), approved("300")
	c := approved("120")
	batch, err := e.db.MarkExported(ctx, []int64{a.ID, b.ID}, "csv")
	if err != nil {
		t.Fatal(err)
	}
	body := `{"batch":` + itoa(batch) + `,"reference":"TRX-2026-12-03","by":"Fiona"}`

	for _, tok := range []string{billingToken, auditToken} {
		if r := e.call("POST", "/v1/payouts", tok, body); r.status != 403 || !strings.Contains(string(r.body), "may not record payouts") {
			t.Errorf("without the pay role: %d %s", r.status, r.body)
		}
	}
	if r := e.call("POST", "/v1/payouts", "", body); r.status != 401 {
		t.Errorf("without a token: %d", r.status)
	}
	if ex, _ := e.db.Expense(ctx, a.ID); ex.Status != expensebot.StatusApproved {
		t.Fatalf("a refused request paid: %s", ex.Status)
	}

	r := e.call("POST", "/v1/payouts", treasuryToken, body)
	var got struct {
		Paid []struct {
			ID      int64  `json:"id"`
			Status  string `json:"status"`
			Payment struct {
				By, Reference string
				Batch         int64
			} `json:"payment"`
		} `json:"paid"`
		Refused []struct {
			ID     int64
			Code   string
			Detail string
		} `json:"refused"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != 200 {
		t.Fatalf("payout: %d %s", r.status, r.body)
	}
	if len(got.Paid) != 2 || got.Paid[0].ID != a.ID || got.Paid[1].ID != b.ID || len(got.Refused) != 0 ||
		got.Paid[0].Status != "paid" || got.Paid[0].Payment.By != "Fiona" || got.Paid[0].Payment.Reference != "TRX-2026-12-03" || got.Paid[0].Payment.Batch != batch {
		t.Errorf("payout = %s", r.body)
	}
	if ex, _ := e.db.Expense(ctx, c.ID); ex.Status != expensebot.StatusApproved {
		t.Errorf("an expense outside the batch was paid")
	}
	evs, _ := e.db.Events(ctx, a.ID)
	if last := evs[len(evs)-1]; last.Kind != expensebot.EventPaid || last.Actor != "api:treasury" || !strings.Contains(string(last.Detail), "TRX-2026-12-03") {
		t.Errorf("audit: %+v %s", last, last.Detail)
	}

	// Once: the same request again pays nothing and says who paid.
	r = e.call("POST", "/v1/payouts", treasuryToken, body)
	if err := json.Unmarshal(r.body, &got); err != nil || len(got.Paid) != 0 || len(got.Refused) != 2 || got.Refused[0].Code != "conflict" ||
		!strings.Contains(got.Refused[0].Detail, "already paid on") || !strings.Contains(got.Refused[0].Detail, "by Fiona") {
		t.Errorf("second payout: %d %s", r.status, r.body)
	}
	// Single expenses; the client's name records it when by is left out.
	r = e.call("POST", "/v1/payouts", treasuryToken, `{"expenses":[`+itoa(c.ID)+`, 99999]}`)
	if err := json.Unmarshal(r.body, &got); err != nil || len(got.Paid) != 1 || got.Paid[0].Payment.By != "treasury" || len(got.Refused) != 1 || got.Refused[0].Code != "not_found" {
		t.Errorf("single expenses: %d %s", r.status, r.body)
	}
	if g := e.call("GET", "/v1/expenses/"+itoa(c.ID), auditToken, "").json(); g["status"] != "paid" || g["final"] != true || g["payment"] == nil {
		t.Errorf("GET after payout = %v", g)
	}
	for _, bad := range []string{`{}`, `{"batch":1,"expenses":[1]}`, `{"expenses":[0]}`, `{"batch":1,"reference":"` + strings.Repeat("x", 201) + `"}`, `{"batch":1,"amount":"3"}`, `[`} {
		if r := e.call("POST", "/v1/payouts", treasuryToken, bad); r.status != 400 {
			t.Errorf("%s: %d %s", bad, r.status, r.body)
		}
	}
	if r := e.call("POST", "/v1/payouts", treasuryToken, `{"batch":999}`); r.status != 404 {
		t.Errorf("unknown batch: %d %s", r.status, r.body)
	}
}
