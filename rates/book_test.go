package rates

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expensebot/expensebot"
)

// memStore is the rates cache of a database, in memory.
type memStore struct {
	mu   sync.Mutex
	docs map[string][]byte
	err  error
}

func (m *memStore) SaveRates(_ context.Context, url string, doc []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.docs == nil {
		m.docs = map[string][]byte{}
	}
	m.docs[url] = doc
	return nil
}

func (m *memStore) Rates(_ context.Context, url string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.docs[url], m.err
}

var _ Store = (*memStore)(nil)

var ctx = context.Background()

func nov(day, hour int) func() time.Time {
	return func() time.Time { return time.Date(2026, 11, day, hour, 0, 0, 0, time.UTC) }
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func ecbDaily(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/eurofxref-daily.xml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ecbServer serves the ECB fixture, or what serve says.
func ecbServer(t *testing.T, serve http.HandlerFunc) *httptest.Server {
	t.Helper()
	if serve == nil {
		doc := ecbDaily(t)
		serve = func(w http.ResponseWriter, r *http.Request) { w.Write(doc) }
	}
	srv := httptest.NewServer(serve)
	t.Cleanup(srv.Close)
	return srv
}

func mustOpen(t *testing.T, cfg Config, st Store) *Book {
	t.Helper()
	b, err := Open(ctx, cfg, st, quiet())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBookConvert(t *testing.T) {
	srv := ecbServer(t, nil)
	b := mustOpen(t, Config{Home: "USD", File: "testdata/rates.csv", URL: srv.URL, Now: nov(25, 12)}, nil)
	if _, _, ok := b.Convert(money(100, "CHF")); ok {
		t.Error("CHF converted before the ECB's rates were fetched")
	}
	if err := b.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		m      expensebot.Money
		want   expensebot.Money
		source string
	}{
		{money(990000, "EUR"), money(1074150, "USD"), "rates.csv"}, // the file first
		{money(10000, "CHF"), money(11605, "USD"), "ECB"},          // then the ECB: 1.085/0.935
		{money(4250, "USD"), money(4250, "USD"), ""},               // home
	}
	for _, tt := range tests {
		got, r, ok := b.Convert(tt.m)
		if !ok || got != tt.want || r.Source != tt.source {
			t.Errorf("Convert(%s) = %s from %q (%v), want %s from %q", tt.m, got, r.Source, ok, tt.want, tt.source)
		}
	}
	got, r, ok := b.Convert(money(100, "AED"))
	if ok || got != (expensebot.Money{Currency: "USD"}) || r != (expensebot.Rate{From: "AED", To: "USD"}) {
		t.Errorf("no rate anywhere: %s %+v %v", got, r, ok)
	}
}

// TestBookStaleRates: a rate quoted more than MaxAge ago is not used; a fresher one from another
// source is, and when there is none the stale one is returned for the reason on the card.
func TestBookStaleRates(t *testing.T) {
	now := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Add(DefaultMaxAge) // EUR's date + 7 days: still fresh
	b := mustOpen(t, Config{Home: "USD", File: "testdata/rates.csv", Now: func() time.Time { return now }}, nil)
	if _, _, ok := b.Convert(money(100, "EUR")); !ok {
		t.Error("a rate exactly MaxAge old is still used")
	}
	// KWD is quoted for the 23rd: a day older.
	_, r, ok := b.Convert(money(100, "KWD"))
	if ok || r.Value != "3.2567" || r.Source != "rates.csv" || r.Date.Format(time.DateOnly) != "2026-11-23" {
		t.Errorf("stale KWD = %+v, %v; want not ok with the stale rate", r, ok)
	}
	short := mustOpen(t, Config{Home: "USD", File: "testdata/rates.csv", MaxAge: 24 * time.Hour, Now: nov(25, 1)}, nil)
	if _, _, ok := short.Convert(money(100, "EUR")); ok {
		t.Error("MaxAge of a day: a rate for the 24th is too old on the 25th at 01:00")
	}
	// The fetched rates take over where the file's are stale.
	old := t.TempDir() + "/old.csv"
	os.WriteFile(old, []byte("from,to,rate,date\nEUR,USD,1.0000,2026-11-10\n"), 0o644)
	srv := ecbServer(t, nil)
	both := mustOpen(t, Config{Home: "USD", File: old, URL: srv.URL, Now: nov(25, 13)}, nil)
	if _, r, ok := both.Convert(money(100, "EUR")); ok || r.Value != "1.0000" {
		t.Errorf("before the fetch, only the stale file's rate: %+v %v", r, ok)
	}
	both.Refresh(ctx)
	if _, r, ok := both.Convert(money(100, "EUR")); !ok || r.Source != "ECB" || r.Value != "1.0850" {
		t.Errorf("EUR, stale in the file and fresh from the ECB: %+v %v", r, ok)
	}
}

// TestBookCacheSurvivesRestart: fetched rates are kept in the store, and a restart without
// network converts with them.
func TestBookCacheSurvivesRestart(t *testing.T) {
	st := &memStore{}
	srv := ecbServer(t, nil)
	first := mustOpen(t, Config{Home: "USD", URL: srv.URL, Now: nov(25, 12)}, st)
	if err := first.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if doc, _ := st.Rates(ctx, srv.URL); !bytes.Equal(doc, ecbDaily(t)) {
		t.Fatalf("the fetched document was not cached: %q", doc)
	}
	url := srv.URL
	srv.Close() // the network is gone
	var logs bytes.Buffer
	again, err := Open(ctx, Config{Home: "USD", URL: url, Timeout: time.Second, Now: nov(25, 12)}, st, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "cached exchange rates loaded") || !strings.Contains(logs.String(), "date=2026-11-24") {
		t.Errorf("logs = %s", logs.String())
	}
	if err := again.Refresh(ctx); err == nil {
		t.Error("fetching from a closed server succeeded")
	}
	if got, r, ok := again.Convert(money(990000, "EUR")); !ok || got != money(1074150, "USD") || r.Source != "ECB" {
		t.Errorf("after a restart without network: %s %+v %v", got, r, ok)
	}
	// A cache of another URL is not used.
	other := mustOpen(t, Config{Home: "USD", URL: url + "/other", Now: nov(25, 12)}, st)
	if _, _, ok := other.Convert(money(100, "EUR")); ok {
		t.Error("rates cached for another URL were used")
	}
}

// TestBookFetchFailuresKeepRates: a fetch that fails in any way keeps the last good rates and
// the cached document, and fails within its timeout. It runs in a synctest bubble over a
// transport without a network: the timeout is then a deadline on the bubble's clock, which a
// slow machine does not move, so "too large" is told apart from "too slow" by what the server
// did, not by how fast this machine reads 4 MB.
func TestBookFetchFailuresKeepRates(t *testing.T) {
	good := ecbDaily(t)
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name  string
		serve http.HandlerFunc
		want  string
	}{
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 503) }, "503 Service Unavailable"},
		{"not the ECB's XML", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "<html>Maintenance</html>") }, "no <Cube time"},
		{"malformed", func(w http.ResponseWriter, r *http.Request) { w.Write(good[:len(good)/2]) }, "XML syntax error"},
		{"too large", func(w http.ResponseWriter, r *http.Request) { w.Write(bytes.Repeat([]byte(" "), maxDocument+1)) }, "larger than"},
		{"too slow", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, "deadline exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				serve := func(w http.ResponseWriter, r *http.Request) { w.Write(good) }
				client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
					rec := httptest.NewRecorder()
					serve(rec, r)
					if err := r.Context().Err(); err != nil {
						return nil, err
					}
					return rec.Result(), nil
				})}
				const url = "http://ecb.test/eurofxref-daily.xml"
				st := &memStore{}
				b := mustOpen(t, Config{Home: "USD", URL: url, Client: client, Timeout: timeout, Now: nov(25, 12)}, st)
				if err := b.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				serve = tt.serve
				start := time.Now()
				err := b.Refresh(ctx)
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Refresh error = %v, want %q", err, tt.want)
				}
				if d := time.Since(start); d > timeout {
					t.Errorf("a failed fetch took %s, more than its timeout", d)
				}
				if _, _, ok := b.Convert(money(100, "GBP")); !ok {
					t.Error("the last good rates were dropped")
				}
				if doc, _ := st.Rates(ctx, url); !bytes.Equal(doc, good) {
					t.Error("a bad document replaced the cached one")
				}
			})
		})
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(ctx, Config{Home: "XYZ"}, nil, quiet()); err == nil {
		t.Error("unknown home currency accepted")
	}
	bad := t.TempDir() + "/rates.csv"
	os.WriteFile(bad, []byte("from,to,rate,date\nEUR,USD,1.08.5,2026-11-24\n"), 0o644)
	if _, err := Open(ctx, Config{Home: "USD", File: bad}, nil, quiet()); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("a malformed rates file must stop the start: %v", err)
	}
	// A cache that cannot be read or parsed is logged and skipped: the fetch will fill it.
	for _, st := range []*memStore{{err: errors.New("db down")}, {docs: map[string][]byte{"http://x": []byte("<junk")}}} {
		var logs bytes.Buffer
		b, err := Open(ctx, Config{Home: "USD", URL: "http://x"}, st, slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil || !strings.Contains(logs.String(), "cached exchange rates unusable") {
			t.Errorf("unusable cache: err %v, logs %s", err, logs.String())
		}
		if _, _, ok := b.Convert(money(100, "EUR")); ok {
			t.Error("converted with no rates")
		}
	}
	var logs bytes.Buffer
	Open(ctx, Config{Home: "USD"}, nil, slog.New(slog.NewTextHandler(&logs, nil)))
	if !strings.Contains(logs.String(), "no exchange rates configured") {
		t.Errorf("no warning without rates: %s", logs.String())
	}
}

