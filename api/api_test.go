package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// These tests run the API's real handlers over the real workflow and a real SQLite store; only
// Slack's directory is a fake. Every answer a test receives is checked against openapi.json
// (see spec below): an undocumented status, a member the schema does not list, or a missing
// required one fails the test that met it. To cover a new route or status, call it through
// env.call and the check comes with it.

const (
	billingToken = "tok-billing-0123456789"
	ledgerToken  = "tok-ledger-0123456789a"
	auditToken   = "tok-audit-0123456789ab"
)

type fakeDirectory struct {
	mu     sync.Mutex
	emails map[string]string
	calls  int
}

func (d *fakeDirectory) UserByEmail(_ context.Context, email string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls++
	if id, ok := d.emails[email]; ok {
		return id, nil
	}
	return "", expensebot.Errorf(expensebot.ENOTFOUND, "No one in Slack has the address %s.", email)
}

func (d *fakeDirectory) User(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, known := range d.emails {
		if known == id {
			return nil
		}
	}
	return expensebot.Errorf(expensebot.ENOTFOUND, "There is no Slack user %s.", id)
}

func (d *fakeDirectory) Permalink(_ context.Context, channel, ts string) (string, error) {
	return "https://fake.slack.com/archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", ""), nil
}

type env struct {
	t    *testing.T
	srv  *api.Server
	http *httptest.Server
	db   *store.DB
	dir  *fakeDirectory
}

var rules = policy.Rules{Currency: "USD", AutoApproveMax: expensebot.Money{Minor: 100000, Currency: "USD"},
	ReviewMax: expensebot.Money{Minor: 1000000, Currency: "USD"}, ReceiptRequiredOver: expensebot.Money{Minor: 7500, Currency: "USD"}, MinConfidence: 0.95}

func newEnv(t *testing.T, adjust ...func(*api.Config)) *env {
	t.Helper()
	clients, err := api.ParseClients([]string{"billing=" + billingToken, "ledger=" + ledgerToken, "audit*=" + auditToken})
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{Clients: clients, WebhookSecret: "whsec-test", CallbackAllow: []string{"127.0.0.1"}, Rate: 1000, Burst: 1000}
	for _, f := range adjust {
		f(&cfg)
	}
	db := storetest.Open(t, store.SQLite)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := &fakeDirectory{emails: map[string]string{"jane@example.com": "UJANE", "omar@example.com": "UOMAR"}}
	srv := api.New(db, dir, cfg, log)
	flow := approval.New(db, nil, nil, nil, approval.Config{Rules: rules, Callbacks: srv}, log)
	hs := httptest.NewServer(srv.Handler(flow))
	t.Cleanup(hs.Close)
	return &env{t: t, srv: srv, http: hs, db: db, dir: dir}
}

type response struct {
	status  int
	header  http.Header
	body    []byte
	request []byte // the JSON body sent, if any
}

func (r response) json() map[string]any {
	var m map[string]any
	json.Unmarshal(r.body, &m)
	return m
}

// call makes a request and checks the answer against the OpenAPI description.
func (e *env) call(method, path, token, body string, headers ...string) response {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.http.URL+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, body: b, request: []byte(body)}
	checkAgainstSpec(e.t, method, req.URL.Path, r)
	return r
}

func (e *env) submit(token, body string, headers ...string) response {
	e.t.Helper()
	return e.call("POST", "/v1/expenses", token, body, headers...)
}

// waiting returns once n requests are waiting for a decision: a known point, so that a test
// acts while they wait instead of sleeping and hoping they have begun.
func (e *env) waiting(n int) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.srv.Waiting() != n {
		if time.Now().After(deadline) {
			e.t.Fatalf("%d requests waiting, want %d", e.srv.Waiting(), n)
		}
		time.Sleep(time.Millisecond) // polls for a state to be reached; proves nothing by itself
	}
}

