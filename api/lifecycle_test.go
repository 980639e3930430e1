package api_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

// TestLifecycleInTheAPI: a question, a withdrawal and an expiry show in GET as the statuses
// openapi.json lists, and withdrawn and expired are outcomes an API client hears at its callback
// URL, signed and in the documented shape.
func TestLifecycleInTheAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rc := newReceiver(t)
	pending := func() expensebot.Expense {
		t.Helper()
		r := e.submit(billingToken, `{"submitter":"UJANE","amount":"2500","description":"Flights","callback_url":"`+rc.URL+`/hook"}`)
		ex, err := e.db.Route(ctx, id(t, r), nil, expensebot.Route{ApprovalsRequired: 1, Timing: expensebot.Timing{ExpireAfter: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		return ex
	}
	asked := pending()
	if _, err := e.db.AskInfo(ctx, asked.ID, "UREV", "UAWAY", "Which airline?"); err != nil {
		t.Fatal(err)
	}
	got := e.call("GET", "/v1/expenses/"+itoa(asked.ID), billingToken, "").json()
	q, _ := got["question"].(map[string]any)
	if got["status"] != "needs_info" || got["final"] != false || q["text"] != "Which airline?" || q["by"] != "UREV" || q["for"] != "UAWAY" {
		t.Errorf("needs_info = %v", got)
	}
	withdrawn, err := e.db.Withdraw(ctx, asked.ID, "UJANE")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.call("GET", "/v1/expenses/"+itoa(asked.ID), billingToken, "").json(); got["status"] != "withdrawn" || got["final"] != true || got["decided_by"] != "UJANE" {
		t.Errorf("withdrawn = %v", got)
	}

	now := time.Now()
	e.db.SetClock(func() time.Time { return now })
	late := pending()
	now = now.Add(2 * time.Hour)
	if fired, err := e.db.Expire(ctx, late.ID); !fired || err != nil {
		t.Fatalf("expire = %v, %v", fired, err)
	}
	expired, _ := e.db.Expense(ctx, late.ID)
	if got := e.call("GET", "/v1/expenses/"+itoa(late.ID), billingToken, "").json(); got["status"] != "expired" || got["final"] != true {
		t.Errorf("expired = %v", got)
	}

	// Both outcomes were queued for the callback, and each is sent in the documented shape.
	queued := map[string]bool{}
	for {
		ns, err := e.db.ClaimNotices(ctx, 100, time.Minute)
		if err != nil || len(ns) == 0 {
			break
		}
		for _, n := range ns {
			if n.Kind == expensebot.NoticeCallback {
				queued[itoa(n.ExpenseID)+":"+n.Event] = true
			}
			e.db.NoticeDone(ctx, n.ID, nil)
		}
	}
	for _, c := range []struct {
		ex    expensebot.Expense
		event string
	}{{withdrawn, expensebot.EventWithdrawn}, {expired, expensebot.EventExpired}} {
		key := itoa(c.ex.ID) + ":" + c.event
		if !queued[key] {
			t.Errorf("no callback queued for %s (queued %v)", key, queued)
		}
		if _, err := e.srv.Callback(ctx, c.ex, expensebot.Notice{Kind: expensebot.NoticeCallback, ExpenseID: c.ex.ID, Event: c.event}); err != nil {
			t.Fatal(err)
		}
	}
	_, bodies := rc.received()
	for _, body := range bodies {
		if problems := validateAt([]string{"components", "schemas", "Callback"}, body); problems != nil {
			t.Errorf("the callback does not match openapi.json: %v\n%s", problems, body)
		}
		var cb struct{ Event string }
		json.Unmarshal(body, &cb)
		if cb.Event != expensebot.EventWithdrawn && cb.Event != expensebot.EventExpired {
			t.Errorf("callback event %q", cb.Event)
		}
	}
	if len(bodies) != 2 {
		t.Errorf("%d callbacks", len(bodies))
	}
}
