package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

// policyProblems are the exact lines parseFile reports for each fixture in testdata/errors, in
// order. To add a case, write a fixture whose first comment says what it shows, and list here
// what an operator should read.
var policyProblems = []struct {
	file string
	want []string
}{
	{"unknown_key.yaml", []string{
		`unknown_key.yaml:2: unknown key "categroies" (known: categories, accounting, controls)`,
		`unknown_key.yaml:7: categories.travel: unknown key "auto_aprove_max" (known: auto_approve_max, review_max, receipt_required_over, never_auto_approve, routes, monthly_max, account)`,
	}},
	{"bad_amounts.yaml", []string{
		`bad_amounts.yaml:4: categories.travel.auto_approve_max: "12x" is not an amount I can read (unexpected 'x'). Try 42.50 or 2500 USD.`,
		`bad_amounts.yaml:5: categories.travel.review_max: amounts must be in the home currency USD`,
		`bad_amounts.yaml:7: categories.travel.routes[0].over: The amount must be positive; "-5" is negative.`,
		`bad_amounts.yaml:10: categories.meals.receipt_required_over: USD has 2 decimal places; "12.345" has 3.`,
		`bad_amounts.yaml:11: categories.meals.auto_approve_max: want an amount such as 500, got a list`,
		`bad_amounts.yaml:13: categories.lodging.review_max: The amount must be more than zero.`,
	}},
	{"unknown_category.yaml", []string{
		`unknown_category.yaml:3: categories: unknown category "yachts" (known: travel, meals, lodging, transport, software, equipment, training, office, other)`,
		`unknown_category.yaml:7: categories: unknown category "Travel" (known: travel, meals, lodging, transport, software, equipment, training, office, other)`,
	}},
	{"shapes.yaml", []string{
		`shapes.yaml:4: categories.travel.never_auto_approve: want true or false, got "sometimes"`,
		`shapes.yaml:6: categories.travel.routes[0]: give a channel, reviewers or both`,
		`shapes.yaml:7: categories.travel.routes[1]: unknown key "chanel" (known: over, channel, reviewers)`,
		`shapes.yaml:7: categories.travel.routes[1]: give a channel, reviewers or both`,
		`shapes.yaml:9: categories.travel.routes[2].channel: want a channel id such as C0123, got a list`,
		`shapes.yaml:10: categories.travel.routes[2].reviewers: want a list of user or group ids such as [U0123, S0456], got "S0LEADS"`,
		`shapes.yaml:11: categories.meals: want a mapping of rules such as auto_approve_max, got "lots"`,
		`shapes.yaml:13: categories.software.routes: want a list of routes, got "C0SOFTWARE"`,
		`shapes.yaml:16: categories.office: key "review_max" is already given on line 15`,
	}},
	{"many.yaml", []string{
		`many.yaml:5: categories.other.auto_approve_max: "a" is not an amount I can read (unexpected 'a'). Try 42.50 or 2500 USD.`,
		`many.yaml:7: categories.training.auto_approve_max: "b" is not an amount I can read (unexpected 'b'). Try 42.50 or 2500 USD.`,
		`many.yaml:9: categories.office.auto_approve_max: "c" is not an amount I can read (unexpected 'c'). Try 42.50 or 2500 USD.`,
		`many.yaml:11: categories.equipment.auto_approve_max: "d" is not an amount I can read (unexpected 'd'). Try 42.50 or 2500 USD.`,
		`many.yaml:13: categories.software.auto_approve_max: "e" is not an amount I can read (unexpected 'e'). Try 42.50 or 2500 USD.`,
		`many.yaml:15: categories.transport.auto_approve_max: "f" is not an amount I can read (unexpected 'f'). Try 42.50 or 2500 USD.`,
		`many.yaml:17: categories.lodging.auto_approve_max: "g" is not an amount I can read (unexpected 'g'). Try 42.50 or 2500 USD.`,
		`many.yaml:19: categories.meals.auto_approve_max: "h" is not an amount I can read (unexpected 'h'). Try 42.50 or 2500 USD.`,
		`many.yaml:21: categories.travel.auto_approve_max: "i" is not an amount I can read (unexpected 'i'). Try 42.50 or 2500 USD.`,
	}},
	{"finance.yaml", []string{
		`finance.yaml:4: categories.meals.monthly_max: "4OO" is not an amount I can read (unexpected 'O'). Try 42.50 or 2500 USD.`,
		`finance.yaml:5: categories.meals.account: want a ledger account code or name such as 420, got a list`,
		`finance.yaml:7: accounting: unknown key "payable_acount" (known: payable_account, tax_type)`,
		`finance.yaml:8: accounting.tax_type: want a tax rate name such as Tax Exempt, got a mapping`,
	}},
	{"anchors_bad.yaml", []string{
		`anchors_bad.yaml:5: categories.travel.auto_approve_max: "12x" is not an amount I can read (unexpected 'x'). Try 42.50 or 2500 USD.`,
		`anchors_bad.yaml:9: categories.lodging: unknown key "over" (known: auto_approve_max, review_max, receipt_required_over, never_auto_approve, routes, monthly_max, account)`,
	}},
}