func id(t *testing.T, r response) int64 {
	t.Helper()
	n, ok := r.json()["id"].(float64)
	if !ok {
		t.Fatalf("no id in %d %s", r.status, r.body)
	}
	return int64(n)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// spec is openapi.json, decoded once.
var spec = func() map[string]any {
	var m map[string]any
	if err := json.Unmarshal(api.OpenAPI, &m); err != nil {
		panic("openapi.json: " + err.Error())
	}
	return m
}()

// operation finds the spec's operation for a request path, matching {param} segments.
func operation(method, path string) (map[string]any, string) {
	paths := spec["paths"].(map[string]any)
	for tmpl, item := range paths {
		ts, ps := strings.Split(tmpl, "/"), strings.Split(path, "/")
		if len(ts) != len(ps) {
			continue
		}
		match := true
		for i := range ts {
			if ts[i] != ps[i] && !strings.HasPrefix(ts[i], "{") {
				match = false
			}
		}
		if match {
			op, _ := item.(map[string]any)[strings.ToLower(method)].(map[string]any)
			return op, tmpl
		}
	}
	return nil, ""
}

func checkAgainstSpec(t *testing.T, method, path string, r response) {
	t.Helper()
	op, tmpl := operation(method, path)
	if op == nil {
		if r.status != http.StatusNotFound && r.status != http.StatusMethodNotAllowed {
			t.Errorf("%s %s answered %d but openapi.json has no such operation", method, path, r.status)
		}
		return
	}
	resp, ok := op["responses"].(map[string]any)[strconv.Itoa(r.status)].(map[string]any)
	if !ok {
		t.Errorf("%s %s answered %d, which openapi.json does not list: %s", method, tmpl, r.status, r.body)
		return
	}
	headers, _ := resp["headers"].(map[string]any)
	for name := range headers {
		if name == "Location" && r.header.Get(name) == "" {
			t.Errorf("%s %s %d: no %s header", method, tmpl, r.status, name)
		}
		if name == "Retry-After" && r.header.Get(name) == "" {
			t.Errorf("%s %s %d: no %s header", method, tmpl, r.status, name)
		}
	}
	ct := strings.Split(r.header.Get("Content-Type"), ";")[0]
	content, _ := resp["content"].(map[string]any)
	if _, ok := content[ct].(map[string]any); !ok {
		t.Errorf("%s %s %d: content type %q is not documented", method, tmpl, r.status, ct)
		return
	}
	at := []string{"paths", tmpl, strings.ToLower(method), "responses", strconv.Itoa(r.status), "content", ct, "schema"}
	if err := validateAt(at, r.body); err != nil {
		t.Errorf("%s %s %d does not match openapi.json: %v\nbody: %s", method, tmpl, r.status, err, r.body)
	}
	// A request the API accepted is one the document says it accepts.
	if r.status/100 == 2 && len(r.request) > 0 {
		if _, ok := op["requestBody"].(map[string]any); !ok {
			t.Errorf("%s %s took a body, which openapi.json does not describe", method, tmpl)
			return
		}
		at := []string{"paths", tmpl, strings.ToLower(method), "requestBody", "content", "application/json", "schema"}
		if err := validateAt(at, r.request); err != nil {
			t.Errorf("%s %s accepted a request openapi.json refuses: %v\nrequest: %s", method, tmpl, err, r.request)
		}
	}
}

// The schemas of openapi.json are JSON Schema 2020-12 (OpenAPI 3.1), checked with a kept
// validator: the document is one resource, each schema is compiled from its JSON pointer, and
// the $refs into components resolve within it.
var (
	schemaMu sync.Mutex
	compiler *jsonschema.Compiler
	compiled = map[string]*jsonschema.Schema{}
)

const specURL = "file:///openapi.json"

// validateAt validates a JSON document against the schema at the JSON pointer made of tokens.
func validateAt(tokens []string, doc []byte) error {
	var ptr strings.Builder
	for _, tok := range tokens {
		tok = strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
		ptr.WriteString("/" + url.PathEscape(tok))
	}
	schemaMu.Lock()
	if compiler == nil {
		spec, err := jsonschema.UnmarshalJSON(bytes.NewReader(api.OpenAPI))
		if err != nil {
			schemaMu.Unlock()
			return fmt.Errorf("openapi.json: %w", err)
		}
		compiler = jsonschema.NewCompiler()
		compiler.DefaultDraft(jsonschema.Draft2020)
		compiler.AssertFormat()
		if err := compiler.AddResource(specURL, spec); err != nil {
			schemaMu.Unlock()
			return fmt.Errorf("openapi.json: %w", err)
		}
	}
	loc := specURL + "#" + ptr.String()
	sch, ok := compiled[loc]
	if !ok {
		var err error
		if sch, err = compiler.Compile(loc); err != nil {
			schemaMu.Unlock()
			return fmt.Errorf("compile %s: %w", loc, err)
		}
		compiled[loc] = sch
	}
	schemaMu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return sch.Validate(v)
}

// TestOpenAPIDescribesTheRoutes: every operation openapi.json lists is served (not the 404 or
// 405 of an unknown route), and every route served is in openapi.json.
func TestOpenAPIDescribesTheRoutes(t *testing.T) {
	e := newEnv(t)
	for path, item := range spec["paths"].(map[string]any) {
		for method := range item.(map[string]any) {
			concrete := strings.ReplaceAll(path, "{id}", "1")
			req, _ := http.NewRequest(strings.ToUpper(method), e.http.URL+concrete, bytes.NewReader(nil))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusMethodNotAllowed || strings.Contains(string(b), "There is nothing at") {
				t.Errorf("openapi.json lists %s %s, which is not served", method, path)
			}
		}
	}
	for _, route := range api.Routes() {
		method, path, _ := strings.Cut(route, " ")
		if op, _ := operation(method, strings.ReplaceAll(path, "{id}", "1")); op == nil {
			t.Errorf("%s is served but not in openapi.json", route)
		}
	}
	r := e.call("GET", "/v1/openapi.json", "", "")
	if r.status != http.StatusOK || !bytes.Equal(r.body, api.OpenAPI) {
		t.Errorf("GET /v1/openapi.json = %d", r.status)
	}
	if spec["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v, want 3.1.0", spec["openapi"])
	}
}

