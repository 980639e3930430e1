package approval

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// historyStore is a Store whose only working method is Related: the route needs nothing else.
type historyStore struct {
	Store
	related []expensebot.Expense
	err     error
}

func (h historyStore) Related(context.Context, string, int64, time.Time, time.Time) ([]expensebot.Expense, error) {
	return h.related, h.err
}

// euroRates converts EUR at 1.10, exactly enough for a test.
type euroRates struct{}

func (euroRates) Convert(m expensebot.Money) (expensebot.Money, expensebot.Rate, bool) {
	if m.Currency != "EUR" {
		return expensebot.Money{}, expensebot.Rate{}, false
	}
	return expensebot.Money{Minor: m.Minor * 11 / 10, Currency: "USD"}, expensebot.Rate{From: "EUR", To: "USD", Value: "1.10", Source: "test"}, true
}
func (euroRates) Run(context.Context) {}

func usd(minor int64) expensebot.Money { return expensebot.Money{Minor: minor, Currency: "USD"} }

func newTestService(st Store, draw func() float64) *Service {
	rules := policy.Rules{Currency: "USD", AutoApproveMax: usd(100000), ReviewMax: usd(1000000), ReceiptRequiredOver: usd(7500),
		MinConfidence: 0.95, SplitWindow: 72 * time.Hour}
	return New(st, nil, nil, nil, Config{ApprovalsChannel: "CAPP", Reviewers: []string{"UREV"}, Rules: rules, Rates: euroRates{},
		SpotCheckRate: 0.05, Draw: draw}, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

var (
	today     = time.Now().UTC().Truncate(24 * time.Hour)
	confident = &expensebot.Assessment{Decision: expensebot.AIApprove, Confidence: 0.99, Model: "m"}
)

func lunch(id, minor int64, currency string) expensebot.Expense {
	return expensebot.Expense{ID: id, SubmitterID: "U1", Amount: expensebot.Money{Minor: minor, Currency: currency}, Category: "equipment",
		Description: "Chair part " + string(rune('a'+id)), IncurredOn: today, ReceiptFileIDs: []string{"F"}, Status: expensebot.StatusSubmitted}
}

// TestRouteFailsClosedWithoutHistory: when the submitter's other expenses cannot be read, the
// controls could not look, so an expense the policy would approve goes to a person instead.
func TestRouteFailsClosedWithoutHistory(t *testing.T) {
	s := newTestService(historyStore{err: errors.New("connection reset")}, func() float64 { return 0 })
	r := s.route(context.Background(), lunch(1, 4000, "USD"), confident)
	if r.AutoApprove || r.SpotCheck != nil || r.Channel != "CAPP" || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "could not read") {
		t.Errorf("route = %+v", r)
	}
}

// TestRouteConvertsUnroutedHistory: an expense in another currency submitted a moment ago has no
// converted amount stored yet; the workflow converts it, so it adds to a split like the rest.
func TestRouteConvertsUnroutedHistory(t *testing.T) {
	s := newTestService(historyStore{related: []expensebot.Expense{lunch(1, 50000, "EUR")}}, func() float64 { return 0.5 })
	r := s.route(context.Background(), lunch(2, 45000, "USD"), confident)
	if r.AutoApprove || len(r.Findings) != 1 || r.Findings[0].Flag != expensebot.FlagPossibleSplit {
		t.Errorf("route = %+v", r)
	}
}

// TestSpotCheckDraw: an automatic approval is drawn with probability SpotCheckRate, recorded
// either way; a route to people is never drawn; a rate of 0 draws nothing.
func TestSpotCheckDraw(t *testing.T) {
	for _, tt := range []struct {
		draw     float64
		selected bool
	}{{0.0499, true}, {0.05, false}, {0.9, false}} {
		s := newTestService(historyStore{}, func() float64 { return tt.draw })
		r := s.route(context.Background(), lunch(1, 4000, "USD"), confident)
		if !r.AutoApprove || r.SpotCheck == nil || *r.SpotCheck != (expensebot.SpotDraw{Rate: 0.05, Draw: tt.draw, Selected: tt.selected}) {
			t.Errorf("draw %v: route = %+v, spot %+v", tt.draw, r, r.SpotCheck)
		}
	}
	s := newTestService(historyStore{}, func() float64 { return 0 })
	if r := s.route(context.Background(), lunch(1, 400000, "USD"), confident); r.AutoApprove || r.SpotCheck != nil {
		t.Errorf("a route to people was drawn: %+v", r)
	}
	s.cfg.SpotCheckRate = 0
	if r := s.route(context.Background(), lunch(1, 4000, "USD"), confident); r.SpotCheck != nil {
		t.Errorf("rate 0 drew: %+v", r.SpotCheck)
	}
}

// TestCryptoDraw: the draws are in [0, 1) and not all alike.
func TestCryptoDraw(t *testing.T) {
	seen := map[float64]bool{}
	for range 1000 {
		d := cryptoDraw()
		if d < 0 || d >= 1 {
			t.Fatalf("draw %v out of [0, 1)", d)
		}
		seen[d] = true
	}
	if len(seen) < 990 {
		t.Errorf("only %d different draws in 1000", len(seen))
	}
}