// roundTrip serves requests from a function, without a network, so that the schedule test can
// run in a synctest bubble.
type roundTrip func(*http.Request) (*http.Response, error)

func (f roundTrip) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRunSchedule: Run fetches at once, retries an hour after a failure, then daily, and returns
// when its context ends.
func TestRunSchedule(t *testing.T) {
	doc := ecbDaily(t)
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var fetches []time.Time
		client := &http.Client{Transport: roundTrip(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			defer mu.Unlock()
			fetches = append(fetches, time.Now())
			if len(fetches) == 1 {
				return nil, errors.New("network down")
			}
			return &http.Response{StatusCode: 200, Status: "200 OK", Body: io.NopCloser(bytes.NewReader(doc))}, nil
		})}
		b := mustOpen(t, Config{Home: "USD", URL: "http://ecb.test/eurofxref-daily.xml", Client: client, Now: nov(25, 12)}, &memStore{})
		start := time.Now()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { b.Run(ctx); close(done) }()
		time.Sleep(49 * time.Hour)
		synctest.Wait()
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		var at []time.Duration
		for _, f := range fetches {
			at = append(at, f.Sub(start))
		}
		want := []time.Duration{0, time.Hour, 25 * time.Hour, 49 * time.Hour}
		if len(at) != len(want) {
			t.Fatalf("fetches at %v, want %v", at, want)
		}
		for i := range want {
			if at[i] != want[i] {
				t.Errorf("fetches at %v, want %v", at, want)
				break
			}
		}
		if _, _, ok := b.Convert(money(100, "EUR")); !ok {
			t.Error("no rates after the retry")
		}
	})
}

func TestRunWithoutSourcesReturns(t *testing.T) {
	b := mustOpen(t, Config{Home: "USD"}, nil)
	done := make(chan struct{})
	go func() { b.Run(context.Background()); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run with nothing to refresh did not return")
	}
}
