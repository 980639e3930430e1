package policy

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

var nov20 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// past is another expense of submitter U1, days after nov20 (negative: before).
func past(id int64, minor int64, category, description string, days int, status expensebot.Status) expensebot.Expense {
	return expensebot.Expense{ID: id, SubmitterID: "U1", Amount: usd(minor), Category: category, Description: description,
		IncurredOn: nov20.AddDate(0, 0, days), Status: status, ReceiptFileIDs: []string{"F"}}
}

func claim(minor int64, category, description string) expensebot.Expense {
	return expensebot.Expense{ID: 100, SubmitterID: "U1", Amount: usd(minor), Category: category, Description: description,
		IncurredOn: nov20, ReceiptFileIDs: []string{"F"}}
}

// TestControls guards the finance controls at their boundaries: each case is a new claim, the
// submitter's history, and the flags (in order) and reason wanted. To add a control, add its
// flag to expensebot.ControlFlags and cases here for just inside and just outside.
func TestControls(t *testing.T) {
	rules := defaults
	rules.SplitWindow = 72 * time.Hour
	monthly := usd(200000)
	rules.Categories = map[string]CategoryRule{"travel": {MonthlyMax: &monthly}}
	const auto = expensebot.StatusAutoApproved
	tests := []struct {
		name    string
		e       expensebot.Expense
		h       History
		flags   string
		reason  string
		related string // ids on the first finding
	}{
		{"dinner claimed twice", claim(8400, "meals", "Team dinner at Luigi's"),
			History{past(7, 8400, "meals", "team dinner luigis", -1, auto)}, "possible_duplicate", "possibly claimed twice: #7 has the same amount", "7"},
		{"shorter description within the longer", claim(8400, "meals", "Dinner"),
			History{past(7, 8400, "meals", "Dinner with the Acme team", 0, auto)}, "possible_duplicate", "", "7"},
		// Only open and owed money counts: a claim that was rejected, withdrawn or expired is
		// not paid, so making it again pays it once (a reviewer sees the history on the card).
		{"rejected then claimed again", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusRejected)}, "", "", ""},
		{"withdrawn then claimed again", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusWithdrawn)}, "", "", ""},
		{"expired then claimed again", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusExpired)}, "", "", ""},
		{"a resubmission is not a duplicate of what it replaces", func() expensebot.Expense {
			e := claim(8400, "meals", "Team dinner")
			e.ResubmitOf = 7
			return e
		}(), History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusNeedsInfo)}, "", "", ""},
		{"a question waiting still counts", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusNeedsInfo)}, "possible_duplicate", "", "7"},
		{"same amount, two days apart", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", -2, auto)}, "", "", ""},
		{"same amount, other description", claim(2000, "transport", "Parking at the office"),
			History{past(7, 2000, "meals", "Lunch with a candidate", 0, auto)}, "", "", ""},
		{"one cent apart", claim(8400, "meals", "Team dinner"),
			History{past(7, 8401, "meals", "Team dinner", 0, auto)}, "", "", ""},
		{"another person's dinner", claim(8400, "meals", "Team dinner"),
			History{func() expensebot.Expense {
				o := past(7, 8400, "meals", "Team dinner", 0, auto)
				o.SubmitterID = "U2"
				return o
			}()}, "", "", ""},
		{"another currency", claim(8400, "meals", "Team dinner"),
			History{func() expensebot.Expense {
				o := past(7, 8400, "meals", "Team dinner", 0, auto)
				o.Amount.Currency = "EUR"
				return o
			}()}, "", "", ""},

		{"three parts cross the limit", claim(34000, "equipment", "Monitor, part 3"),
			History{past(8, 33000, "equipment", "Monitor part 1", 0, auto), past(9, 33000, "equipment", "Monitor part 2", 1, expensebot.StatusSubmitted)},
			"possible_split", "with #8 and #9, equipment expenses within 3 days of each other come to 1,000.00 USD, at or above the auto-approve limit of 1,000.00 USD", "8,9"},
		{"parts stay one cent below", claim(33999, "equipment", "Chair"),
			History{past(8, 33000, "equipment", "Desk", 0, auto), past(9, 33000, "equipment", "Lamp", 1, auto)}, "", "", ""},
		{"outside the window", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", -4, auto)}, "", "", ""},
		{"at the edge of the window", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 3, auto)}, "possible_split", "", "8"},
		{"another category does not add up", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "office", "Desk", 0, auto)}, "", "", ""},
		{"a part in another currency adds its conversion", claim(50000, "equipment", "Chair"),
			History{func() expensebot.Expense {
				o := past(8, 46000, "equipment", "Desk", 0, auto)
				o.Amount.Currency, o.HomeAmount = "EUR", usd(50000)
				return o
			}()}, "possible_split", "come to 1,000.00 USD", "8"},
		{"a part no rate converted adds nothing", claim(50000, "equipment", "Chair"),
			History{func() expensebot.Expense {
				o := past(8, 46000, "equipment", "Desk", 0, auto)
				o.Amount.Currency = "EUR"
				return o
			}()}, "", "", ""},
		{"a rejected part does not add up", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 0, expensebot.StatusRejected)}, "", "", ""},
		{"a withdrawn part does not add up", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 0, expensebot.StatusWithdrawn)}, "", "", ""},
		{"an expired part does not add up", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 0, expensebot.StatusExpired)}, "", "", ""},
		{"a part over the limit was reviewed on its own", claim(50000, "equipment", "Chair"),
			History{past(8, 120000, "equipment", "Desk", 0, expensebot.StatusApproved)}, "", "", ""},
		{"the claim itself over the limit is not a split", claim(120000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 0, auto)}, "", "", ""},

		{"month over its limit", claim(60000, "travel", "Train to Leeds"),
			History{past(10, 90000, "travel", "Hotel", -19, expensebot.StatusApproved), past(11, 50001, "travel", "Flight", 10, auto)},
			"over_monthly_max", "travel expenses of November 2026 come to 2,000.01 USD with this one, over the limit of 2,000.00 USD per person per month", ""},
		{"month at its limit", claim(60000, "travel", "Train to Leeds"),
			History{past(10, 90000, "travel", "Hotel", -19, expensebot.StatusApproved), past(11, 50000, "travel", "Flight", 10, auto)}, "", "", ""},
		{"last month does not count", claim(60000, "travel", "Train to Leeds"),
			History{past(10, 150000, "travel", "Hotel", -20, expensebot.StatusApproved)}, "", "", ""},
		{"a rejected expense does not count", claim(60000, "travel", "Train to Leeds"),
			History{past(10, 150000, "travel", "Hotel", -5, expensebot.StatusRejected)}, "", "", ""},
		{"a withdrawn expense does not count", claim(60000, "travel", "Train to Leeds"),
			History{past(10, 150000, "travel", "Hotel", -5, expensebot.StatusWithdrawn)}, "", "", ""},
		{"an expired expense does not count", claim(60000, "travel", "Train to Leeds"),
			History{past(10, 150000, "travel", "Hotel", -5, expensebot.StatusExpired)}, "", "", ""},
		{"a pending expense counts", claim(60000, "travel", "Train to Leeds"),
			History{past(10, 150000, "travel", "Hotel", -5, expensebot.StatusPendingReview)}, "over_monthly_max", "come to 2,100.00 USD with this one", ""},

		{"a duplicate that is also a split", claim(60000, "equipment", "Standing desk"),
			History{past(12, 60000, "equipment", "Standing desk", 0, auto)}, "possible_duplicate,possible_split", "", "12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decide(tt.e, confident(), tt.h, rules)
			var flags []string
			for _, f := range r.Findings {
				flags = append(flags, f.Flag)
			}
			if got := strings.Join(flags, ","); got != tt.flags {
				t.Fatalf("flags = %q, want %q (reasons %q)", got, tt.flags, r.Reasons)
			}
			if tt.flags == "" {
				if tt.e.Amount.Less(defaults.AutoApproveMax) && !r.AutoApprove {
					t.Errorf("not auto-approved without a finding: %q", r.Reasons)
				}
				return
			}
			if r.AutoApprove {
				t.Errorf("a finding was auto-approved: %+v", r)
			}
			if !strings.Contains(strings.Join(r.Reasons, " | "), tt.reason) {
				t.Errorf("reasons = %q, want %q", r.Reasons, tt.reason)
			}
			var related []string
			for _, x := range r.Findings[0].Related {
				related = append(related, strconv.FormatInt(x.ID, 10))
			}
			if got := strings.Join(related, ","); got != tt.related {
				t.Errorf("related = %s, want %s", got, tt.related)
			}
		})
	}
}

