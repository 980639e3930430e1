package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// TestPolicySimulateWithoutSlackSettings: replaying the rules in effect changes no route, whether
// or not the default route's settings (EXPENSEBOT_APPROVALS_CHANNEL, EXPENSEBOT_REVIEWERS) are
// set, and however its reviewers are listed; reviewers added by an escalation are not a change of
// route. Run with only DATABASE_URL, it once reported every route to the default reviewers as
// changed.
func TestPolicySimulateWithoutSlackSettings(t *testing.T) {
	for _, engine := range storetest.Engines {
		t.Run(engine, func(t *testing.T) {
			url := storetest.URL(t, engine)
			ctx := context.Background()
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			for i, desc := range []string{"Flights to Lisbon", "Hotel in Lisbon"} {
				e, _, err := db.Submit(ctx, expensebot.Expense{SubmitterID: "UALICE", IdempotencyKey: "s" + desc, Amount: usd(300000), Category: "travel",
					Description: desc, IncurredOn: time.Now().UTC().AddDate(0, 0, -2), ReceiptFileIDs: []string{"F" + desc}})
				if err != nil {
					t.Fatal(err)
				}
				// Routed as the bot routes with EXPENSEBOT_APPROVALS_CHANNEL=CAPPROVALS and
				// EXPENSEBOT_REVIEWERS=URITA,URAVI.
				if _, err := db.Route(ctx, e.ID, &expensebot.Assessment{Decision: "approve", Confidence: 0.97, Model: "m"}, expensebot.Route{
					ApprovalsRequired: 1, Reasons: []string{"over the auto-approve limit"}, Channel: "CAPPROVALS", Reviewers: []string{"URITA", "URAVI"},
					Timing: expensebot.Timing{EscalateAfter: time.Hour}}); err != nil {
					t.Fatal(err)
				}
				if i == 1 {
					db.SetClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
					if ok, err := db.Escalate(ctx, e.ID, []string{"URITA", "URAVI", "UBOSS"}, []string{"UBOSS"}); err != nil || !ok {
						t.Fatalf("escalate: %v %v", ok, err)
					}
				}
			}
			db.Close()
			same := filepath.Join(t.TempDir(), "same.yaml")
			os.WriteFile(same, []byte(financePolicy), 0o644)
			for _, tt := range []struct {
				name string
				env  []string
				note bool
			}{
				{"only the database", nil, true},
				{"the bot's settings, listed in another order", []string{"EXPENSEBOT_APPROVALS_CHANNEL", "CAPPROVALS", "EXPENSEBOT_REVIEWERS", "URAVI, URITA"}, false},
			} {
				t.Run(tt.name, func(t *testing.T) {
					financeEnv(t, url, tt.env...)
					out, err := runCmd(t, "policy", "simulate", same, "--since", "30d")
					if err != nil {
						t.Fatal(err)
					}
					if !strings.Contains(out, "0 routes would change, 2 would stay") {
						t.Errorf("simulate:\n%s", out)
					}
					if got := strings.Contains(out, "EXPENSEBOT_APPROVALS_CHANNEL or EXPENSEBOT_REVIEWERS is not set"); got != tt.note {
						t.Errorf("note about the missing settings = %v, want %v:\n%s", got, tt.note, out)
					}
				})
			}
		})
	}
}
