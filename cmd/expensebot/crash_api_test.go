package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
)

// TestKillBeforeCallbackDelivers: a reviewer's approval is committed, its callback has not got
// through (the receiver is down), and the bot is killed -9. The next start delivers the callback,
// signed, and records exactly one success.
func TestKillBeforeCallbackDelivers(t *testing.T) {
	const token, secret = "tok-crash-0123456789abc", "whsec-crash-0123456789"
	eachEngine(t, func(t *testing.T, engine string) {
		var mu sync.Mutex
		down, delivered := true, []map[string]any{}
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case api.Verify([]byte(secret), r.Header.Get(api.HeaderTimestamp), r.Header.Get(api.HeaderSignature), body, time.Now(), time.Minute) != nil:
				t.Errorf("a callback was not signed right")
				w.WriteHeader(http.StatusUnauthorized)
			case down:
				w.WriteHeader(http.StatusServiceUnavailable)
			default:
				var cb map[string]any
				json.Unmarshal(body, &cb)
				delivered = append(delivered, cb)
			}
		}))
		defer hook.Close()

		r := newCrashRig(t, engine)
		r.env = []string{"EXPENSEBOT_HTTP_ADDR=127.0.0.1:0", "EXPENSEBOT_API_TOKENS=ci=" + token,
			"EXPENSEBOT_WEBHOOK_SECRET=" + secret, "EXPENSEBOT_CALLBACK_ALLOW=127.0.0.1"}
		first := r.start()
		var addr string
		waitUntil(t, "the API's address", func() bool {
			m := regexp.MustCompile(`"msg":"approval API listening","addr":"([^"]+)"`).FindStringSubmatch(r.logs.String())
			if m != nil {
				addr = m[1]
			}
			return m != nil
		})
		req, _ := http.NewRequest("POST", "http://"+addr+"/v1/expenses", strings.NewReader(
			`{"submitter": "`+crashEmp+`", "amount": "2500.00", "description": "Conference travel", "callback_url": "`+hook.URL+`/hook"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var sub struct{ ID int64 }
		json.NewDecoder(resp.Body).Decode(&sub)
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("submit = %d", resp.StatusCode)
		}
		waitUntil(t, "the card", func() bool { return len(r.cards(sub.ID)) == 1 })
		if _, err := r.slack.ClickMessageButton(crashRev, crashApp, r.cards(sub.ID)[0].TS, fmt.Sprintf("approve:%d", sub.ID)); err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "a failed try of the callback", func() bool { return r.events(sub.ID, expensebot.EventCallbackFailed) > 0 })
		r.kill(first) // the approval is committed; its callback is not through
		mu.Lock()
		down = false
		mu.Unlock()

		r.start()
		waitUntil(t, "the callback after the restart", func() bool { return r.events(sub.ID, expensebot.EventCallbackDelivered) > 0 })
		mu.Lock()
		defer mu.Unlock()
		if len(delivered) != 1 || delivered[0]["event"] != "approved" {
			t.Errorf("delivered %v, want one approved callback", delivered)
		}
		if n := r.events(sub.ID, expensebot.EventCallbackDelivered); n != 1 {
			t.Errorf("%d deliveries recorded, want 1", n)
		}
	})
}

// events counts expense id's audit events of a kind.
func (r *crashRig) events(id int64, kind string) int {
	evs, _ := r.db.Events(context.Background(), id)
	n := 0
	for _, ev := range evs {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// waitUntil polls cond for up to 20 seconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
