package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
)

const lunch = `{"submitter_email": "jane@example.com", "amount": "2500.00", "description": "Conference travel", "category": "travel"}`

func TestSubmitAndRead(t *testing.T) {
	e := newEnv(t)
	r := e.submit(billingToken, lunch, "Idempotency-Key", "order-17")
	if r.status != http.StatusAccepted {
		t.Fatalf("submit = %d %s", r.status, r.body)
	}
	n := id(t, r)
	body := r.json()
	if body["status"] != "submitted" || body["amount"] != "2500.00" || body["amount_minor"] != 250000.0 || body["currency"] != "USD" ||
		body["submitter"] != "UJANE" || body["submitted_by"] != "api:billing" || r.header.Get("Location") != "/v1/expenses/"+itoa(n) {
		t.Errorf("submit answered %s (Location %s)", r.body, r.header.Get("Location"))
	}
	stored, _ := e.db.Expense(context.Background(), n)
	if stored.SubmittedBy != "api:billing" || stored.IdempotencyKey != "api:billing:order-17" || stored.Category != "travel" {
		t.Errorf("stored %+v", stored)
	}

	t.Run("ReplaySameBody", func(t *testing.T) {
		// Other spacing and member order: still the same request.
		again := e.submit(billingToken, `{"category":"travel","description":"Conference travel","amount":"2500.00","submitter_email":"jane@example.com"}`, "Idempotency-Key", "order-17")
		if again.status != http.StatusAccepted || id(t, again) != n || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay = %d %s", again.status, again.body)
		}
	})
	t.Run("SameKeyOtherBody", func(t *testing.T) {
		other := e.submit(billingToken, strings.Replace(lunch, "2500.00", "2600.00", 1), "Idempotency-Key", "order-17")
		if other.status != http.StatusConflict || other.json()["code"] != "conflict" {
			t.Errorf("other body = %d %s", other.status, other.body)
		}
	})
	t.Run("KeysAreClientsOwn", func(t *testing.T) {
		theirs := e.submit(ledgerToken, lunch, "Idempotency-Key", "order-17")
		if theirs.status != http.StatusAccepted || id(t, theirs) == n {
			t.Errorf("ledger's order-17 = %d %s", theirs.status, theirs.body)
		}
	})
	t.Run("Get", func(t *testing.T) {
		got := e.call("GET", "/v1/expenses/"+itoa(n), billingToken, "")
		if got.status != http.StatusOK || id(t, got) != n || got.json()["final"] != false {
			t.Errorf("get = %d %s", got.status, got.body)
		}
	})
	t.Run("OthersSeeNothing", func(t *testing.T) {
		if got := e.call("GET", "/v1/expenses/"+itoa(n), ledgerToken, ""); got.status != http.StatusNotFound {
			t.Errorf("another client read it: %d", got.status)
		}
		if got := e.call("GET", "/v1/expenses/"+itoa(n), auditToken, ""); got.status != http.StatusOK {
			t.Errorf("a read-all client could not: %d", got.status)
		}
	})
	t.Run("EmailLookedUpOnce", func(t *testing.T) {
		if e.dir.calls != 1 {
			t.Errorf("users.lookupByEmail called %d times for one address", e.dir.calls)
		}
	})
}