// TestOpenAPICheckerRefuses: the check every answer goes through refuses what the document
// refuses, so that an answer passing it means something.
func TestOpenAPICheckerRefuses(t *testing.T) {
	submit := []string{"paths", "/v1/expenses", "post", "requestBody", "content", "application/json", "schema"}
	const valid = `{"submitter": "U0ALICE", "amount": "25.00", "description": "Taxi", "category": "travel", "incurred_on": "2026-11-24"}`
	if err := validateAt(submit, []byte(valid)); err != nil {
		t.Fatalf("a valid submission refused: %v", err)
	}
	for name, doc := range map[string]string{
		"an unknown member":       `{"submitter": "U0ALICE", "amount": "25.00", "description": "Taxi", "tip": "5"}`,
		"a missing member":        `{"submitter": "U0ALICE", "description": "Taxi"}`,
		"an amount as a number":   `{"submitter": "U0ALICE", "amount": 25, "description": "Taxi"}`,
		"a grouped amount":        `{"submitter": "U0ALICE", "amount": "2,500", "description": "Taxi"}`,
		"a category not in enum":  `{"submitter": "U0ALICE", "amount": "25.00", "description": "Taxi", "category": "fun"}`,
		"not a date":              `{"submitter": "U0ALICE", "amount": "25.00", "description": "Taxi", "incurred_on": "yesterday"}`,
		"a description too long":  `{"submitter": "U0ALICE", "amount": "25.00", "description": "` + strings.Repeat("x", 1001) + `"}`,
		"a callback of no schema": `{"id": "1:approved"}`,
	} {
		at := submit
		if strings.HasPrefix(name, "a callback") {
			at = []string{"components", "schemas", "Callback"}
		}
		if err := validateAt(at, []byte(doc)); err == nil {
			t.Errorf("%s: accepted %.80s", name, doc)
		}
	}
}
