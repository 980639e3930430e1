package handlers

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/home"
	"github.com/expensebot/expensebot/report"
	"github.com/slack-go/slack"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

var (
	decided = time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC)
	base    = expensebot.Expense{ID: 42, SubmitterID: "UEMP", Amount: expensebot.Money{Minor: 250000, Currency: "USD"},
		Category: "travel", Description: "Conference travel to Berlin <!channel> & friends", IncurredOn: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		Status: expensebot.StatusPendingReview, ApprovalsRequired: 1, ReviewReasons: []string{"2,500.00 USD is at or above the auto-approve limit of 1,000.00 USD"},
		Assessment:     &expensebot.Assessment{Decision: "approve", Confidence: 0.97, ConfidenceSource: "logprobs", Model: "gpt-4o-mini", Reasons: []string{"ordinary conference travel"}},
		ReceiptFileIDs: []string{"F1"}}
	// testReceiptRule is the default 75.00 USD and a policy file's own limit for travel.
	testReceiptRule = receiptRule{Over: expensebot.Money{Minor: 7500, Currency: "USD"},
		ByCategory: map[string]expensebot.Money{"travel": {Minor: 20000, Currency: "USD"}}}
)

func related(id int64, description string, status expensebot.Status, ts string) expensebot.Related {
	r := expensebot.RelatedOf(expensebot.Expense{ID: id, Amount: expensebot.Money{Minor: 33000, Currency: "USD"}, Category: "travel",
		Description: description, IncurredOn: time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC), Status: status})
	if ts != "" {
		r.Channel, r.MessageTS = "CAPPROVALS", ts
	}
	return r
}

// questioned is base waiting for the answer to a delegate's question.
var questioned = with(func(e *expensebot.Expense) {
	e.Status, e.Question, e.QuestionBy, e.QuestionFor, e.PausedAt = expensebot.StatusNeedsInfo, "Which <client>?", "UDEL", "UREV1", decided
})

func with(f func(*expensebot.Expense)) expensebot.Expense {
	e := base
	f(&e)
	return e
}

// golden compares v's JSON with testdata/golden/name.json (go test -update rewrites it).
func golden(t *testing.T, name string, v any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // golden diffs read like the Block Kit Builder
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./handlers -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed; if intended, run go test ./handlers -update and review the diff.\ngot:\n%s", name, got)
	}
}