// TestBadRequests: each bad request gets its status, a problem naming the field, and leaves
// nothing stored. To add a case, add a row; the answer is also checked against openapi.json.
func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, token, body string
		headers           []string
		status            int
		field, detail     string
	}{
		{"no token", "", lunch, nil, 401, "", "Authorization: Bearer"},
		{"wrong token", "tok-billing-0123456788", lunch, nil, 401, "", "not one of"},
		{"float amount", billingToken, `{"submitter":"UJANE","amount":2500.00,"description":"x"}`, nil, 400, "amount", "not a number"},
		{"unknown field", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","amount_cents":2500}`, nil, 400, "amount_cents", "not a member"},
		{"not JSON", billingToken, `{"submitter":`, nil, 400, "", "not valid JSON"},
		{"two objects", billingToken, `{"submitter":"UJANE","amount":"25","description":"x"} {}`, nil, 400, "", "nothing after it"},
		{"array", billingToken, `[1]`, nil, 400, "", "JSON object"},
		{"number as description", billingToken, `{"submitter":"UJANE","amount":"25","description":5}`, nil, 400, "description", "JSON string"},
		{"no submitter", billingToken, `{"amount":"25","description":"x"}`, nil, 400, "submitter", "Say who"},
		{"both submitters", billingToken, `{"submitter":"UJANE","submitter_email":"jane@example.com","amount":"25","description":"x"}`, nil, 400, "submitter", "not both"},
		{"bad user id", billingToken, `{"submitter":"jane","amount":"25","description":"x"}`, nil, 400, "submitter", "Slack user id"},
		{"unknown user", billingToken, `{"submitter":"UNOBODY","amount":"25","description":"x"}`, nil, 400, "submitter", "no Slack user"},
		{"unknown email", billingToken, `{"submitter_email":"nobody@example.com","amount":"25","description":"x"}`, nil, 400, "submitter_email", "nobody@example.com"},
		{"negative", billingToken, `{"submitter":"UJANE","amount":"-5","description":"x"}`, nil, 400, "amount", "positive"},
		{"exponent", billingToken, `{"submitter":"UJANE","amount":"1e5","description":"x"}`, nil, 400, "amount", "not an amount"},
		{"currency in the amount", billingToken, `{"submitter":"UJANE","amount":"25 EUR","currency":"USD","description":"x"}`, nil, 400, "amount", "the currency goes in currency"},
		// Amounts are strict decimals: what /expense reads kindly from people is refused here, never guessed.
		{"grouped amount", billingToken, `{"submitter":"UJANE","amount":"2,500","description":"x"}`, nil, 400, "amount", `"2,500" is not an amount in the API's form`},
		{"decimal comma", billingToken, `{"submitter":"UJANE","amount":"1.234,56","description":"x"}`, nil, 400, "amount", "not an amount in the API's form"},
		{"currency sign", billingToken, `{"submitter":"UJANE","amount":"$40","description":"x"}`, nil, 400, "amount", "not an amount in the API's form"},
		{"spaces", billingToken, `{"submitter":"UJANE","amount":" 25","description":"x"}`, nil, 400, "amount", "not an amount in the API's form"},
		{"too many decimals", billingToken, `{"submitter":"UJANE","amount":"25.001","description":"x"}`, nil, 400, "amount", "USD has 2 decimal places"},
		{"zero", billingToken, `{"submitter":"UJANE","amount":"0.00","description":"x"}`, nil, 400, "amount", "more than zero"},
		// Text that cannot be stored is refused naming its member, before anything else reads it.
		{"NUL in the description", billingToken, `{"submitter":"UJANE","amount":"25","description":"Taxi\u0000"}`, nil, 400, "description", "(U+0000, NUL) at character 5"},
		{"control in the category", billingToken, `{"submitter":"UJANE","amount":"25","description":"Taxi","category":"tra\u0007vel"}`, nil, 400, "category", "U+0007, BEL"},
		{"line break in the submitter", billingToken, `{"submitter":"UJANE\n","amount":"25","description":"Taxi"}`, nil, 400, "submitter", "one line"},
		{"invalid UTF-8", billingToken, "{\"submitter\":\"UJANE\",\"amount\":\"25\",\"description\":\"Caf\xe9\"}", nil, 400, "description", "not valid UTF-8"},
		{"invalid UTF-8 outside a member", billingToken, "{\"submitter\":\"UJANE\",\"amount\":\"25\",\"description\":\"x\"}\xff", nil, 400, "", "not valid UTF-8"},
		// A detail that quotes what was sent shows direction controls as U+FFFD, as Slack does.
		{"direction control quoted", billingToken, `{"submitter_email":"\u202enosliw@example.com","amount":"25","description":"x"}`, nil, 400, "submitter_email", "\ufffdnosliw@example.com"},
		{"unknown currency", billingToken, `{"submitter":"UJANE","amount":"25","currency":"ZZZ","description":"x"}`, nil, 400, "currency", "ZZZ"},
		{"no description", billingToken, `{"submitter":"UJANE","amount":"25"}`, nil, 400, "description", "what the expense was for"},
		{"bad date", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","incurred_on":"25/11/2026"}`, nil, 400, "incurred_on", "YYYY-MM-DD"},
		{"bad category", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","category":"yachts"}`, nil, 400, "category", "not a category"},
		{"http callback", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","callback_url":"http://hooks.example.com/x"}`, nil, 400, "callback_url", "https://"},
		{"loopback callback", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","callback_url":"https://127.0.0.2/x"}`, nil, 400, "callback_url", "loopback"},
		{"metadata callback", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","callback_url":"https://169.254.169.254/latest"}`, nil, 400, "callback_url", "link-local"},
		{"private callback", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","callback_url":"https://10.1.2.3/x"}`, nil, 400, "callback_url", "private"},
		{"localhost callback", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","callback_url":"https://localhost:9/x"}`, nil, 400, "callback_url", "this machine"},
		{"credentials in callback", billingToken, `{"submitter":"UJANE","amount":"25","description":"x","callback_url":"https://u:p@hooks.example.com/x"}`, nil, 400, "callback_url", "password"},
		{"bad idempotency key", billingToken, lunch, []string{"Idempotency-Key", "has space"}, 400, "Idempotency-Key", "visible ASCII"},
		{"too large", billingToken, `{"submitter":"UJANE","amount":"25","description":"` + strings.Repeat("x", api.MaxBody) + `"}`, nil, 413, "", "64 KB"},
		{"not JSON media type", billingToken, lunch, []string{"Content-Type", "text/plain"}, 415, "", "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.submit(tt.token, tt.body, tt.headers...)
			p := r.json()
			if r.status != tt.status || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d (%s), want %d: %s", r.status, r.header.Get("Content-Type"), tt.status, r.body)
			}
			if field, _ := p["field"].(string); field != tt.field {
				t.Errorf("field = %q, want %q: %s", field, tt.field, r.body)
			}
			if detail, _ := p["detail"].(string); !strings.Contains(detail, tt.detail) {
				t.Errorf("detail = %q, want it to say %q", detail, tt.detail)
			}
		})
	}
	if list, _ := e.db.Changed(context.Background(), "", time.Time{}, time.Time{}, 0, 10); len(list) != 0 {
		t.Errorf("bad requests stored %d expenses", len(list))
	}
	t.Run("AllProblemsAtOnce", func(t *testing.T) {
		r := e.submit(billingToken, `{"submitter":"UJANE","amount":"0","description":" ","category":"yachts"}`)
		if errs, _ := r.json()["errors"].([]any); len(errs) != 3 {
			t.Errorf("errors = %s, want amount, category and description", r.body)
		}
	})
	t.Run("UnknownRouteAndMethod", func(t *testing.T) {
		if r := e.call("DELETE", "/v1/expenses/1", billingToken, ""); r.status != 405 || r.header.Get("Allow") != "GET" {
			t.Errorf("DELETE = %d %v", r.status, r.header)
		}
		if r := e.call("GET", "/v2/nothing", billingToken, ""); r.status != 404 || r.json()["code"] != "not_found" {
			t.Errorf("unknown route = %d %s", r.status, r.body)
		}
		if r := e.call("GET", "/v1/expenses/abc", billingToken, ""); r.status != 400 || r.json()["field"] != "id" {
			t.Errorf("bad id = %d %s", r.status, r.body)
		}
	})
}

func TestRateLimitPerClient(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.Rate, c.Burst = 0.5, 3 })
	for i := range 3 {
		if r := e.call("GET", "/v1/expenses", billingToken, ""); r.status != 200 {
			t.Fatalf("request %d = %d", i+1, r.status)
		}
	}
	r := e.call("GET", "/v1/expenses", billingToken, "")
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Errorf("4th request = %d, Retry-After %q", r.status, r.header.Get("Retry-After"))
	}
	if r := e.call("GET", "/v1/expenses", ledgerToken, ""); r.status != 200 {
		t.Errorf("another client was limited too: %d", r.status)
	}
}

func TestWait(t *testing.T) {
	e := newEnv(t)
	n := id(t, e.submit(billingToken, lunch))
	ctx := context.Background()
	if _, err := e.db.Route(ctx, n, nil, expensebot.Route{ApprovalsRequired: 1, Reasons: []string{"over the limit"}}); err != nil {
		t.Fatal(err)
	}
	e.db.SetReviewMessage(ctx, n, "CAPPROVALS", "1700000000.000100")

	start := time.Now()
	if r := e.call("GET", "/v1/expenses/"+itoa(n)+"?wait=300ms", billingToken, ""); r.json()["status"] != "pending_review" || time.Since(start) < 300*time.Millisecond {
		t.Errorf("wait ran out early or changed the answer: %s", r.body)
	}
	waited := make(chan response)
	go func() { waited <- e.call("GET", "/v1/expenses/"+itoa(n)+"?wait=30s", billingToken, "") }()
	e.waiting(1) // the decision below comes while the request waits
	e.db.Comment(ctx, n, "UREV", "Which conference?")
	e.db.Decide(ctx, expensebot.Decision{ExpenseID: n, Reviewer: "UREV", Outcome: expensebot.Reject, Reason: "Not a conference"})
	r := <-waited
	got := r.json()
	if got["status"] != "rejected" || got["final"] != true || got["decided_by"] != "UREV" || got["reason"] != "Not a conference" {
		t.Fatalf("waited for %s", r.body)
	}
	if c, _ := got["comments"].([]any); len(c) != 1 || !strings.Contains(string(r.body), "Which conference?") {
		t.Errorf("comments = %v", got["comments"])
	}
	if links := got["links"].(map[string]any); links["slack"] != "https://fake.slack.com/archives/CAPPROVALS/p1700000000000100" {
		t.Errorf("links = %v", links)
	}
	if r := e.call("GET", "/v1/expenses/"+itoa(n)+"?wait=soon", billingToken, ""); r.status != 400 || r.json()["field"] != "wait" {
		t.Errorf("bad wait = %d %s", r.status, r.body)
	}

	t.Run("DrainEndsWaits", func(t *testing.T) {
		m := id(t, e.submit(billingToken, lunch))
		done := make(chan response)
		go func() { done <- e.call("GET", "/v1/expenses/"+itoa(m)+"?wait=60s", billingToken, "") }()
		e.waiting(1)
		e.srv.Drain()
		select {
		case r := <-done:
			if r.status != 200 || r.json()["final"] != false {
				t.Errorf("drained wait = %d %s", r.status, r.body)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Drain did not end the wait")
		}
	})
}

func TestListPages(t *testing.T) {
	e := newEnv(t)
	var mine []int64
	for range 5 {
		mine = append(mine, id(t, e.submit(billingToken, lunch)))
	}
	e.submit(ledgerToken, lunch)
	var seen []int64
	next := "/v1/expenses?limit=2&since=2020-01-01"
	for next != "" {
		r := e.call("GET", next, billingToken, "")
		if r.status != 200 {
			t.Fatalf("%s = %d %s", next, r.status, r.body)
		}
		for _, x := range r.json()["expenses"].([]any) {
			seen = append(seen, int64(x.(map[string]any)["id"].(float64)))
		}
		next, _ = r.json()["next"].(string)
	}
	if len(seen) != 5 || seen[0] != mine[0] || seen[4] != mine[4] {
		t.Errorf("pages = %v, want %v", seen, mine)
	}
	all := e.call("GET", "/v1/expenses?limit=200", auditToken, "")
	if n := len(all.json()["expenses"].([]any)); n != 6 {
		t.Errorf("read-all lists %d, want 6", n)
	}
	future := e.call("GET", "/v1/expenses?since="+time.Now().Add(time.Hour).UTC().Format(time.RFC3339), billingToken, "")
	if n := len(future.json()["expenses"].([]any)); n != 0 || future.json()["next"] != nil {
		t.Errorf("since the future = %s", future.body)
	}
	for _, bad := range []string{"since=yesterday", "limit=0", "limit=500", "cursor=bm9wZQ", "cursor=***"} {
		if r := e.call("GET", "/v1/expenses?"+bad, billingToken, ""); r.status != 400 {
			t.Errorf("%s = %d", bad, r.status)
		}
	}
}

// TestParseClients: the entries of EXPENSEBOT_API_TOKENS. The forms from before roles keep their
// meaning (name=token: submit and read; name*=token: submit and read-all); name:roles=token
// grants exactly the roles listed. To add a case, add a row.
func TestParseClients(t *testing.T) {
	got, err := api.ParseClients([]string{"billing=" + billingToken, " audit* = " + auditToken, ""})
	if err != nil || len(got) != 2 || got[1].Name != "audit" || !got[1].ReadAll || got[0].ReadAll || string(got[1].Token) != auditToken {
		t.Fatalf("ParseClients = %+v, %v", got, err)
	}
	roles := []struct {
		entry                 string
		submit, read, readAll bool
	}{
		{"billing=" + billingToken, true, true, false},
		{"audit*=" + auditToken, true, true, true},
		{"reports:read-all=" + auditToken, false, true, true},
		{"reports:read=" + auditToken, false, true, false},
		{"importer:submit=" + auditToken, true, false, false},
		{"desk : submit+read =" + auditToken, true, true, false},
		{"desk:read+submit+read-all=" + auditToken, true, true, true},
	}
	for _, tt := range roles {
		got, err := api.ParseClients([]string{tt.entry})
		if err != nil || len(got) != 1 {
			t.Errorf("%s: %v", strings.Split(tt.entry, "=")[0], err)
			continue
		}
		c := got[0]
		if c.Can(api.RoleSubmit) != tt.submit || c.Can(api.RoleRead) != tt.read || c.Can(api.RoleReadAll) != tt.readAll || strings.Contains(c.Name, ":") {
			t.Errorf("%s = %s: submit %v, read %v, read-all %v; want %v %v %v", strings.Split(tt.entry, "=")[0], c.Name,
				c.Can(api.RoleSubmit), c.Can(api.RoleRead), c.Can(api.RoleReadAll), tt.submit, tt.read, tt.readAll)
		}
	}
	for _, bad := range [][]string{
		{"billing"}, {"Billing=" + billingToken}, {"billing=short"},
		{"billing=" + billingToken, "billing=" + ledgerToken}, {"billing=" + billingToken, "ledger=" + billingToken},
		{"billing:write=" + billingToken}, {"billing:=" + billingToken}, {"billing*:read=" + billingToken}, {"billing:read,submit=" + billingToken},
	} {
		_, err := api.ParseClients(bad)
		if err == nil {
			t.Errorf("ParseClients(%q) accepted it", bad)
		} else if strings.Contains(err.Error(), "tok-") {
			t.Errorf("the error shows a token: %v", err)
		}
	}
	if s := api.Secret("tok"); s.String() != "REDACTED" {
		t.Errorf("a Secret prints as %s", s)
	}
}

// TestRoles: a client does only what its roles allow; anything else is a 403 problem that says
// what it may not do and what it holds.
func TestRoles(t *testing.T) {
	const readerToken, importerToken = "tok-reader-0123456789", "tok-importer-0123456789"
	e := newEnv(t, func(c *api.Config) {
		more, err := api.ParseClients([]string{"reports:read-all=" + readerToken, "importer:submit=" + importerToken})
		if err != nil {
			t.Fatal(err)
		}
		c.Clients = append(c.Clients, more...)
	})
	n := id(t, e.submit(billingToken, lunch))

	r := e.submit(readerToken, lunch)
	if p := r.json(); r.status != http.StatusForbidden || p["code"] != "forbidden" || !strings.Contains(p["detail"].(string), `"reports" may not submit expenses`) {
		t.Errorf("a read-only client submitted: %d %s", r.status, r.body)
	}
	if r := e.call("GET", "/v1/expenses/"+itoa(n), readerToken, ""); r.status != http.StatusOK {
		t.Errorf("a read-all client could not read: %d %s", r.status, r.body)
	}
	if r := e.call("GET", "/v1/expenses", readerToken, ""); r.status != http.StatusOK || len(r.json()["expenses"].([]any)) != 1 {
		t.Errorf("a read-all client's list = %d %s", r.status, r.body)
	}

	mine := e.submit(importerToken, lunch)
	if mine.status != http.StatusAccepted {
		t.Errorf("a submit-only client could not submit: %d %s", mine.status, mine.body)
	}
	for _, path := range []string{"/v1/expenses/" + itoa(id(t, mine)), "/v1/expenses"} {
		if r := e.call("GET", path, importerToken, ""); r.status != http.StatusForbidden || !strings.Contains(r.json()["detail"].(string), "may not read expenses") {
			t.Errorf("a submit-only client read %s: %d %s", path, r.status, r.body)
		}
	}
	if list, _ := e.db.Changed(context.Background(), "", time.Time{}, time.Time{}, 0, 10); len(list) != 2 {
		t.Errorf("%d expenses stored, want 2 (the refused submission stored nothing)", len(list))
	}
}

// TestHasRoleForTheHost: what the HTTP host asks before serving something of its own (such as
// /metrics) on the API's listener. HasRole only answers; RequireRole also answers the refusal,
// as the API does.
func TestHasRoleForTheHost(t *testing.T) {
	const submitterToken = "tok-submitter-0123456789"
	e := newEnv(t, func(c *api.Config) {
		more, _ := api.ParseClients([]string{"importer:submit=" + submitterToken})
		c.Clients = append(c.Clients, more...)
	})
	metrics := e.srv.RequireRole(api.RoleRead, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("up 1\n")) }))
	tests := []struct {
		name, auth string
		has        bool
		status     int
	}{
		{"no token", "", false, http.StatusUnauthorized},
		{"not a bearer", "Basic " + billingToken, false, http.StatusUnauthorized},
		{"unknown token", "Bearer tok-nobody-0123456789", false, http.StatusUnauthorized},
		{"read", "Bearer " + billingToken, true, http.StatusOK},
		{"read-all", "bearer " + auditToken, true, http.StatusOK},
		{"submit only", "Bearer " + submitterToken, false, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/metrics", nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if got := e.srv.HasRole(r, api.RoleRead); got != tt.has {
				t.Errorf("HasRole = %v, want %v", got, tt.has)
			}
			w := httptest.NewRecorder()
			metrics.ServeHTTP(w, r)
			if w.Code != tt.status || (tt.status != http.StatusOK) != strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
				t.Errorf("RequireRole answered %d %s %s, want %d", w.Code, w.Header().Get("Content-Type"), w.Body, tt.status)
			}
		})
	}
}

