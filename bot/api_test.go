package bot_test

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
)

// End to end through the approval API: a workflow submits over HTTP, the expense takes the Slack
// path (DM, card, decision), the workflow waits for the outcome and hears it at its callback URL.
// The API's own edge cases (each problem, paging, the OpenAPI check) are tested in package api;
// these guard the joins between it, the workflow, the outbox and restarts.

const (
	apiToken   = "tok-travel-desk-0123456789"
	hookSecret = "whsec-e2e-0123456789abcdef"
)

// withAPI makes the harness start instances that serve the approval API, with one client
// (travel-desk), callbacks allowed to this machine, and retries that wait milliseconds.
func (h *harness) withAPI(adjust ...func(*api.Config)) {
	clients, err := api.ParseClients([]string{"travel-desk=" + apiToken})
	if err != nil {
		h.t.Fatal(err)
	}
	cfg := api.Config{Clients: clients, WebhookSecret: hookSecret, CallbackAllow: []string{"127.0.0.1"},
		CallbackBackoff: 20 * time.Millisecond, CallbackMaxBackoff: 100 * time.Millisecond}
	for _, f := range adjust {
		f(&cfg)
	}
	h.api = &cfg
}

type apiAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// call makes one request to the instance's approval API.
func (in *instance) call(t *testing.T, method, path, token, body string, headers ...string) apiAnswer {
	t.Helper()
	req, _ := http.NewRequest(method, in.apiURL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := apiAnswer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	json.Unmarshal(b, &a.body)
	return a
}

func (a apiAnswer) id(t *testing.T) int64 {
	t.Helper()
	n, ok := a.body["id"].(float64)
	if !ok {
		t.Fatalf("no expense id in %d %s", a.status, a.raw)
	}
	return int64(n)
}

// hook is a callback receiver that checks every signature. It answers with the statuses queued
// in fail, 503 while down, and 204 otherwise.
type hook struct {
	*httptest.Server
	mu       sync.Mutex
	fail     []int
	down     bool
	got      []map[string]any // verified callbacks, in order, whatever they were answered
	ok       []map[string]any // those answered 2xx
	unsigned int
}

func newHook(t *testing.T) *hook {
	k := &hook{}
	k.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		k.mu.Lock()
		defer k.mu.Unlock()
		if err := api.Verify([]byte(hookSecret), r.Header.Get(api.HeaderTimestamp), r.Header.Get(api.HeaderSignature), body, time.Now(), 5*time.Minute); err != nil {
			k.unsigned++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var cb map[string]any
		json.Unmarshal(body, &cb)
		k.got = append(k.got, cb)
		switch {
		case len(k.fail) > 0:
			w.WriteHeader(k.fail[0])
			k.fail = k.fail[1:]
		case k.down:
			w.WriteHeader(http.StatusServiceUnavailable)
		default:
			k.ok = append(k.ok, cb)
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(k.Close)
	return k
}

func (k *hook) set(fn func(k *hook)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fn(k)
}

func (k *hook) counts() (got, ok, unsigned int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.got), len(k.ok), k.unsigned
}

func (k *hook) lastOK() map[string]any {
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.ok) == 0 {
		return nil
	}
	return k.ok[len(k.ok)-1]
}

func submission(hookURL string) string {
	return `{"submitter_email": "alice@example.com", "amount": "2500.00", "currency": "USD", "description": "Conference travel to Berlin",
		"category": "travel", "callback_url": "` + hookURL + `/expenses?tenant=7"}`
}

// TestAPISubmitWaitCallback is the main path: submit over HTTP, the card appears, a
// reviewer approves in Slack, GET ?wait returns approved, and the signed callback arrives.
func TestAPISubmitWaitCallback(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.withAPI()
		in := h.start()
		k := newHook(t)
		sub := in.call(t, "POST", "/v1/expenses", apiToken, submission(k.URL), "Idempotency-Key", "trip-2026-11")
		if sub.status != http.StatusAccepted || sub.body["status"] != "submitted" || sub.body["submitted_by"] != "api:travel-desk" || sub.body["submitter"] != emp {
			t.Fatalf("submit = %d %s", sub.status, sub.raw)
		}
		id := sub.id(t)
		dm := h.dm(emp, "went to a reviewer")
		if !strings.Contains(string(dm.Blocks), "Submitted for you by *travel-desk* through the expense API") {
			t.Errorf("the DM does not say which system submitted: %s", dm.Blocks)
		}
		m := h.approvalMessage(id, `"action_id":"approve:`)

		waited := make(chan apiAnswer, 1)
		go func() { waited <- in.call(t, "GET", "/v1/expenses/"+itoa(id)+"?wait=30s", apiToken, "") }()
		time.Sleep(150 * time.Millisecond) // the long poll is waiting
		h.click(rev1, m, "approve", id)
		select {
		case got := <-waited:
			if got.status != http.StatusOK || got.body["status"] != "approved" || got.body["final"] != true || got.body["decided_by"] != rev1 {
				t.Errorf("GET ?wait = %d %s", got.status, got.raw)
			}
			if links, _ := got.body["links"].(map[string]any); links["slack"] == nil {
				t.Errorf("no link to the card: %s", got.raw)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("GET ?wait did not return after the approval")
		}

		h.eventually("the callback", func() bool { _, ok, _ := k.counts(); return ok == 1 })
		cb := k.lastOK()
		expense, _ := cb["expense"].(map[string]any)
		if cb["event"] != "approved" || cb["id"] != itoa(id)+":approved" || expense["status"] != "approved" || expense["amount"] != "2500.00" {
			t.Errorf("callback = %v", cb)
		}
		h.eventually("the delivery in the audit trail", func() bool { return count(h.events(id), expensebot.EventCallbackDelivered) == 1 })
		evs, _ := h.db.Events(context.Background(), id)
		if evs[0].Kind != expensebot.EventSubmitted || evs[0].Actor != "api:travel-desk" {
			t.Errorf("submitted by %s, want api:travel-desk", evs[0].Actor)
		}

		// A retry of the same request, after all that, is the same expense.
		again := in.call(t, "POST", "/v1/expenses", apiToken, submission(k.URL), "Idempotency-Key", "trip-2026-11")
		if again.status != http.StatusAccepted || again.id(t) != id || again.header.Get("Idempotent-Replayed") != "true" || again.body["status"] != "approved" {
			t.Errorf("retry = %d %s", again.status, again.raw)
		}
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 10); len(list) != 1 {
			t.Errorf("%d expenses after a retried submission, want 1", len(list))
		}
		if _, _, unsigned := k.counts(); unsigned != 0 {
			t.Errorf("%d callbacks were not signed right", unsigned)
		}
	})
}