func TestViewsGolden(t *testing.T) {
	links := map[string]string{"F1": "https://files.example/F1"}
	tests := map[string]any{
		"approval_pending":   approvalMessage(base, links, nil),
		"approval_two_first": approvalMessage(with(func(e *expensebot.Expense) { e.ApprovalsRequired, e.FirstApprover = 2, "UREV1" }), links, nil),
		"approval_ai_failed": approvalMessage(with(func(e *expensebot.Expense) {
			e.Assessment = &expensebot.Assessment{Error: "timed out after 10s"}
			e.ReceiptFileIDs = nil
		}), nil, nil),
		"approval_ai_off": approvalMessage(with(func(e *expensebot.Expense) { e.Assessment = nil }), links, nil),
		"approval_offline": approvalMessage(with(func(e *expensebot.Expense) {
			e.Assessment = &expensebot.Assessment{Decision: "review", Confidence: 0.6, ConfidenceSource: "model", Offline: true}
		}), links, nil),
		"approval_approved": approvalMessage(with(func(e *expensebot.Expense) {
			e.Status, e.DecidedBy, e.DecidedAt = expensebot.StatusApproved, "UREV1", decided
		}), links, nil),
		"approval_rejected": approvalMessage(with(func(e *expensebot.Expense) {
			e.Status, e.DecidedBy, e.DecidedAt, e.DecisionReason = expensebot.StatusRejected, "UREV1", decided, "Personal <trip>"
		}), links, nil),
		"approval_converted": approvalMessage(with(func(e *expensebot.Expense) {
			e.Amount, e.ApprovalsRequired = expensebot.Money{Minor: 990000, Currency: "EUR"}, 2
			e.HomeAmount = expensebot.Money{Minor: 1074150, Currency: "USD"}
			e.Rate = expensebot.Rate{From: "EUR", To: "USD", Value: "1.0850", Source: "ECB", Date: time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)}
			e.ReviewReasons = []string{"9,900.00 EUR (10,741.50 USD) is at or above the auto-approve limit of 1,000.00 USD", "over 10,000.00 USD: two different reviewers must approve"}
		}), links, nil),
		"approval_no_rate": approvalMessage(with(func(e *expensebot.Expense) {
			e.Amount, e.ApprovalsRequired = expensebot.Money{Minor: 990000, Currency: "EUR"}, 2
			e.HomeAmount = expensebot.Money{Currency: "USD"}
			e.ReviewReasons = []string{"no exchange rate from EUR to USD is known: the amount counts as over 10,000.00 USD, so it is never approved automatically and two different reviewers must approve"}
		}), links, nil),
		"received":            receivedMessage(base, true),
		"received_rlo":        receivedMessage(with(func(e *expensebot.Expense) { e.Description = "Team lunch \u202e00.09\u202c" }), true),
		"help":                helpMessage("USD"),
		"history":             historyMessage([]expensebot.Expense{base, with(func(e *expensebot.Expense) { e.ID, e.Status = 41, expensebot.StatusAutoApproved })}),
		"history_empty":       historyMessage(nil),
		"dm_routed":           submitterNotice(base, expensebot.Notice{Event: expensebot.EventRouted}),
		"dm_routed_api":       submitterNotice(with(func(e *expensebot.Expense) { e.SubmittedBy = "api:travel-desk" }), expensebot.Notice{Event: expensebot.EventRouted}),
		"dm_approved":         submitterNotice(base, expensebot.Notice{Event: expensebot.EventApproved, Actor: "UREV1"}),
		"dm_rejected":         submitterNotice(with(func(e *expensebot.Expense) { e.DecisionReason = "Personal" }), expensebot.Notice{Event: expensebot.EventRejected, Actor: "UREV1"}),
		"dm_first_approval":   submitterNotice(base, expensebot.Notice{Event: expensebot.EventFirstApproval, Actor: "UREV1"}),
		"dm_auto_approved":    submitterNotice(base, expensebot.Notice{Event: expensebot.EventAutoApproved}),
		"comment":             commentNotice(base, expensebot.Notice{Actor: "UREV1", Text: "Which <client>?"}, false),
		"modal_expense":       expenseModal("USD", decided, testReceiptRule),
		"modal_received":      receivedModal(base),
		"modal_reject":        rejectModal(base, "CAPPROVALS"),
		"modal_comment":       commentModal(base, "CAPPROVALS"),
		"home_employee":       homeView(home.View{Mine: []expensebot.Expense{base}, Totals: []expensebot.Total{{Status: expensebot.StatusPendingReview, Count: 1, Sum: base.Amount}}}),
		"home_reviewer":       homeView(home.View{Reviewer: true, Queue: []expensebot.Expense{base, with(func(e *expensebot.Expense) { e.ID, e.ApprovalsRequired = 43, 2 })}, QueueTotal: 25}),
		"home_reviewer_empty": homeView(home.View{Reviewer: true}),
		"home_money": homeView(home.View{
			Mine: []expensebot.Expense{base},
			Totals: []expensebot.Total{{Status: expensebot.StatusApproved, Count: 2, Sum: expensebot.Money{Minor: 254250, Currency: "USD"}},
				{Status: expensebot.StatusAutoApproved, Count: 5, Sum: expensebot.Money{Minor: 12000, Currency: "USD"}},
				{Status: expensebot.StatusAutoApproved, Count: 1, Sum: expensebot.Money{Minor: 9000, Currency: "EUR"}},
				{Status: expensebot.StatusPaid, Count: 4, Sum: expensebot.Money{Minor: 80000, Currency: "USD"}}},
			Owed: []expensebot.Expense{with(func(e *expensebot.Expense) { e.Status, e.DecidedAt = expensebot.StatusApproved, decided })},
			Paid: []expensebot.Expense{with(func(e *expensebot.Expense) {
				e.ID, e.Status, e.DecidedAt, e.ExportBatch = 40, expensebot.StatusPaid, decided, 12
				e.PaidAt, e.PaidBy, e.PaidReference = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), "Fiona", "TRX <2026>-12"
			})},
		}),
		"approval_findings": approvalMessage(with(func(e *expensebot.Expense) {
			e.Amount = expensebot.Money{Minor: 34000, Currency: "USD"}
			a := *e.Assessment // base's assessment is shared: change a copy
			a.Flags = []string{"personal"}
			e.Assessment = &a
			e.ReviewReasons = []string{"possibly one purchase split up: with #40 and #41, travel expenses within 3 days of each other come to 1,000.00 USD, at or above the auto-approve limit of 1,000.00 USD"}
			e.Findings = []expensebot.Finding{
				{Flag: expensebot.FlagPossibleDuplicate, Related: []expensebot.Related{related(39, "Conference travel to Berlin", expensebot.StatusRejected, "")}},
				{Flag: expensebot.FlagPossibleSplit, Related: []expensebot.Related{
					related(40, "Train to Berlin <!here>", expensebot.StatusAutoApproved, ""),
					related(41, "Hotel *Berlin*", expensebot.StatusPendingReview, "1700000000.000100"),
				}},
				{Flag: expensebot.FlagOverMonthlyMax},
			}
		}), links, map[int64]string{41: "https://slack.example/archives/CAPPROVALS/p1700000000000100"}),
		"approval_split_over_review": approvalMessage(with(func(e *expensebot.Expense) {
			e.Amount, e.ApprovalsRequired = expensebot.Money{Minor: 590000, Currency: "USD"}, 2
			e.ReviewReasons = []string{"possibly one purchase split up: with #40, expenses within 3 days of each other come to 12,100.00 USD, over 10,000.00 USD: two different reviewers must approve"}
			e.Findings = []expensebot.Finding{{Flag: expensebot.FlagSplitOverReview, Related: []expensebot.Related{
				related(40, "Laptops for the new team", expensebot.StatusApproved, "1700000000.000100"),
			}}}
		}), links, map[int64]string{40: "https://slack.example/archives/CAPPROVALS/p1700000000000100"}),
		"spot_check": spotCheckMessage(with(func(e *expensebot.Expense) {
			e.Amount, e.Status, e.DecidedBy, e.DecidedAt = expensebot.Money{Minor: 4250, Currency: "USD"}, expensebot.StatusAutoApproved, expensebot.ActorPolicy, decided
			e.ReviewReasons = []string{"below 1,000.00 USD, AI approved with confidence 0.97 and raised no flag"}
		}), expensebot.SpotCheck{ExpenseID: 42, Rate: 0.05, Draw: 0.0123456, Status: expensebot.SpotCheckDrawn}, links),
		"spot_check_flagged": spotCheckMessage(with(func(e *expensebot.Expense) {
			e.Status, e.ReviewReasons = expensebot.StatusAutoApproved, nil
		}), expensebot.SpotCheck{ExpenseID: 42, Rate: 0.05, Draw: 0.01, Status: expensebot.SpotCheckFlagged, CheckedBy: "UREV1", CheckedAt: decided, Finding: "Receipt is for <another> date"}, nil),
		"spot_check_confirmed": spotCheckMessage(with(func(e *expensebot.Expense) { e.Status = expensebot.StatusAutoApproved }),
			expensebot.SpotCheck{ExpenseID: 42, Rate: 0.125, Draw: 0.1, Status: expensebot.SpotCheckConfirmed, CheckedBy: "UREV2", CheckedAt: decided}, nil),
		"spot_check_cleared": spotCheckMessage(with(func(e *expensebot.Expense) { e.Status = expensebot.StatusAutoApproved }),
			expensebot.SpotCheck{ExpenseID: 42, Rate: 0.05, Draw: 0.01, Status: expensebot.SpotCheckCleared, CheckedBy: "UREV1", CheckedAt: decided, Finding: "Receipt is for <another> date",
				SettledBy: "UFIN", SettledAt: decided.Add(time.Hour), Settlement: "Right receipt sent & checked"}, nil),
		"spot_check_upheld": spotCheckMessage(with(func(e *expensebot.Expense) { e.Status = expensebot.StatusAutoApproved }),
			expensebot.SpotCheck{ExpenseID: 42, Rate: 0.05, Draw: 0.01, Status: expensebot.SpotCheckUpheld, CheckedBy: "UREV1", CheckedAt: decided, Finding: "Receipt is for <another> date",
				SettledBy: "UFIN", SettledAt: decided.Add(time.Hour), Settlement: "A personal <trip>"}, nil),
		"spot_finance":         financeMessage(base, expensebot.Notice{Actor: "UREV1", Text: "Receipt is for <another> date"}, []string{"UFIN", "S0FINANCE"}),
		"spot_finance_cleared": financeMessage(base, expensebot.Notice{Event: expensebot.EventSpotCleared, Actor: "UFIN", Text: "Right receipt sent & checked"}, []string{"S0FINANCE"}),
		"spot_finance_upheld":  financeMessage(base, expensebot.Notice{Event: expensebot.EventSpotUpheld, Actor: "UFIN", Text: "A personal <trip>"}, nil),
		"modal_spot_flag":      spotFlagModal(base, "CAPPROVALS"),
		"modal_spot_clear":     spotSettleModal(base, "CAPPROVALS", true),
		"modal_spot_uphold":    spotSettleModal(base, "CAPPROVALS", false),
		"home_reviewer_insight": homeView(home.View{Reviewer: true, Insight: &report.Summary{
			Categories: []report.Line{{Category: "meals", Routed: 40, AutoApproved: 30, ToPeople: 10, Approved: 8, Rejected: 1, Pending: 1, AdvisedApprove: 8, AgreedApprove: 7, MedianDecision: 3*time.Hour + 12*time.Minute}},
			All:        report.Line{Routed: 40, AutoApproved: 30, ToPeople: 10, Approved: 8, Rejected: 1, Pending: 1, AdvisedApprove: 8, AgreedApprove: 7, MedianDecision: 3*time.Hour + 12*time.Minute},
			Bands:      []report.Band{{Low: 0.9, High: 0.95, Advised: 4, Approved: 3}, {Low: 0.95, High: 0.99, Advised: 0}, {Low: 0.99, High: 1, Advised: 4, Approved: 4}},
			Thresholds: []report.Threshold{{MinConfidence: 0.9, NewlyAuto: 4, NewlyRejected: 1}, {MinConfidence: 0.95, Current: true}, {MinConfidence: 0.99, NoLongerAuto: 12}},
			Flags:      []report.FlagCount{{Flag: "personal", Count: 2}, {Flag: expensebot.FlagPossibleSplit, Count: 1}},
			SpotChecks: report.SpotCheckLine{Drawn: 3, Confirmed: 1, Flagged: 1},
		}}),
		"home_reviewer_insight_empty": homeView(home.View{Reviewer: true, Insight: &report.Summary{}}),
		"modal_receipt":               receiptModal(42, "D123"),
		"modal_receipt_done":          receiptResultModal(42, receiptOutcome(withReceipt(expensebot.ReceiptMatch, false)), ""),
		"approval_receipt_match":      approvalMessage(withReceipt(expensebot.ReceiptMatch, false), links, nil),
		"approval_receipt_mismatch": approvalMessage(withReceipt(expensebot.ReceiptMismatch, true),
			map[string]string{"F1": "https://files.example/F1", "#7": "https://example.slack.com/archives/C1/p1"}, nil),
		"approval_receipt_unreadable": approvalMessage(withReceipt(expensebot.ReceiptUnreadable, false), links, nil),

		// The life after the first click.
		"approval_needs_info": approvalMessage(questioned, links, nil),
		"approval_withdrawn": approvalMessage(with(func(e *expensebot.Expense) {
			e.Status, e.DecidedBy, e.DecidedAt, e.ResubmittedAs = expensebot.StatusWithdrawn, "UEMP", decided, 43
		}), links, nil),
		"approval_expired": approvalMessage(with(func(e *expensebot.Expense) {
			e.Status, e.DecidedBy, e.DecidedAt = expensebot.StatusExpired, expensebot.ActorSystem, decided
		}), links, nil),
		"approval_resubmission_escalated": approvalMessage(with(func(e *expensebot.Expense) {
			e.ResubmitOf, e.EscalatedTo, e.Reviewers = 41, []string{"UBOSS", "S0FIN"}, []string{"UREV1", "UBOSS", "S0FIN"}
		}), links, nil),
		"approval_by_delegate": approvalMessage(with(func(e *expensebot.Expense) {
			e.Status, e.DecidedBy, e.DecidedFor, e.DecidedAt = expensebot.StatusApproved, "UDEL", "UREV1", decided
			e.ApprovalsRequired, e.FirstApprover, e.FirstApproverFor = 2, "UREV2", ""
		}), links, nil),
		"dm_expired": submitterNotice(with(func(e *expensebot.Expense) { e.Status = expensebot.StatusExpired }), expensebot.Notice{Event: expensebot.EventExpired, Actor: expensebot.ActorSystem}),
		"approval_paid": approvalMessage(with(func(e *expensebot.Expense) {
			e.Status, e.DecidedBy, e.DecidedAt, e.ExportBatch = expensebot.StatusPaid, "UREV1", decided, 12
			e.PaidAt, e.PaidBy, e.PaidReference = decided.Add(7*24*time.Hour), "Fiona <Finance>", "TRX *2026*-12"
		}), links, nil),
		"dm_paid": submitterNotice(with(func(e *expensebot.Expense) {
			e.Status, e.DecidedBy, e.DecidedAt, e.ExportBatch = expensebot.StatusPaid, "UREV1", decided, 12
			e.PaidAt, e.PaidBy, e.PaidReference = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC), "Fiona", "TRX <2026>-12"
		}), expensebot.Notice{Event: expensebot.EventPaid, Actor: "Fiona", Text: "TRX <2026>-12"}),
		"dm_question":          commentNotice(questioned, expensebot.Notice{Event: expensebot.EventInfoRequested, Actor: "UDEL", Text: "Which <client>?"}, true),
		"dm_approved_delegate": submitterNotice(with(func(e *expensebot.Expense) { e.DecidedBy, e.DecidedFor = "UDEL", "UREV1" }), expensebot.Notice{Event: expensebot.EventApproved, Actor: "UDEL"}),
		"thread_question":      commentNotice(questioned, expensebot.Notice{Event: expensebot.EventInfoRequested, Actor: "UDEL", Text: "Which <client>?"}, false),
		"thread_answer":        threadMessage(base, expensebot.Notice{Event: expensebot.EventInfoProvided, Actor: "UREV1", Text: "Acme <Corp>"}),
		"thread_reminder": threadMessage(with(func(e *expensebot.Expense) { e.CreatedAt = decided.Add(-26 * time.Hour) }), expensebot.Notice{Event: expensebot.EventReminded, Actor: expensebot.ActorSystem,
			Mention: []string{"UREV1", "S0REV"}, Delegates: []expensebot.Delegation{{Reviewer: "UREV1", Delegate: "UDEL", Until: decided}}}),
		"thread_escalated": threadMessage(base, expensebot.Notice{Event: expensebot.EventEscalated, Actor: expensebot.ActorSystem, Text: "UBOSS,S0FIN",
			Delegates: []expensebot.Delegation{{Reviewer: "UBOSS", Delegate: "UDEL", Until: decided}}}),
		"modal_ask":      askModal(base, "CAPPROVALS"),
		"modal_reply":    replyModal(questioned, "DUEMP"),
		"modal_delegate": delegateModal(decided),
		"modal_resubmit": resubmitModal("USD", decided, testReceiptRule, with(func(e *expensebot.Expense) {
			e.Status, e.Amount, e.DecisionReason = expensebot.StatusRejected, expensebot.Money{Minor: 12050, Currency: "EUR"}, "No receipt"
		})),
		"home_lifecycle": homeView(home.View{Now: decided,
			Questions: []expensebot.Expense{questioned},
			Mine: []expensebot.Expense{questioned, with(func(e *expensebot.Expense) { e.ID, e.Status = 40, expensebot.StatusExpired }),
				with(func(e *expensebot.Expense) { e.ID, e.Status = 39, expensebot.StatusRejected })},
			Filter: "", Page: 1, MineTotal: 23,
			Months: []expensebot.Total{
				{Month: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Status: expensebot.StatusApproved, Count: 3, Sum: base.Amount},
				{Month: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), Status: expensebot.StatusExpired, Count: 1, Sum: base.Amount},
				{Month: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Status: expensebot.StatusRejected, Count: 1, Sum: base.Amount},
			},
			Reviewer: true, Away: &expensebot.Delegation{Reviewer: "UEMP", Delegate: "UDEL", Until: decided.AddDate(0, 0, 7)},
			StandingIn: []expensebot.Delegation{{Reviewer: "UREV2", Delegate: "UEMP", Until: decided.AddDate(0, 0, 3)}},
			Queue:      []expensebot.Expense{with(func(e *expensebot.Expense) { e.ID, e.CreatedAt = 44, decided.Add(-50*time.Hour) })},
			QueueFor:   map[int64]string{44: "UREV2"}, QueueTotal: 1,
		}),
	}
	for name, v := range tests {
		t.Run(name, func(t *testing.T) { golden(t, name, v) })
	}
}