func TestWaitsPerClientAreBounded(t *testing.T) {
	e := newEnv(t, func(c *api.Config) { c.MaxWaits = 1 })
	n := id(t, e.submit(billingToken, lunch))
	done := make(chan response)
	go func() { done <- e.call("GET", "/v1/expenses/"+itoa(n)+"?wait=5s", billingToken, "") }()
	e.waiting(1)
	if r := e.call("GET", "/v1/expenses/"+itoa(n)+"?wait=5s", billingToken, ""); r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Errorf("a second wait = %d %s", r.status, r.body)
	}
	theirs := make(chan response)
	go func() { theirs <- e.call("GET", "/v1/expenses/"+itoa(n)+"?wait=5s", auditToken, "") }()
	if r := e.call("GET", "/v1/expenses/"+itoa(n), billingToken, ""); r.status != http.StatusOK {
		t.Errorf("a read without wait = %d", r.status)
	}
	e.waiting(2) // the other client's wait was admitted while billing's is held
	e.srv.Drain()
	if r := <-theirs; r.status != http.StatusOK {
		t.Errorf("another client's wait = %d: the bound is per client", r.status)
	}
	if r := <-done; r.status != http.StatusOK {
		t.Errorf("the first wait = %d", r.status)
	}
}

// TestHomeAmountShown: an expense in another currency shows what it was converted to at routing.
func TestHomeAmountShown(t *testing.T) {
	e := newEnv(t)
	n := id(t, e.submit(billingToken, `{"submitter":"UJANE","amount":"2500","currency":"EUR","description":"Hotel in Berlin"}`))
	rate := expensebot.Rate{From: "EUR", To: "USD", Value: "1.0850", Source: "ECB", Date: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
	if _, err := e.db.Route(context.Background(), n, nil, expensebot.Route{ApprovalsRequired: 1,
		HomeAmount: expensebot.Money{Minor: 271250, Currency: "USD"}, Rate: rate}); err != nil {
		t.Fatal(err)
	}
	got := e.call("GET", "/v1/expenses/"+itoa(n), billingToken, "")
	home, _ := got.json()["home_amount"].(map[string]any)
	if home["amount"] != "2712.50" || home["currency"] != "USD" || home["rate"] != "1.0850" || home["rate_date"] != "2026-11-24" || got.json()["amount"] != "2500.00" {
		t.Errorf("got %s", got.body)
	}
}
