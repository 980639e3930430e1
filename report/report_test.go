package report

import (
	"reflect"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

var (
	start = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	end   = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	rules = policy.Rules{Currency: "USD", AutoApproveMax: usd(100000), ReviewMax: usd(1000000), ReceiptRequiredOver: usd(7500), MinConfidence: 0.95}
)

func usd(minor int64) expensebot.Money { return expensebot.Money{Minor: minor, Currency: "USD"} }

// things describe x's expenses with words no two of which are alike: the duplicate control
// compares descriptions of amounts within 1.00 of each other.
var things = []string{"Apples", "Bread", "Chairs", "Diary", "Eagle poster", "Flute", "Grapes", "Honey", "Igloo kit", "Jelly", "Kettle", "Lamp"}

// x is an expense of U1 submitted on day d of November with the AI's advice (confidence c,
// decision approve), in status st; a person's decision took wait.
func x(id int64, category string, minor int64, c float64, st expensebot.Status, wait time.Duration, flags ...string) expensebot.Expense {
	created := start.AddDate(0, 0, int(id))
	e := expensebot.Expense{ID: id, SubmitterID: "U1", Amount: usd(minor), Category: category, Description: things[id%int64(len(things))],
		IncurredOn: created, CreatedAt: created, Status: st, ReceiptFileIDs: []string{"F"},
		Assessment: &expensebot.Assessment{Decision: expensebot.AIApprove, Confidence: c, Flags: flags}}
	switch st {
	case expensebot.StatusApproved, expensebot.StatusRejected, expensebot.StatusPaid: // paid after people approved it
		e.DecidedBy, e.DecidedAt = "UREV", created.Add(wait)
	case expensebot.StatusAutoApproved:
		e.DecidedBy, e.DecidedAt = expensebot.ActorPolicy, created
	case expensebot.StatusWithdrawn:
		e.DecidedBy, e.DecidedAt = "U1", created.Add(wait)
	case expensebot.StatusExpired:
		e.DecidedBy, e.DecidedAt = expensebot.ActorSystem, created.Add(wait)
	case expensebot.StatusSubmitted, expensebot.StatusAssessing, expensebot.StatusPendingReview, expensebot.StatusNeedsInfo:
	}
	return e
}

// TestSummarize checks every number of a small month by hand. To add a measure, add the
// expenses that move it and its expected value.
func TestSummarize(t *testing.T) {
	const h = time.Hour
	list := []expensebot.Expense{
		x(1, "meals", 4000, 0.99, expensebot.StatusAutoApproved, 0),
		x(2, "meals", 4100, 0.97, expensebot.StatusAutoApproved, 0),
		x(3, "meals", 4200, 0.92, expensebot.StatusApproved, 2*h),                 // low confidence; people agreed
		x(4, "meals", 4300, 0.91, expensebot.StatusRejected, 4*h),                 // low confidence; people did not
		x(5, "meals", 4400, 0.85, expensebot.StatusApproved, 6*h),                 // lower still
		x(6, "travel", 250000, 0.99, expensebot.StatusApproved, 10*h),             // over the limit
		x(7, "travel", 4500, 0.99, expensebot.StatusPendingReview, 0, "personal"), // flagged, waiting
		x(8, "travel", 4600, 0.6, expensebot.StatusRejected, 30*h, "personal", "suspicious"),
		x(9, "meals", 4700, 0.99, expensebot.StatusSubmitted, 0), // not routed yet: not counted
	}
	before := x(0, "meals", 3900, 0.99, expensebot.StatusAutoApproved, 0)
	before.CreatedAt = start.Add(-time.Hour) // history only
	list = append([]expensebot.Expense{before}, list...)
	list[7].Findings = []expensebot.Finding{{Flag: expensebot.FlagPossibleDuplicate}}

	s := Summarize(Input{Expenses: list, From: start, Until: end, Rules: rules,
		SpotChecks: []expensebot.SpotCheck{{Status: expensebot.SpotCheckDrawn}, {Status: expensebot.SpotCheckFlagged}, {Status: expensebot.SpotCheckConfirmed}}})

	want := []Line{
		{Category: "meals", Routed: 5, AutoApproved: 2, ToPeople: 3, Approved: 2, Rejected: 1, AdvisedApprove: 3, AgreedApprove: 2, MedianDecision: 4 * h},
		{Category: "travel", Routed: 3, ToPeople: 3, Approved: 1, Rejected: 1, Pending: 1, AdvisedApprove: 2, AgreedApprove: 1, MedianDecision: 20 * h},
	}
	if !reflect.DeepEqual(s.Categories, want) {
		t.Errorf("categories:\n got %+v\nwant %+v", s.Categories, want)
	}
	all := Line{Routed: 8, AutoApproved: 2, ToPeople: 6, Approved: 3, Rejected: 2, Pending: 1, AdvisedApprove: 5, AgreedApprove: 3, MedianDecision: 6 * h}
	if s.All != all {
		t.Errorf("all:\n got %+v\nwant %+v", s.All, all)
	}
	bandOf := func(low float64) Band {
		for _, b := range s.Bands {
			if b.Low == low {
				return b
			}
		}
		t.Fatalf("no band from %v", low)
		return Band{}
	}
	for _, tt := range []struct {
		low               float64
		advised, approved int
	}{{0.5, 1, 0}, {0.8, 1, 1}, {0.9, 2, 1}, {0.99, 1, 1}, {0.95, 0, 0}} {
		if b := bandOf(tt.low); b.Advised != tt.advised || b.Approved != tt.approved {
			t.Errorf("band %v: %+v, want advised %d approved %d", tt.low, b, tt.advised, tt.approved)
		}
	}
	wantFlags := []FlagCount{{"personal", 2}, {"possible_duplicate", 1}, {"suspicious", 1}}
	if !reflect.DeepEqual(s.Flags, wantFlags) {
		t.Errorf("flags = %+v", s.Flags)
	}
	if s.SpotChecks != (SpotCheckLine{Drawn: 3, Confirmed: 1, Flagged: 1}) {
		t.Errorf("spot checks = %+v", s.SpotChecks)
	}

	// What-ifs: at 0.90 the two meals at 0.92 and 0.91 would have been automatic, and people
	// rejected one of them; at 0.99 the meal at 0.97 would have gone to a person.
	at := func(c float64) Threshold {
		for _, th := range s.Thresholds {
			if th.MinConfidence == c {
				return th
			}
		}
		t.Fatalf("no threshold %v in %+v", c, s.Thresholds)
		return Threshold{}
	}
	for _, tt := range []Threshold{
		{MinConfidence: 0.9, AutoApproved: 4, NewlyAuto: 2, NewlyRejected: 1},
		{MinConfidence: 0.8, AutoApproved: 5, NewlyAuto: 3, NewlyRejected: 1},
		{MinConfidence: 0.95, Current: true, AutoApproved: 2},
		{MinConfidence: 0.99, AutoApproved: 1, NoLongerAuto: 1},
	} {
		if got := at(tt.MinConfidence); got != tt {
			t.Errorf("at %v: %+v, want %+v", tt.MinConfidence, got, tt)
		}
	}
}

// TestReplayUsesEarlierHistory: a replay weighs the submitter's earlier expenses, as routing
// did, so a duplicate is still a duplicate; the first of the two is not.
func TestReplayUsesEarlierHistory(t *testing.T) {
	a := x(1, "meals", 4000, 0.99, expensebot.StatusAutoApproved, 0)
	b := a
	b.ID, b.Status = 2, expensebot.StatusPendingReview
	other := a
	other.ID, other.SubmitterID = 3, "U2"
	rp := NewReplayer([]expensebot.Expense{a, b, other})
	if r := rp.Route(a, rules); !r.AutoApprove {
		t.Errorf("the first claim replays as %+v", r)
	}
	if r := rp.Route(b, rules); r.AutoApprove || len(r.Findings) != 1 || r.Findings[0].Related[0].ID != 1 {
		t.Errorf("the second claim replays as %+v", r)
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{{nil, 0}, {[]time.Duration{3, 1, 2}, 2}, {[]time.Duration{4, 1, 3, 2}, 2}} {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSpan(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "0m", 45 * time.Minute: "45m", 3*time.Hour + 12*time.Minute + 20*time.Second: "3h12m",
		52 * time.Hour: "2d4h"} {
		if got := Span(d); got != want {
			t.Errorf("Span(%v) = %q, want %q", d, got, want)
		}
	}
}

// columns is the sum of a line's columns under "to people".
func columns(l Line) int {
	return l.Approved + l.Rejected + l.Pending + l.NeedsInfo + l.Withdrawn + l.Expired + l.Paid
}

// TestEveryStatusHasAColumn walks every status of the table through the report: a routed
// expense lands in exactly one column, so routed is automatic plus to people and to people is the
// sum of its columns. Expenses waiting for an answer, withdrawn or expired were once lost, and
// the columns did not add up to "to people"; a status added later fails here until the report
// counts it.
func TestEveryStatusHasAColumn(t *testing.T) {
	for i, st := range expensebot.Statuses {
		t.Run(string(st), func(t *testing.T) {
			e := x(int64(i+1), "meals", 4000, 0.99, st, time.Hour)
			s := Summarize(Input{Expenses: []expensebot.Expense{e}, From: start, Until: end, Rules: rules})
			l := s.All
			if !Routed(e) {
				if l.Routed != 0 {
					t.Fatalf("not routed, yet counted: %+v", l)
				}
				return
			}
			if l.Routed != 1 || l.AutoApproved+l.ToPeople != 1 || l.AutoApproved+columns(l) != 1 {
				t.Errorf("%s: line %+v: want routed 1 in exactly one column", st, l)
			}
		})
	}
	list := []expensebot.Expense{
		x(1, "meals", 4000, 0.99, expensebot.StatusNeedsInfo, 0),
		x(2, "meals", 4000, 0.99, expensebot.StatusWithdrawn, time.Hour),
		x(3, "meals", 4000, 0.99, expensebot.StatusExpired, 2*time.Hour),
		x(4, "meals", 4000, 0.99, expensebot.StatusApproved, time.Hour),
	}
	got := Summarize(Input{Expenses: list, From: start, Until: end, Rules: rules}).All
	want := Line{Routed: 4, ToPeople: 4, Approved: 1, NeedsInfo: 1, Withdrawn: 1, Expired: 1, AdvisedApprove: 1, AgreedApprove: 1, MedianDecision: time.Hour}
	if got != want {
		t.Errorf("all = %+v\nwant %+v", got, want)
	}
}

// TestPaidKeepsItsRoute: a paid expense is counted where it was routed: one people approved in
// the paid column of "to people", one the policy approved as automatic; people's approval still
// counts in the AI's agreement.
func TestPaidKeepsItsRoute(t *testing.T) {
	byPeople := x(1, "meals", 4000, 0.99, expensebot.StatusPaid, time.Hour)
	byPolicy := x(2, "meals", 4000, 0.99, expensebot.StatusAutoApproved, 0)
	byPolicy.Status = expensebot.StatusPaid
	got := Summarize(Input{Expenses: []expensebot.Expense{byPeople, byPolicy}, From: start, Until: end, Rules: rules}).All
	want := Line{Routed: 2, AutoApproved: 1, ToPeople: 1, Paid: 1, AdvisedApprove: 1, AgreedApprove: 1, MedianDecision: time.Hour}
	if got != want {
		t.Errorf("all = %+v\nwant %+v", got, want)
	}
}