// TestHomeFitsBlockKit: a reviewer with many questions, a long history, every status in every
// month and a long queue still gets a valid App Home (at most 100 blocks, 250 KB).
func TestHomeFitsBlockKit(t *testing.T) {
	var many []expensebot.Expense
	for i := range 500 {
		many = append(many, with(func(e *expensebot.Expense) { e.ID = int64(i + 1) }))
	}
	var months []expensebot.Total
	for m := range home.Months {
		for _, st := range expensebot.Statuses {
			months = append(months, expensebot.Total{Month: decided.AddDate(0, -m, 0), Status: st, Count: 1, Sum: base.Amount})
		}
	}
	insight := &report.Summary{All: report.Line{Routed: 500}}
	for _, c := range expensebot.Categories {
		insight.Categories = append(insight.Categories, report.Line{Category: c, Routed: 50, MedianDecision: time.Hour})
	}
	d := expensebot.Delegation{Reviewer: "UREV2", Delegate: "UEMP", Until: decided}
	v := homeView(home.View{Questions: many, Mine: many[:home.Mine], Page: 3, MineTotal: 500, Months: months,
		Totals: []expensebot.Total{{Status: expensebot.StatusApproved, Count: 500, Sum: base.Amount}}, Reviewer: true, Away: &d,
		StandingIn: []expensebot.Delegation{d, d, d}, Queue: many[:home.Queue], QueueTotal: 500, Insight: insight})
	if n := len(v.Blocks.BlockSet); n > 100 {
		t.Errorf("home has %d blocks", n)
	}
	b, _ := json.Marshal(v)
	if len(b) > 250_000 {
		t.Errorf("home has %d bytes", len(b))
	}
}