// TestAPIRefusals: what the API refuses, end to end, leaves nothing stored and nothing sent.
func TestAPIRefusals(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.withAPI()
		in := h.start()
		ok := `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi"}`
		tests := []struct {
			name, token, body string
			headers           []string
			status            int
			field             string
		}{
			{"no token", "", ok, nil, 401, ""},
			{"wrong token", "tok-travel-desk-0123456780", ok, nil, 401, ""},
			{"float amount", apiToken, `{"submitter": "UEMP", "amount": 25.00, "description": "Taxi"}`, nil, 400, "amount"},
			{"unknown field", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi", "approved": true}`, nil, 400, "approved"},
			{"too large", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "` + strings.Repeat("a", 70_000) + `"}`, nil, 413, ""},
			{"loopback callback", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi", "callback_url": "https://127.0.0.2:8443/x"}`, nil, 400, "callback_url"},
			{"metadata callback", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi", "callback_url": "https://169.254.169.254/latest/meta-data/"}`, nil, 400, "callback_url"},
			{"private callback", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi", "callback_url": "https://192.168.0.10/hook"}`, nil, 400, "callback_url"},
			{"plain http callback", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi", "callback_url": "http://hooks.example.com/x"}`, nil, 400, "callback_url"},
			{"IPv6 loopback callback", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi", "callback_url": "https://[::1]/x"}`, nil, 400, "callback_url"},
		}
		for _, tt := range tests {
			got := in.call(t, "POST", "/v1/expenses", tt.token, tt.body, tt.headers...)
			if got.status != tt.status || got.header.Get("Content-Type") != "application/problem+json" || got.body["field"] != anyOrNil(tt.field) {
				t.Errorf("%s: %d %s, want %d naming %q", tt.name, got.status, got.raw, tt.status, tt.field)
			}
		}
		if list, _ := h.db.BySubmitter(context.Background(), emp, 0, 10); len(list) != 0 {
			t.Errorf("refused requests stored %d expenses", len(list))
		}

		first := in.call(t, "POST", "/v1/expenses", apiToken, ok, "Idempotency-Key", "k-409")
		other := in.call(t, "POST", "/v1/expenses", apiToken, strings.Replace(ok, "25.00", "26.00", 1), "Idempotency-Key", "k-409")
		if first.status != 202 || other.status != http.StatusConflict || other.body["code"] != "conflict" {
			t.Errorf("same key, other body: %d then %d %s", first.status, other.status, other.raw)
		}

		// The default rate is 5 a second after a burst of 20: a tight loop meets the limit.
		var limited apiAnswer
		for range 100 {
			if limited = in.call(t, "GET", "/v1/expenses", apiToken, ""); limited.status == http.StatusTooManyRequests {
				break
			}
		}
		if limited.status != http.StatusTooManyRequests || limited.header.Get("Retry-After") == "" {
			t.Errorf("no 429 with Retry-After after 100 quick requests: %d %v", limited.status, limited.header)
		}
		if strings.Contains(h.logs.String(), apiToken) {
			t.Errorf("the token reached the log")
		}
	})
}

func anyOrNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestAPICallbackRetriedThenRecordedOnce: a receiver that fails twice, then succeeds, gets the
// same signed outcome three times and exactly one success is recorded.
func TestAPICallbackRetriedThenRecordedOnce(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.withAPI()
		in := h.start()
		k := newHook(t)
		k.set(func(k *hook) { k.fail = []int{500, 503} })
		// Small and clear: the AI approves it and the policy too, so the outcome comes at once.
		r := in.call(t, "POST", "/v1/expenses", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi to the airport", "callback_url": "`+k.URL+`/hook"}`)
		id := r.id(t)
		h.eventually("one success after two failures", func() bool { got, ok, _ := k.counts(); return got == 3 && ok == 1 })
		h.eventually("the audit trail", func() bool {
			trail := h.events(id)
			return count(trail, expensebot.EventCallbackFailed) == 2 && count(trail, expensebot.EventCallbackDelivered) == 1
		})
		k.mu.Lock()
		for _, cb := range k.got {
			if cb["id"] != itoa(id)+":auto_approved" || cb["event"] != "auto_approved" {
				t.Errorf("callback %v", cb)
			}
		}
		k.mu.Unlock()
		h.settle() // the callback's notice is done: nothing more is sent
		if got, ok, _ := k.counts(); got != 3 || ok != 1 {
			t.Errorf("receiver got %d callbacks, %d answered ok; want 3 and 1", got, ok)
		}
	})
}

// TestAPICallbackSurvivesRestart: an instance stops after the decision is committed but before
// its callback got through (the receiver is down); another instance delivers it. The same
// happens after kill -9: see TestKillBeforeCallbackDelivers in cmd/expensebot.
func TestAPICallbackSurvivesRestart(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.withAPI()
		first := h.start()
		k := newHook(t)
		k.set(func(k *hook) { k.down = true })
		id := first.call(t, "POST", "/v1/expenses", apiToken, submission(k.URL)).id(t)
		h.click(rev1, h.approvalMessage(id, `"action_id":"approve:`), "approve", id)
		h.eventually("a failed try", func() bool { return count(h.events(id), expensebot.EventCallbackFailed) >= 1 })
		if err := first.stop(); err != nil {
			t.Fatal(err)
		}
		k.set(func(k *hook) { k.down = false })
		if _, ok, _ := k.counts(); ok != 0 {
			t.Fatal("delivered before the restart")
		}
		h.start()
		h.eventually("the callback after the restart", func() bool { _, ok, _ := k.counts(); return ok == 1 })
		if cb := k.lastOK(); cb["event"] != "approved" {
			t.Errorf("callback = %v", cb)
		}
		h.eventually("one delivery recorded", func() bool { return count(h.events(id), expensebot.EventCallbackDelivered) == 1 })
	})
}

