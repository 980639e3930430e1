package web_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expensebot/expensebot/api"
	"github.com/expensebot/expensebot/metrics"
	"github.com/expensebot/expensebot/web"
)

type countingDB struct{ pings atomic.Int64 }

func (d *countingDB) Ping(context.Context) error { d.pings.Add(1); return nil }

// TestAnonymousTrafficCostsNoQuery: health checks and scrapes, on either listener, read what the
// probe found; only the probe pings the database. On the API's listener /metrics needs a
// client's token, and the rest goes to the API.
func TestAnonymousTrafficCostsNoQuery(t *testing.T) {
	const token = "tok-ops-0123456789abcdef"
	db := &countingDB{}
	var backlogReads atomic.Int64
	m := metrics.New(func(context.Context) ([]metrics.Backlog, error) { backlogReads.Add(1); return nil, nil })
	apiHandler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("api:" + r.URL.Path)) })
	h := web.New(web.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Connected: func() bool { return true }, DB: db,
		Metrics: m, API: apiHandler, Clients: []api.Client{{Name: "ops", Token: token}}, ProbeEvery: time.Hour, DrainTimeout: time.Second})
	public, internal := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		h.Run(ctx, web.Listener{Listener: public, Public: true}, web.Listener{Listener: internal})
	}()
	defer func() { cancel(); <-done }()
	pub, in := "http://"+public.Addr().String(), "http://"+internal.Addr().String()
	waitServing(t, in+"/healthz")
	pingsBefore, readsBefore := db.pings.Load(), backlogReads.Load()
	for range 50 {
		for _, u := range []string{in + "/healthz", in + "/readyz", in + "/metrics", pub + "/healthz", pub + "/readyz", pub + "/metrics"} {
			get(t, u, "")
		}
	}
	if p, r := db.pings.Load()-pingsBefore, backlogReads.Load()-readsBefore; p != 0 || r != 0 {
		t.Errorf("300 anonymous requests cost %d pings and %d backlog reads, want none", p, r)
	}
	tests := []struct {
		url, bearer string
		code        int
		want        string
	}{
		{in + "/readyz", "", 200, `"database":"ok"`},
		{in + "/metrics", "", 200, "expensebot_outbox_backlog_up 1"},
		{pub + "/metrics", "", 401, "needs a client's token"},
		{pub + "/metrics", "tok-not-a-client-0123456789", 401, "needs a client's token"},
		{pub + "/metrics", token, 200, "expensebot_outbox_backlog_up 1"},
		{pub + "/v1/openapi.json", "", 200, "api:/v1/openapi.json"},
		{in + "/v1/openapi.json", "", 404, ""},
	}
	for _, tt := range tests {
		code, body := get(t, tt.url, tt.bearer)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s (token %q) = %d %q, want %d with %q", tt.url, tt.bearer, code, body, tt.code, tt.want)
		}
	}
}

func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

func waitServing(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
	}
	t.Fatalf("%s never answered", url)
}

func get(t *testing.T, url, bearer string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