// TestSplitWindowOff: a zero EXPENSEBOT_SPLIT_WINDOW turns the split check off, and only it.
func TestSplitWindowOff(t *testing.T) {
	r := Decide(claim(50000, "equipment", "Chair"), confident(), History{past(8, 50000, "equipment", "Chair", 0, "auto_approved")}, defaults)
	if len(r.Findings) != 1 || r.Findings[0].Flag != expensebot.FlagPossibleDuplicate {
		t.Errorf("findings = %+v", r.Findings)
	}
}

func TestSpan(t *testing.T) {
	r := defaults
	tests := []struct {
		day, from, to string
		window        time.Duration
	}{
		{"2026-11-20", "2026-11-01", "2026-11-30", 72 * time.Hour},
		{"2026-11-01", "2026-10-29", "2026-11-30", 72 * time.Hour},
		{"2026-11-30", "2026-11-01", "2026-12-03", 72 * time.Hour},
		{"2026-11-01", "2026-10-30", "2026-11-30", 36 * time.Hour}, // part of a day reaches all of it
		{"2026-11-30", "2026-11-01", "2026-12-01", 36 * time.Hour},
	}
	for _, tt := range tests {
		r.SplitWindow = tt.window
		d, _ := time.Parse(time.DateOnly, tt.day)
		from, to := Span(expensebot.Expense{IncurredOn: d}, r)
		if from.Format(time.RFC3339) != tt.from+"T00:00:00Z" || to.Format(time.RFC3339) != tt.to+"T00:00:00Z" {
			t.Errorf("Span(%s, %s) = %s … %s, want the dates %s … %s", tt.day, tt.window, from, to, tt.from, tt.to)
		}
	}
}

