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

// historyStore reads histories: the route needs nothing else of the store.
type historyStore struct {
	related []expensebot.Expense
	err     error
	cut     bool                 // RelatedAll says its guard cut the list short
	alone   []expensebot.Expense // what Related reads, when set: else related
	allErr  error                // RelatedAll fails with this, when set
}

func (h historyStore) Related(context.Context, string, int64, time.Time, time.Time) ([]expensebot.Expense, error) {
	if h.alone != nil {
		return h.alone, h.err
	}
	return h.related, h.err
}

func (h historyStore) RelatedAll(context.Context, []string, time.Time, time.Time) ([]expensebot.Expense, bool, error) {
	if h.allErr != nil {
		return nil, false, h.allErr
	}
	return h.related, !h.cut, h.err
}

// Receipted reads no receipts: these tests are about the submitter's own history.
func (h historyStore) Receipted(context.Context, time.Time, time.Time) ([]expensebot.Expense, error) {
	return nil, nil
}

// route routes e alone, as the router routes a group of one.
func (s *Service) routeOne(e expensebot.Expense, a *expensebot.Assessment) expensebot.Route {
	hs, errs := s.histories(context.Background(), []expensebot.Expense{e})
	return s.decide(e, a, hs[0], errs[0])
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

// newTestService is a workflow whose only store is h: what it routes reads nothing else.
func newTestService(h Histories, draw func() float64) *Service {
	rules := policy.Rules{Currency: "USD", AutoApproveMax: usd(100000), ReviewMax: usd(1000000), ReceiptRequiredOver: usd(7500),
		MinConfidence: 0.95, SplitWindow: 72 * time.Hour}
	s := New(nil, nil, nil, nil, Config{ApprovalsChannel: "CAPP", Reviewers: []string{"UREV"}, Rules: rules, Rates: euroRates{},
		SpotCheckRate: 0.05, Draw: draw}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	s.related = h
	return s
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
	r := s.routeOne(lunch(1, 4000, "USD"), confident)
	if r.AutoApprove || r.SpotCheck != nil || r.Channel != "CAPP" || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "could not read") {
		t.Errorf("route = %+v", r)
	}
}

// TestRouteConvertsUnroutedHistory: an expense in another currency submitted a moment ago has no
// converted amount stored yet; the workflow converts it, so it adds to a split like the rest.
func TestRouteConvertsUnroutedHistory(t *testing.T) {
	s := newTestService(historyStore{related: []expensebot.Expense{lunch(1, 50000, "EUR")}}, func() float64 { return 0.5 })
	r := s.routeOne(lunch(2, 45000, "USD"), confident)
	if r.AutoApprove || len(r.Findings) != 1 || r.Findings[0].Flag != expensebot.FlagPossibleSplit {
		t.Errorf("route = %+v", r)
	}
}

// TestHistoriesOfAGroup: the histories read at once for a group are each exactly what the
// submitter's own read would give: their other expenses within their own span, never someone
// else's or the expense itself. When the store's guard cut the list short, each is read alone.
func TestHistoriesOfAGroup(t *testing.T) {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func(id int64, user string, day int) expensebot.Expense {
		return expensebot.Expense{ID: id, SubmitterID: user, Amount: usd(1000), IncurredOn: month.AddDate(0, 0, day-1)}
	}
	all := []expensebot.Expense{at(1, "U1", 1), at(2, "U2", 2), at(3, "U1", 20), at(4, "U1", 20), at(5, "U2", 45)}
	s := newTestService(historyStore{related: all}, func() float64 { return 0.5 })
	hs, errs := s.histories(context.Background(), []expensebot.Expense{all[3], all[1]})
	ids := func(h policy.History) (out []int64) {
		for _, e := range h {
			out = append(out, e.ID)
		}
		return out
	}
	// #4 (U1, 20 Nov) spans November and the split window: #1 and #3, not itself, not U2's.
	// #2 (U2, 2 Nov) spans November and the days around: not #5 on 15 December.
	if got := ids(hs[0]); len(got) != 2 || got[0] != 1 || got[1] != 3 || errs[0] != nil {
		t.Errorf("#4's history = %v, %v; want [1 3]", got, errs[0])
	}
	if got := ids(hs[1]); len(got) != 0 || errs[1] != nil {
		t.Errorf("#2's history = %v, %v; want none", got, errs[1])
	}
	// Cut short by its guard, or failed: each is read alone (here Related reads something else).
	for _, st := range []historyStore{{related: all, cut: true, alone: all[4:]}, {allErr: errors.New("timeout"), alone: all[4:]}} {
		s = newTestService(st, func() float64 { return 0.5 })
		if hs, errs := s.histories(context.Background(), []expensebot.Expense{all[3]}); len(hs[0]) != 1 || hs[0][0].ID != 5 || errs[0] != nil {
			t.Errorf("read alone: history = %v, %v; want what Related read, [5]", ids(hs[0]), errs[0])
		}
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
		r := s.routeOne(lunch(1, 4000, "USD"), confident)
		if !r.AutoApprove || r.SpotCheck == nil || *r.SpotCheck != (expensebot.SpotDraw{Rate: 0.05, Draw: tt.draw, Selected: tt.selected}) {
			t.Errorf("draw %v: route = %+v, spot %+v", tt.draw, r, r.SpotCheck)
		}
	}
	s := newTestService(historyStore{}, func() float64 { return 0 })
	if r := s.routeOne(lunch(1, 400000, "USD"), confident); r.AutoApprove || r.SpotCheck != nil {
		t.Errorf("a route to people was drawn: %+v", r)
	}
	s.cfg.SpotCheckRate = 0
	if r := s.routeOne(lunch(1, 4000, "USD"), confident); r.SpotCheck != nil {
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
