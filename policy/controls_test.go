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
			History{past(7, 8400, "meals", "team dinner luigis", -1, auto)}, "possible_duplicate", "possibly claimed twice: #7 incurred within 7 days of it, for an amount within 1 % or 1.00 USD", "7"},
		{"shorter description within the longer", claim(8400, "meals", "Dinner"),
			History{past(7, 8400, "meals", "Dinner with the Acme team", 0, auto)}, "possible_duplicate", "", "7"},
		{"rejected then claimed again", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusRejected)}, "possible_duplicate", "", "7"},
		// Nothing was decided about a withdrawn or expired claim: making it again pays it once.
		{"withdrawn then claimed again", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusWithdrawn)}, "", "", ""},
		{"expired then claimed again", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusExpired)}, "", "", ""},
		{"a question waiting still counts", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusNeedsInfo)}, "possible_duplicate", "", "7"},
		// Issue 21: the window was a day, and the amounts had to be equal to the cent.
		{"same amount, seven days apart", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", -7, auto)}, "possible_duplicate", "", "7"},
		{"same amount, eight days apart", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 8, auto)}, "", "", ""},
		{"same amount, other description", claim(2000, "transport", "Parking at the office"),
			History{past(7, 2000, "meals", "Lunch with a candidate", 0, auto)}, "", "", ""},
		{"claimed again after it was withdrawn", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusWithdrawn)}, "", "", ""},
		{"claimed again after it expired", claim(8400, "meals", "Team dinner"),
			History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusExpired)}, "", "", ""},
		{"60.00 then 60.01 for the same lunch", claim(6001, "meals", "Lunch with Acme"),
			History{past(7, 6000, "meals", "Lunch with Acme", -1, auto)}, "possible_duplicate", "", "7"},
		{"1.00 apart is within the floor", claim(6100, "meals", "Lunch with Acme"),
			History{past(7, 6000, "meals", "Lunch with Acme", -1, auto)}, "possible_duplicate", "", "7"},
		{"1.01 apart is not", claim(6101, "meals", "Lunch with Acme"),
			History{past(7, 6000, "meals", "Lunch with Acme", -1, auto)}, "", "", ""},
		{"1 % of a large amount", claim(50500, "equipment", "Monitor"),
			History{past(7, 50000, "equipment", "Monitor", -1, auto)}, "possible_duplicate,possible_split", "", "7"},
		{"another currency once converted", claim(6000, "meals", "Dinner in Paris"),
			History{func() expensebot.Expense {
				o := past(7, 5550, "meals", "Dinner in Paris", -1, auto)
				o.Amount.Currency, o.HomeAmount = "EUR", usd(6020)
				return o
			}()}, "possible_duplicate", "", "7"},
		{"the expense a resubmission replaces", func() expensebot.Expense {
			e := claim(8400, "meals", "Team dinner")
			e.ResubmitOf = 7
			return e
		}(), History{past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusRejected), past(6, 8400, "meals", "Team dinner", 0, expensebot.StatusRejected)},
			"possible_duplicate", "", "6"},
		{"the expense a resubmission replaced, two resubmissions back", func() expensebot.Expense {
			e := claim(8400, "meals", "Team dinner")
			e.ResubmitOf = 7
			return e
		}(), History{func() expensebot.Expense {
			o := past(7, 8400, "meals", "Team dinner", 0, expensebot.StatusRejected)
			o.ResubmitOf = 6
			return o
		}(), past(6, 8400, "meals", "Team dinner", 0, expensebot.StatusRejected)}, "", "", ""},
		{"another person's claim of the same bill, another photo", withFacts(claim(4000, "meals", "Team lunch"), "Luigi's", "2026-11-20", "120.00"),
			History{func() expensebot.Expense {
				o := withFacts(past(7, 12000, "meals", "Lunch with the sales team", 0, auto), "LUIGI'S", "2026-11-20", "120")
				o.SubmitterID = "U2"
				return o
			}()}, "possible_duplicate", "", "7"},
		{"another person's bill at the same merchant, another total", withFacts(claim(4000, "meals", "Team lunch"), "Luigi's", "2026-11-20", "120.00"),
			History{func() expensebot.Expense {
				o := withFacts(past(7, 4000, "meals", "Team lunch", 0, auto), "Luigi's", "2026-11-20", "40.00")
				o.SubmitterID = "U2"
				return o
			}()}, "", "", ""},
		{"the same merchant on the receipts, other words", withFacts(claim(4000, "meals", "Lunch"), "Luigi's", "2026-11-20", "40.00"),
			History{withFacts(past(7, 4010, "meals", "Client meeting", -2, auto), "Luigis", "2026-11-18", "40.10")}, "possible_duplicate", "", "7"},
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
			"possible_split", "with #8 and #9, expenses within 3 days of each other come to 1,000.00 USD, at or above the auto-approve limit of 1,000.00 USD", "8,9"},
		{"parts stay one cent below", claim(33999, "equipment", "Chair"),
			History{past(8, 33000, "equipment", "Desk", 0, auto), past(9, 33000, "equipment", "Lamp", 1, auto)}, "", "", ""},
		{"outside the window", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", -4, auto)}, "", "", ""},
		{"at the edge of the window", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 3, auto)}, "possible_split", "", "8"},
		// Issue 21: 640 #equipment + 590 #office were approved automatically twice.
		{"another category adds up", claim(59000, "office", "Desk"),
			History{past(8, 64000, "equipment", "Monitor arm", 0, auto)}, "possible_split", "come to 1,230.00 USD", "8"},
		{"a withdrawn part does not add up", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 0, expensebot.StatusWithdrawn)}, "", "", ""},
		{"an expired part does not add up", claim(50000, "equipment", "Chair"),
			History{past(8, 50000, "equipment", "Desk", 0, expensebot.StatusExpired)}, "", "", ""},
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
		{"2026-11-01", "2026-10-25", "2026-11-30", 72 * time.Hour}, // the duplicate window, 7 days, reaches further
		{"2026-11-30", "2026-11-01", "2026-12-07", 72 * time.Hour},
		{"2026-11-01", "2026-10-22", "2026-11-30", 9*24*time.Hour + time.Hour}, // part of a day reaches all of it
		{"2026-11-30", "2026-11-01", "2026-12-09", 9*24*time.Hour + time.Hour},
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