// TestParseDelegation: the delegation form is checked before its ack; the delegation ends at
// the start of the day after the last day away.
func TestParseDelegation(t *testing.T) {
	form := func(day, user string) map[string]map[string]slack.BlockAction {
		return map[string]map[string]slack.BlockAction{inAwayUntil: {inAwayUntil: {SelectedDate: day}}, inDelegate: {inDelegate: {SelectedUser: user}}}
	}
	delegate, until, errs := parseDelegation(form("2026-12-01", "UDEL"), "UREV1", decided)
	if len(errs) > 0 || delegate != "UDEL" || !until.Equal(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("got %s %v %v", delegate, until, errs)
	}
	for _, tt := range []struct{ day, user, field string }{
		{"2026-11-24", "UDEL", inAwayUntil}, {"", "UDEL", inAwayUntil}, {"2028-01-01", "UDEL", inAwayUntil},
		{"2026-12-01", "UREV1", inDelegate}, {"2026-12-01", "", inDelegate}, {"2026-12-01", "S0GROUP", inDelegate},
	} {
		if _, _, errs := parseDelegation(form(tt.day, tt.user), "UREV1", decided); errs[tt.field] == "" {
			t.Errorf("%q %q: no error about %s (%v)", tt.day, tt.user, tt.field, errs)
		}
	}
}