// TestPolicyFileProblems guards the promise that one start shows every mistake in the policy
// file, each with its line and key path in words (never a Go type), in file order, and leaves
// the rules as they were.
func TestPolicyFileProblems(t *testing.T) {
	for _, tt := range policyProblems {
		t.Run(tt.file, func(t *testing.T) {
			got := policyFileProblems(t, tt.file)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestPolicyFileProblemsStableOrder: the same file gives the same lines on every run. The old
// decoder ranged over a Go map and reported a different category's mistake from run to run.
func TestPolicyFileProblemsStableOrder(t *testing.T) {
	for _, tt := range policyProblems {
		first := policyFileProblems(t, tt.file)
		for range 20 {
			if got := policyFileProblems(t, tt.file); !reflect.DeepEqual(got, first) {
				t.Fatalf("%s: got:\n  %s\nthen:\n  %s", tt.file, strings.Join(first, "\n  "), strings.Join(got, "\n  "))
			}
		}
	}
}

// policyFileProblems parses testdata/errors/file and returns the problem lines of its error.
func policyFileProblems(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "errors", file))
	if err != nil {
		t.Fatal(err)
	}
	r := defaults
	r.Categories = map[string]CategoryRule{"meals": {NeverAutoApprove: true}}
	err = r.parseFile(b, file)
	if err == nil {
		t.Fatalf("%s parsed without error", file)
	}
	if len(r.Categories) != 1 || !r.Categories["meals"].NeverAutoApprove {
		t.Errorf("%s: rules changed despite the error: %+v", file, r.Categories)
	}
	if strings.Contains(err.Error(), "struct") {
		t.Errorf("%s: the error shows a Go type: %v", file, err)
	}
	lines := strings.Split(err.Error(), "\n  ")
	if lines[0] != "policy file:" {
		t.Errorf("%s: error starts %q, want %q", file, lines[0], "policy file:")
	}
	return lines[1:]
}

// TestPolicyFileAnchors: anchors, aliases and merge keys (<<) mean what YAML says, as they did
// when the file was decoded into structs.
func TestPolicyFileAnchors(t *testing.T) {
	b, err := os.ReadFile("testdata/anchors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := defaults
	if err := r.parseFile(b, "anchors.yaml"); err != nil {
		t.Fatal(err)
	}
	m := func(minor int64) *expensebot.Money { v := usd(minor); return &v }
	leads := []RouteRule{{Over: usd(300000), Channel: "C0TRAVEL", Reviewers: []string{"S0TRAVELLEADS"}}}
	want := map[string]CategoryRule{
		"travel":   {AutoApproveMax: m(50000), ReviewMax: m(500000), Routes: leads},
		"lodging":  {AutoApproveMax: m(50000), ReviewMax: m(800000), Routes: leads},
		"training": {Routes: leads},
	}
	if !reflect.DeepEqual(r.Categories, want) {
		t.Errorf("got  %+v\nwant %+v", r.Categories, want)
	}
}

// TestPolicyFileEmptyForms: a file with nothing to say is a valid policy with no categories, and
// a category with no rules follows the global limits.
func TestPolicyFileEmptyForms(t *testing.T) {
	tests := []struct {
		yaml string
		want map[string]CategoryRule
	}{
		{"", map[string]CategoryRule{}},
		{"# only a comment\n", map[string]CategoryRule{}},
		{"---\n", map[string]CategoryRule{}},
		{"categories:\n", map[string]CategoryRule{}},
		{"categories:\n  travel:\n", map[string]CategoryRule{"travel": {}}},
		{"categories:\n  travel:\n    auto_approve_max:\n    routes:\n", map[string]CategoryRule{"travel": {}}},
	}
	for _, tt := range tests {
		r := defaults
		if err := r.parseFile([]byte(tt.yaml), "p.yaml"); err != nil {
			t.Errorf("%q: %v", tt.yaml, err)
		} else if !reflect.DeepEqual(r.Categories, tt.want) {
			t.Errorf("%q: got %+v, want %+v", tt.yaml, r.Categories, tt.want)
		}
	}
}

// TestPolicyFileNamesAreNotIDs: a route naming people or a channel by name is refused at start.
func TestPolicyFileNamesAreNotIDs(t *testing.T) {
	r := Rules{Currency: "USD"}
	err := r.parseFile([]byte("categories:\n  travel:\n    routes:\n      - over: 500\n        channel: \"#travel-approvals\"\n        reviewers: [rita]\n"), "p.yaml")
	if err == nil || !strings.Contains(err.Error(), `p.yaml:5: categories.travel.routes[0].channel: "#travel-approvals" is a name`) ||
		!strings.Contains(err.Error(), `p.yaml:6: categories.travel.routes[0].reviewers[0]: "rita" is a name`) {
		t.Errorf("got %v", err)
	}
}

// TestPolicyFileControls reads the controls section: each setting, its defaults when left out,
// and a mistake named with its line.
func TestPolicyFileControls(t *testing.T) {
	tests := []struct {
		name, yaml string
		window     time.Duration
		tol        Tolerance
		band       int64
		err        string
	}{
		{"defaults", "categories: {}\n", 7 * 24 * time.Hour, Tolerance{100, usd(100)}, 10, ""},
		{"every setting", "controls:\n  duplicate_window: 3d\n  duplicate_tolerance: 0.5%\n  duplicate_tolerance_min: 2.50\n  rate_band: 5\n",
			72 * time.Hour, Tolerance{50, usd(250)}, 5, ""},
		{"a Go duration", "controls:\n  duplicate_window: 36h\n", 36 * time.Hour, Tolerance{100, usd(100)}, 10, ""},
		{"the floor alone", "controls:\n  duplicate_tolerance_min: 0.01\n", 7 * 24 * time.Hour, Tolerance{100, usd(1)}, 10, ""},
		{"a bad window", "controls:\n  duplicate_window: a week\n", 0, Tolerance{}, 0, `p.yaml:2: controls.duplicate_window: want a positive duration`},
		{"a bad share", "controls:\n  duplicate_tolerance: 1\n", 0, Tolerance{}, 0, `p.yaml:2: controls.duplicate_tolerance: want a percentage`},
		{"a band of one", "controls:\n  rate_band: 1\n", 0, Tolerance{}, 0, `p.yaml:2: controls.rate_band: want a whole number from 2 to 1000`},
		{"an unknown key", "controls:\n  duplicate_days: 3\n", 0, Tolerance{}, 0, `p.yaml:2: controls: unknown key "duplicate_days"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defaults
			err := r.parseFile([]byte(tt.yaml), "p.yaml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Controls.Window(); got != tt.window {
				t.Errorf("window = %s, want %s", got, tt.window)
			}
			if got := r.Controls.Tolerance("USD"); got != tt.tol {
				t.Errorf("tolerance = %+v, want %+v", got, tt.tol)
			}
			if got := r.Controls.Band(); got != tt.band {
				t.Errorf("band = %d, want %d", got, tt.band)
			}
		})
	}
}