// withFacts gives e a receipt on which a model read merchant, date and total in USD.
func withFacts(e expensebot.Expense, merchant, day, total string) expensebot.Expense {
	e.Receipts = []expensebot.Receipt{{FileID: "F", Reading: &expensebot.ReceiptReading{
		Facts: expensebot.ReceiptFacts{Readable: true, Merchant: merchant, Date: day, Total: total, Currency: "USD", Confidence: 0.9},
		Check: expensebot.ReceiptCheck{Outcome: expensebot.ReceiptMatch, Total: e.Amount}}}}
	return e
}

// TestSplitOverReview guards four-eyes against splitting (issue 21): parts that together exceed
// the two-approver limit need two different approvers, as one expense of that size would, in
// any category. To add a case, give the claim, its history and the approvals wanted.
func TestSplitOverReview(t *testing.T) {
	rules := defaults
	rules.SplitWindow = 72 * time.Hour
	const approved = expensebot.StatusApproved
	tests := []struct {
		name      string
		e         expensebot.Expense
		h         History
		approvals int
		flag      string
	}{
		{"12,100 filed as 6,200 + 5,900 the same day", claim(590000, "equipment", "Laptops, second half"),
			History{past(8, 620000, "equipment", "Laptops", 0, approved)}, 2, expensebot.FlagSplitOverReview},
		{"across categories", claim(590000, "office", "Furniture"),
			History{past(8, 620000, "equipment", "Laptops", -3, expensebot.StatusPendingReview)}, 2, expensebot.FlagSplitOverReview},
		{"parts at the limit exactly", claim(400000, "equipment", "Laptops"),
			History{past(8, 600000, "equipment", "Laptops", 0, approved)}, 1, ""},
		{"outside the split window", claim(590000, "equipment", "Laptops"),
			History{past(8, 620000, "equipment", "Laptops", 4, approved)}, 1, ""},
		{"a rejected part", claim(590000, "equipment", "Laptops"),
			History{past(8, 620000, "equipment", "Laptops", 0, expensebot.StatusRejected)}, 1, ""},
		{"another person's part", claim(590000, "equipment", "Laptops"),
			History{func() expensebot.Expense {
				o := past(8, 620000, "equipment", "Laptops", 0, approved)
				o.SubmitterID = "U2"
				return o
			}()}, 1, ""},
		{"a part over the limit was reviewed by two on its own", claim(590000, "equipment", "Laptops"),
			History{past(8, 1200000, "equipment", "Servers", 0, approved)}, 1, ""},
		{"a small claim that tips the total over", claim(50000, "equipment", "Cables"),
			History{past(8, 990000, "equipment", "Servers", 0, approved)}, 2, expensebot.FlagSplitOverReview},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Decide(tt.e, confident(), tt.h, rules)
			if r.ApprovalsRequired != tt.approvals {
				t.Errorf("approvals = %d, want %d (reasons %q)", r.ApprovalsRequired, tt.approvals, r.Reasons)
			}
			var flags []string
			for _, f := range r.Findings {
				flags = append(flags, f.Flag)
			}
			if got := strings.Join(flags, ","); got != tt.flag {
				t.Errorf("flags = %q, want %q", got, tt.flag)
			}
			if r.AutoApprove {
				t.Errorf("auto-approved: %q", r.Reasons)
			}
		})
	}
}