func TestEscape(t *testing.T) {
	if got := escape("<!channel> & <@U1> <https://x|y>"); got != "&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;https://x|y&gt;" {
		t.Errorf("escape = %q", got)
	}
	// The review's example: with the override, "…00.09" displays as "…90.00". The placeholder
	// keeps the typed order and shows that something was hidden there.
	if got, want := escape("Lunch \u202e00.09\u202c"), "Lunch \ufffd00.09\ufffd"; got != want {
		t.Errorf("escape = %q, want %q", got, want)
	}
	if got, want := inline("Lunch \u202e00.09\u202c", 80), "Lunch \ufffd00.09\ufffd"; got != want {
		t.Errorf("inline = %q, want %q", got, want)
	}
}

// TestParseQuick: what /expense records for what people type, in the home currency given. An
// amount is never guessed: two numbers are not joined, and a currency that does not fit the
// amount is an error about that currency.
func TestParseQuick(t *testing.T) {
	tests := []struct {
		in, amount, desc, category, err string
		home                            string
	}{
		{"42.50 Team lunch", "42.50 USD", "Team lunch", "other", "", ""},
		{"120 EUR Train to Paris", "120.00 EUR", "Train to Paris", "other", "", ""},
		{"$2,500 Conference #travel", "2,500.00 USD", "Conference", "travel", "", ""},
		{"1.234,56 EUR Hotel", "1,234.56 EUR", "Hotel", "other", "", ""},
		{"42 tea and cake", "42.00 USD", "tea and cake", "other", "", ""},
		{"USD 15 Parking", "15.00 USD", "Parking", "other", "", ""},
		{"42", "", "", "", "Please say what 42.00 USD was for", ""},
		{"-5 refund", "", "", "", "negative", ""},
		{"lunch 42", "", "", "", "Start with the amount", ""},
		{"0 free", "", "", "", "more than zero", ""},
		{"5 3 coffees", "", "", "", "never join two numbers", ""},
		{"12 200 pens", "", "", "", "never join two numbers", ""},
		{"42.5 JPY taxi", "", "", "", "JPY has no minor units", ""},
		{"$50 lunch", "50.00 CAD", "lunch", "other", "", "CAD"},
		{"$50 lunch", "", "", "", "write the currency code", "EUR"},
	}
	for _, tt := range tests {
		home := tt.home
		if home == "" {
			home = "USD"
		}
		e, err := parseQuick(tt.in, home, decided)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || e.Amount.String() != tt.amount || e.Description != tt.desc || e.Category != tt.category {
			t.Errorf("%q = %s %q %s, %v", tt.in, e.Amount, e.Description, e.Category, err)
		}
	}
}