func TestSimilar(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"Team dinner at Luigi's", "team dinner luigis", true},
		{"Dinner at Luigis", "dinner, Luigi's", true},
		{"Uber", "Uber ride home", true},
		{"Taxi to the airport", "Taxi from the airport", true},
		{"Lunch", "Launch party", false},
		{"Taxi", "Lunch", false},
		{"Flights to Tokyo", "Hotel in Tokyo", false},
		{"", "Lunch", false},
		{"!!!", "???", false},
	}
	for _, tt := range tests {
		if got := similar(tt.a, tt.b); got != tt.want {
			t.Errorf("similar(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestEveryStatusInTheControls walks every status of the table through the finance controls: an
// earlier claim of the same dinner, a part of the same purchase and an expense of the same month
// weigh exactly when the table says the status counts (open or owed money). A status added later
// is weighed as its row says.
func TestEveryStatusInTheControls(t *testing.T) {
	rules := defaults
	rules.SplitWindow = 72 * time.Hour
	monthly := usd(100000)
	rules.Categories = map[string]CategoryRule{"travel": {MonthlyMax: &monthly}}
	for _, st := range expensebot.Statuses {
		t.Run(string(st), func(t *testing.T) {
			for _, c := range []struct {
				e    expensebot.Expense
				h    expensebot.Expense
				flag string
			}{
				{claim(8400, "meals", "Team dinner"), past(7, 8400, "meals", "Team dinner", 0, st), expensebot.FlagPossibleDuplicate},
				{claim(50000, "equipment", "Chair"), past(8, 50000, "equipment", "Desk", 1, st), expensebot.FlagPossibleSplit},
				{claim(60000, "travel", "Train"), past(9, 60000, "travel", "Hotel", -5, st), expensebot.FlagOverMonthlyMax},
			} {
				r := Decide(c.e, confident(), History{c.h}, rules)
				got := false
				for _, f := range r.Findings {
					got = got || f.Flag == c.flag
				}
				if want := st.Info().Counts; got != want {
					t.Errorf("%s with a %s expense: flagged %v, want %v (%q)", c.flag, st, got, want, r.Reasons)
				}
			}
		})
	}
}
