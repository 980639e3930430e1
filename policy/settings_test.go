package policy

import (
	"testing"
	"time"

	"github.com/expensebot/expensebot"
)

func usdp(minor int64) *expensebot.Money { m := usd(minor); return &m }

func sampleSettings() Settings {
	return Settings{
		Rules: Rules{Currency: "USD", AutoApproveMax: usd(100000), ReviewMax: usd(1000000), MinConfidence: 0.95,
			Categories: map[string]CategoryRule{"travel": {AutoApproveMax: usdp(50000), Account: "6400",
				Routes: []RouteRule{{Over: usd(200000), Channel: "CTRAVEL", Reviewers: []string{"UT"}}}}},
			Accounting: Accounting{PayableAccount: "Employee reimbursements"}},
		ApprovalsChannel: "CAPPROVALS", Reviewers: []string{"U1", "S1"}, EscalateTo: []string{"UBOSS"},
		Timing: expensebot.Timing{RemindAfter: 24 * time.Hour, EscalateAfter: 72 * time.Hour, ExpireAfter: 14 * 24 * time.Hour},
	}
}

// TestSettingsStoredWhole: what is stored reads back as it was, accounts and timers included.
func TestSettingsStoredWhole(t *testing.T) {
	s := sampleSettings()
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSettings(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Version() != s.Version() || back.Timing != s.Timing || back.Rules.Categories["travel"].Account != "6400" ||
		back.Rules.Accounting.PayableAccount != "Employee reimbursements" || len(back.Rules.Categories["travel"].Routes) != 1 {
		t.Errorf("read back %+v", back)
	}
	if diff, err := Diff(s, back); err != nil || len(diff) != 0 {
		t.Errorf("a round trip differs: %v %v", diff, err)
	}
}

// TestSettingsVersionAndDiff: every setting that routes changes the version, an account does
// not; the diff names each setting that changed, by its path.
func TestSettingsVersionAndDiff(t *testing.T) {
	base := sampleSettings()
	for _, tc := range []struct {
		name        string
		change      func(*Settings)
		newVersion  bool
		changedPath string
	}{
		{"reviewers", func(s *Settings) { s.Reviewers = []string{"U2"} }, true, "reviewers"},
		{"channel", func(s *Settings) { s.ApprovalsChannel = "COTHER" }, true, "approvals_channel"},
		{"limit", func(s *Settings) { s.Rules.AutoApproveMax = usd(1000) }, true, "rules.AutoApproveMax.Minor"},
		{"timer", func(s *Settings) { s.Timing.RemindAfter = 8 * time.Hour }, true, "remind_after"},
		{"escalate to", func(s *Settings) { s.EscalateTo = nil }, true, "escalate_to"},
		{"category limit", func(s *Settings) {
			c := s.Rules.Categories["travel"]
			c.MonthlyMax = usdp(200000)
			s.Rules.Categories = map[string]CategoryRule{"travel": c}
		}, true, "rules.Categories.travel.MonthlyMax.Minor"},
		{"account", func(s *Settings) {
			c := s.Rules.Categories["travel"]
			c.Account = "6500"
			s.Rules.Categories = map[string]CategoryRule{"travel": c}
		}, false, "accounts.travel"},
		{"reviewers reordered", func(s *Settings) { s.Reviewers = []string{"S1", "U1"} }, false, "reviewers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			next := sampleSettings()
			tc.change(&next)
			if got := next.Version() != base.Version(); got != tc.newVersion {
				t.Errorf("new version = %v, want %v", got, tc.newVersion)
			}
			diff, err := Diff(base, next)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := diff[tc.changedPath]; !ok {
				t.Errorf("diff %v lacks %s", diff, tc.changedPath)
			}
		})
	}
}