// TestMaxAge: an expense submitted longer than EXPENSEBOT_MAX_AGE after it was incurred goes to
// a person with the reason (issue 21: dates two years back passed).
func TestMaxAge(t *testing.T) {
	rules := defaults
	rules.MaxAge = 2160 * time.Hour
	tests := []struct {
		name string
		days int // submitted this many days after it was incurred
		auto bool
	}{
		{"submitted the same day", 0, true},
		{"90 days later", 90, true},
		{"91 days later", 91, false},
		{"two years later", 730, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := claim(2000, "meals", "Lunch")
			e.CreatedAt = nov20.AddDate(0, 0, tt.days).Add(15 * time.Hour)
			r := Decide(e, confident(), nil, rules)
			if r.AutoApprove != tt.auto {
				t.Fatalf("auto = %v, want %v (reasons %q)", r.AutoApprove, tt.auto, r.Reasons)
			}
			if !tt.auto && !strings.Contains(strings.Join(r.Reasons, " | "), "incurred on 20 Nov 2026, more than 90 days before it was submitted") {
				t.Errorf("reasons = %q", r.Reasons)
			}
		})
	}
	rules.MaxAge = 0
	e := claim(2000, "meals", "Lunch")
	e.CreatedAt = nov20.AddDate(2, 0, 0)
	if r := Decide(e, confident(), nil, rules); !r.AutoApprove {
		t.Errorf("with the check off, reasons = %q", r.Reasons)
	}
}

// TestEveryStatusInTheControls walks every status of the table through the finance controls: an
// earlier claim of the same dinner weighs when the table says the status is compared for
// duplicates; a part of the same purchase and an expense of the same month weigh exactly when it
// says the status counts (open or owed money). A status added later is weighed as its row says.
func TestEveryStatusInTheControls(t *testing.T) {
	rules := defaults
	rules.SplitWindow = 72 * time.Hour
	monthly := usd(100000)
	rules.Categories = map[string]CategoryRule{"travel": {MonthlyMax: &monthly}}
	for _, st := range expensebot.Statuses {
		t.Run(string(st), func(t *testing.T) {
			info := st.Info()
			for _, c := range []struct {
				e    expensebot.Expense
				h    expensebot.Expense
				flag string
				want bool
			}{
				{claim(8400, "meals", "Team dinner"), past(7, 8400, "meals", "Team dinner", 0, st), expensebot.FlagPossibleDuplicate, info.Compared},
				{claim(50000, "equipment", "Chair"), past(8, 50000, "equipment", "Desk", 1, st), expensebot.FlagPossibleSplit, info.Counts},
				{claim(60000, "travel", "Train"), past(9, 60000, "travel", "Hotel", -5, st), expensebot.FlagOverMonthlyMax, info.Counts},
			} {
				r := Decide(c.e, confident(), History{c.h}, rules)
				got := false
				for _, f := range r.Findings {
					got = got || f.Flag == c.flag
				}
				if got != c.want {
					t.Errorf("%s with a %s expense: flagged %v, want %v (%q)", c.flag, st, got, c.want, r.Reasons)
				}
			}
		})
	}
}