// TestLongAdviceStillFits: a model that writes ten long reasons cannot push a section past
// Slack's 3,000 characters.
func TestLongAdviceStillFits(t *testing.T) {
	long := strings.Repeat("word ", 60)
	var reasons []string
	for range 10 {
		reasons = append(reasons, long)
	}
	e := with(func(e *expensebot.Expense) {
		e.Assessment = &expensebot.Assessment{Decision: "review", Confidence: 0.5, Reasons: reasons, Flags: []string{"suspicious"}}
		e.ReviewReasons = append([]string{"AI suggests review: " + strings.Join(reasons, "; ")}, e.ReviewReasons...)
	})
	for _, b := range approvalMessage(e, nil, nil).Blocks.BlockSet {
		if s, ok := b.(*slack.SectionBlock); ok && s.Text != nil && len([]rune(s.Text.Text)) > 3000 {
			t.Errorf("a section has %d characters", len([]rune(s.Text.Text)))
		}
	}
}

// TestFitNeverSplitsMarkup: a cut to Slack's limit never leaves half an escaped entity or half a
// mention behind, which Slack would show as garbage or refuse.
func TestFitNeverSplitsMarkup(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ab &amp; cd", "ab …"},
		{"ab <@U123> cd", "ab …"},
		{"abcdef", "abcd…"},
		{"éééééé", "éééé…"},
	}
	for _, tt := range tests {
		if got := fit(tt.in, 5); got != tt.want {
			t.Errorf("fit(%q, 5) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestUserTextIsInert guards every surface against a description, reason or comment that tries to
// pose as the bot: it may not ping, link, start a line of its own, or turn bold, italic, strike or
// code in any mrkdwn text. User text may appear whole only in plain_text, which Slack does not
// parse. Nor may it reorder what is shown: a right-to-left override (U+202E) would make
// "00.09" display as "90.00", so no text of any type carries a direction control. Add a view
// here when it shows user text.
func TestUserTextIsInert(t *testing.T) {
	const spoof = "Lunch\n:white_check_mark: *Approved* by _Rita_ ~now~ `ok` <!channel> <https://evil|click> \u202e00.09\u202c \u2067x\u2069\u200f"
	e := with(func(e *expensebot.Expense) {
		e.Description, e.DecisionReason = spoof, spoof
		e.Assessment = &expensebot.Assessment{Decision: "review", Reasons: []string{spoof}, Model: "m"}
		e.ReviewReasons = []string{"AI: " + spoof}
	})
	rejected := with(func(x *expensebot.Expense) { *x = e; x.Status = expensebot.StatusRejected; x.DecidedBy = "UREV1" })
	asked := with(func(x *expensebot.Expense) {
		*x = e
		x.Status, x.Question, x.QuestionBy = expensebot.StatusNeedsInfo, spoof, "UREV1"
	})
	views := map[string]any{
		"card":     approvalMessage(e, nil, nil),
		"rejected": approvalMessage(rejected, nil, nil),
		"dm":       submitterNotice(rejected, expensebot.Notice{Event: expensebot.EventRejected, Actor: "UREV1"}),
		"routed":   submitterNotice(e, expensebot.Notice{Event: expensebot.EventRouted}),
		"comment":  commentNotice(e, expensebot.Notice{Actor: "UREV1", Text: spoof}, false),
		"question": commentNotice(asked, expensebot.Notice{Event: expensebot.EventInfoRequested, Actor: "UREV1", Text: spoof}, true),
		"asked":    commentNotice(asked, expensebot.Notice{Event: expensebot.EventInfoRequested, Actor: "UREV1", Text: spoof}, false),
		"answer":   threadMessage(e, expensebot.Notice{Event: expensebot.EventInfoProvided, Actor: "UREV1", Text: spoof}),
		"waiting":  approvalMessage(asked, nil, nil),
		"expired":  submitterNotice(e, expensebot.Notice{Event: expensebot.EventExpired}),
		"reply":    replyModal(asked, "D1"),
		"resubmit": resubmitModal("USD", decided, testReceiptRule, rejected),
		"lifecycle home": homeView(home.View{Questions: []expensebot.Expense{asked}, Mine: []expensebot.Expense{asked, rejected},
			Months: []expensebot.Total{{Month: decided, Status: expensebot.StatusApproved, Count: 1, Sum: e.Amount}}}),
		"received": receivedMessage(e, true),
		"history":  historyMessage([]expensebot.Expense{e}),
		"home":     homeView(home.View{Mine: []expensebot.Expense{e}, Reviewer: true, Queue: []expensebot.Expense{e}, QueueTotal: 1}),
		"modal":    rejectModal(e, "C1"),
	}
	for name, v := range views {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var texts []struct{ typ, text string }
		var walk func(any)
		walk = func(x any) {
			switch x := x.(type) {
			case map[string]any:
				if typ, ok := x["type"].(string); ok && (typ == "mrkdwn" || typ == "plain_text") {
					if s, ok := x["text"].(string); ok {
						texts = append(texts, struct{ typ, text string }{typ, s})
					}
				}
				if s, ok := x["text"].(string); ok && x["type"] == nil {
					texts = append(texts, struct{ typ, text string }{"mrkdwn", s}) // a message's fallback text
				}
				for _, v := range x {
					walk(v)
				}
			case []any:
				for _, v := range x {
					walk(v)
				}
			}
		}
		var doc any
		json.Unmarshal(b, &doc)
		walk(doc)
		for _, tx := range texts {
			if strings.ContainsFunc(tx.text, expensebot.IsBidiControl) {
				t.Errorf("%s: %s %q carries a direction control", name, tx.typ, tx.text)
			}
			if tx.typ == "plain_text" {
				continue
			}
			for _, bad := range []string{"<!channel>", "<https://evil", "*Approved*", "_Rita_", "~now~", "`ok`", "\n:white_check_mark:"} {
				if strings.Contains(tx.text, bad) {
					t.Errorf("%s: mrkdwn %q carries %q", name, tx.text, bad)
				}
			}
		}
	}
}

// withReceipt is base with a taxi receipt read as outcome (80.00 EUR for a mismatch), and a
// duplicate of expense #7 when dup.
func withReceipt(outcome string, dup bool) expensebot.Expense {
	return with(func(e *expensebot.Expense) {
		e.Amount, e.ReviewMessageTS = expensebot.Money{Minor: 12000, Currency: "EUR"}, "1.2"
		f := expensebot.ReceiptFacts{Readable: true, Merchant: "Taxi *Berlin* <!here>", Date: "2026-11-20", Total: "118.40", Currency: "EUR", Confidence: 0.93}
		c := expensebot.ReceiptCheck{Outcome: outcome, Total: expensebot.Money{Minor: 11840, Currency: "EUR"}}
		switch outcome {
		case expensebot.ReceiptMismatch:
			f.Total, c.Total = "80.00", expensebot.Money{Minor: 8000, Currency: "EUR"}
			c.Problems = []string{"the claim 120.00 EUR is 40.00 EUR more than the receipt's total 80.00 EUR"}
		case expensebot.ReceiptUnreadable:
			f, c = expensebot.ReceiptFacts{}, expensebot.ReceiptCheck{Outcome: outcome, Problems: []string{"the receipt could not be read"}}
		}
		r := expensebot.Receipt{FileID: "F1", Name: "taxi.png", Filetype: "png", Size: 1234,
			Reading: &expensebot.ReceiptReading{Facts: f, Model: "gpt-4o", Check: c}}
		if dup {
			r.Duplicate = &expensebot.DuplicateReceipt{ExpenseID: 7}
		}
		e.Receipts = []expensebot.Receipt{r}
	})
}

// TestCardApprovedAfterItsReceipt: a card approved automatically once its receipt was read gives
// the reasons it could be, not "why a person decides".
func TestCardApprovedAfterItsReceipt(t *testing.T) {
	e := with(func(e *expensebot.Expense) {
		e.Status, e.DecidedBy, e.DecidedAt = expensebot.StatusAutoApproved, expensebot.ActorPolicy, decided
		e.ReviewReasons = []string{"below 1,000.00 USD, AI approved with confidence 0.97 and raised no flag"}
	})
	b, _ := json.Marshal(approvalMessage(e, nil, nil))
	if !strings.Contains(string(b), "Why it was approved automatically") || strings.Contains(string(b), "Why a person decides") {
		t.Errorf("card = %s", b)
	}
}