// TestAPICallbackRefusesInternalTargets: the SSRF guard at delivery. A host name passes the URL
// check when submitted (only DNS can tell where it points), and is refused at the socket when it
// resolves to an internal address: this machine's own name, here. The same check stops a name
// that resolved to a public address when submitted and to an internal one since (DNS rebinding).
func TestAPICallbackRefusesInternalTargets(t *testing.T) {
	name, err := os.Hostname()
	if err != nil {
		t.Skip("no host name")
	}
	addrs, err := net.LookupHost(name)
	if err != nil || len(addrs) == 0 {
		t.Skipf("the host name %s does not resolve", name)
	}
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err != nil || !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast()) {
			t.Skipf("the host name %s resolves to %s, not an internal address", name, a)
		}
	}
	each(t, func(t *testing.T, h *harness) {
		h.withAPI() // 127.0.0.1 is allowed, the name is not
		in := h.start()
		k := newHook(t)
		_, port, _ := net.SplitHostPort(k.Listener.Addr().String())
		r := in.call(t, "POST", "/v1/expenses", apiToken, `{"submitter": "UEMP", "amount": "25.00", "description": "Taxi",
			"callback_url": "https://`+name+`:`+port+`/hook"}`)
		id := r.id(t)
		h.eventually("the callback given up", func() bool {
			evs, _ := h.db.Events(context.Background(), id)
			for _, ev := range evs {
				var d struct {
					GaveUp bool   `json:"gave_up"`
					Error  string `json:"error"`
				}
				if ev.Kind == expensebot.EventCallbackFailed && json.Unmarshal(ev.Detail, &d) == nil && d.GaveUp {
					return strings.Contains(d.Error, "refused to connect to 127.0.0.1")
				}
			}
			return false
		})
		if got, _, _ := k.counts(); got != 0 {
			t.Errorf("the internal address was reached %d times", got)
		}
	})
}
