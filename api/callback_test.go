package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/approval"
)

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"id":"42:approved"}`)
	// Computed apart from this code: python3 hmac.new(b"whsec-test", b"v1:1700000000:" + body, sha256).
	const want = "v1=0d256cd03229fa7464cfce1361c94af8462538afa7d4fe9797033c5e80a5c790"
	if got := api.Sign([]byte("whsec-test"), "1700000000", body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	at := time.Unix(1700000000, 0)
	if err := api.Verify([]byte("whsec-test"), "1700000000", want, body, at.Add(time.Minute), 5*time.Minute); err != nil {
		t.Errorf("a good signature: %v", err)
	}
	for name, err := range map[string]error{
		"other secret": api.Verify([]byte("other"), "1700000000", want, body, at, 5*time.Minute),
		"other body":   api.Verify([]byte("whsec-test"), "1700000000", want, []byte(`{"id":"42:rejected"}`), at, 5*time.Minute),
		"replayed":     api.Verify([]byte("whsec-test"), "1700000000", want, body, at.Add(10*time.Minute), 5*time.Minute),
		"no timestamp": api.Verify([]byte("whsec-test"), "", want, body, at, 5*time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: verified", name)
		}
	}
}

// receiver is a callback endpoint that answers from a script, then 200, and keeps what it got.
type receiver struct {
	*httptest.Server
	mu      sync.Mutex
	answers []func(http.ResponseWriter)
	got     []*http.Request
	bodies  [][]byte
}

func newReceiver(t *testing.T, answers ...func(http.ResponseWriter)) *receiver {
	rc := &receiver{answers: answers}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got, rc.bodies = append(rc.got, r), append(rc.bodies, b)
		var answer func(http.ResponseWriter)
		if len(rc.answers) > 0 {
			answer, rc.answers = rc.answers[0], rc.answers[1:]
		}
		rc.mu.Unlock()
		if answer != nil {
			answer(w)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// received returns the requests so far and their bodies.
func (rc *receiver) received() ([]*http.Request, [][]byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]*http.Request(nil), rc.got...), append([][]byte(nil), rc.bodies...)
}

func status(code int, headers ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
	}
}

// approved submits an expense with a callback to url and approves it automatically.
func (e *env) approved(url string) expensebot.Expense {
	e.t.Helper()
	r := e.submit(billingToken, `{"submitter":"UJANE","amount":"25","description":"Taxi","callback_url":"`+url+`"}`)
	ex, err := e.db.Route(context.Background(), id(e.t, r), nil, expensebot.Route{AutoApprove: true})
	if err != nil {
		e.t.Fatal(err)
	}
	return ex
}

func notice(attempts int) expensebot.Notice {
	return expensebot.Notice{Kind: expensebot.NoticeCallback, Event: expensebot.EventAutoApproved, Actor: expensebot.ActorPolicy, Attempts: attempts}
}

func TestCallbackIsSigned(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	ex := e.approved(rc.URL + "/hooks/expenses?tenant=7")
	ev, err := e.srv.Callback(context.Background(), ex, notice(0))
	if err != nil || ev.Kind != expensebot.EventCallbackDelivered {
		t.Fatalf("Callback = %+v, %v", ev, err)
	}
	got, bodies := rc.received()
	req, body := got[0], bodies[0]
	if err := api.Verify([]byte("whsec-test"), req.Header.Get(api.HeaderTimestamp), req.Header.Get(api.HeaderSignature), body, time.Now(), time.Minute); err != nil {
		t.Errorf("signature: %v", err)
	}
	var cb map[string]any
	json.Unmarshal(body, &cb)
	want := itoa(ex.ID) + ":auto_approved"
	if cb["id"] != want || cb["event"] != "auto_approved" || req.Header.Get(api.HeaderDelivery) != want || req.URL.RawQuery != "tenant=7" {
		t.Errorf("callback %s %s", req.URL, body)
	}
	if err := validateAt([]string{"components", "schemas", "Callback"}, body); err != nil {
		t.Errorf("the callback does not match openapi.json: %v", err)
	}
	if expense := cb["expense"].(map[string]any); expense["status"] != "auto_approved" || expense["final"] != true || expense["decided_by"] != "policy" {
		t.Errorf("expense in callback = %v", expense)
	}
}

// TestCallbackFailures: how each failure is answered to the outbox, and that each try is in the
// audit trail. To add a case, add a row.
func TestCallbackFailures(t *testing.T) {
	e := newEnv(t, func(c *api.Config) {
		c.CallbackBackoff, c.CallbackMaxBackoff, c.CallbackAttempts, c.CallbackTimeout = time.Second, time.Minute, 5, 300*time.Millisecond
	})
	elsewhere := newReceiver(t)
	slow := func(w http.ResponseWriter) { time.Sleep(time.Second) }
	tests := []struct {
		name      string
		answer    func(http.ResponseWriter)
		attempts  int
		permanent bool
		wait      time.Duration
	}{
		{"5xx is retried", status(500), 0, false, time.Second},
		{"backoff doubles", status(502), 3, false, 8 * time.Second},
		{"Retry-After is honoured", status(503, "Retry-After", "30"), 0, false, 30 * time.Second},
		{"429 is retried", status(429), 1, false, 2 * time.Second},
		{"timeout is retried", slow, 0, false, time.Second},
		{"transient gives up in the end", status(500), 4, true, 0},
		{"redirect is not followed", status(302, "Location", elsewhere.URL), 0, false, time.Second},
		{"4xx gives up at once", status(404), 0, true, 0},
		{"410 gives up at once", status(410), 0, true, 0},
		{"401 gives up at once", status(401), 0, true, 0},
		{"408 is retried", status(408), 0, false, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t, tt.answer)
			ex := e.approved(rc.URL + "/hook")
			_, err := e.srv.Callback(context.Background(), ex, notice(tt.attempts))
			var ra *approval.RetryAfterError
			var perm *approval.PermanentError
			switch {
			case tt.permanent && !errors.As(err, &perm):
				t.Errorf("err = %v, want a permanent error", err)
			case !tt.permanent && (!errors.As(err, &ra) || ra.Wait != tt.wait):
				t.Errorf("err = %#v, want a retry after %s", err, tt.wait)
			}
			if err != nil && strings.Contains(err.Error(), "/hook") {
				t.Errorf("the error repeats the URL (it may carry a secret): %v", err)
			}
			evs, _ := e.db.Events(context.Background(), ex.ID)
			if last := evs[len(evs)-1]; last.Kind != expensebot.EventCallbackFailed || !strings.Contains(string(last.Detail), `"gave_up":`+map[bool]string{true: "true", false: "false"}[tt.permanent]) {
				t.Errorf("audit = %s %s", last.Kind, last.Detail)
			}
		})
	}
	if got, _ := elsewhere.received(); len(got) != 0 {
		t.Errorf("a redirect was followed")
	}
}

func TestCallbackRefusesInternalAddresses(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.CallbackAllow = nil })
	rc := newReceiver(t) // on 127.0.0.1, no longer allowed
	ex, _ := e.db.Expense(context.Background(), id(t, e.submit(billingToken, lunch)))
	for _, url := range []string{rc.URL, strings.Replace(rc.URL, "http:", "https:", 1), "https://169.254.169.254/latest/meta-data"} {
		ex.CallbackURL = url // as if stored before the allow list changed
		_, err := e.srv.Callback(context.Background(), ex, notice(2))
		var perm *approval.PermanentError
		if !errors.As(err, &perm) {
			t.Errorf("%s: %v, want refused for good", url, err)
		}
	}
	if got, _ := rc.received(); len(got) != 0 {
		t.Errorf("the receiver was reached")
	}
}

// TestCallbackTLSErrorsArePermanent: a TLS error that the same request will meet again (https://
// to a plain-HTTP receiver; a certificate that does not verify) ends the delivery at the first
// try, with the reason in the audit trail, instead of being retried for a day.
func TestCallbackTLSErrorsArePermanent(t *testing.T) {
	e := newEnv(t)
	plain := newReceiver(t)
	selfSigned := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	selfSigned.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is logged by the server
	selfSigned.StartTLS()
	t.Cleanup(selfSigned.Close)
	tests := []struct{ name, url, want string }{
		{"https to a plain-HTTP receiver", strings.Replace(plain.URL, "http:", "https:", 1) + "/hook", "gave HTTP response to HTTPS client"},
		{"untrusted certificate", selfSigned.URL + "/hook", "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ex := e.approved(tt.url)
			_, err := e.srv.Callback(context.Background(), ex, notice(0))
			var perm *approval.PermanentError
			if !errors.As(err, &perm) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a permanent error saying %q", err, tt.want)
			}
			evs, _ := e.db.Events(context.Background(), ex.ID)
			last := evs[len(evs)-1]
			var detail map[string]any
			json.Unmarshal(last.Detail, &detail)
			if last.Kind != expensebot.EventCallbackFailed || detail["gave_up"] != true || detail["permanent"] != true || detail["attempt"] != 1.0 ||
				!strings.Contains(detail["error"].(string), tt.want) {
				t.Errorf("audit = %s %s", last.Kind, last.Detail)
			}
		})
	}
	if got, _ := plain.received(); len(got) != 0 {
		t.Errorf("the plain receiver got %d requests", len(got))
	}
}

// TestCallbackWithoutSecretWaits: with the secret gone from the configuration, a callback is not
// sent unsigned, nor dropped: it waits for an operator to set it again.
func TestCallbackWithoutSecretWaits(t *testing.T) {
	e := newEnv(t)
	rc := newReceiver(t)
	ex := e.approved(rc.URL)
	unsigned := api.New(e.db, e.dir, api.Config{CallbackAllow: []string{"127.0.0.1"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	_, err := unsigned.Callback(context.Background(), ex, notice(0))
	var ra *approval.RetryAfterError
	if !errors.As(err, &ra) || ra.Wait != time.Hour || !strings.Contains(err.Error(), "EXPENSEBOT_WEBHOOK_SECRET") {
		t.Errorf("err = %v", err)
	}
	if got, _ := rc.received(); len(got) != 0 {
		t.Errorf("an unsigned callback was sent")
	}
}
