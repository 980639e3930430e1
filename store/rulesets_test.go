package store_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// TestRuleSets: the environment's rules are recorded once however often instances restart with
// them, and again when they change; an administrator's change builds on the newest version only
// (a change from an older one is refused and writes nothing), and its audit event belongs to no
// expense.
func TestRuleSets(t *testing.T) {
	each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		env := expensebot.RuleSet{Version: "v-env", Settings: json.RawMessage(`{"reviewers":["U1"]}`)}
		first, err := db.SeedRuleSet(ctx, env)
		if err != nil || first.ID == 0 || first.Source != expensebot.RulesFromEnvironment {
			t.Fatalf("first seed: %+v %v", first, err)
		}
		if again, err := db.SeedRuleSet(ctx, env); err != nil || again.ID != first.ID {
			t.Fatalf("a restart with the same environment recorded another version: %+v %v", again, err)
		}
		ev := expensebot.NewEvent(0, expensebot.EventRulesChanged, "UADM", map[string]any{"changes": map[string]any{"reviewers": "x"}})
		changed, err := db.ChangeRules(ctx, first.ID, expensebot.RuleSet{Version: "v-admin", ChangedBy: "UADM", Settings: json.RawMessage(`{"reviewers":["U2"]}`)}, ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ChangeRules(ctx, first.ID, expensebot.RuleSet{Version: "v-late", Settings: json.RawMessage(`{}`)}, ev); expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			t.Errorf("a change from an old version: %v, want ECONFLICT", err)
		}
		// A restart with the same environment keeps the administrator's version.
		if newest, err := db.SeedRuleSet(ctx, env); err != nil || newest.ID != changed.ID || newest.Version != "v-admin" || newest.ChangedBy != "UADM" {
			t.Errorf("after a restart the newest is %+v (%v), want the administrator's", newest, err)
		}
		if id, err := db.RuleSetID(ctx); err != nil || id != changed.ID {
			t.Errorf("RuleSetID = %d, %v; want %d", id, err, changed.ID)
		}
		evs, err := db.RulesEvents(ctx)
		if err != nil || len(evs) != 1 || evs[0].Actor != "UADM" || evs[0].ExpenseID != 0 {
			t.Errorf("rules events %+v %v", evs, err)
		}
		// An edited environment is the newest version at the next start.
		edited, err := db.SeedRuleSet(ctx, expensebot.RuleSet{Version: "v-env2", Settings: json.RawMessage(`{"reviewers":["U3"]}`)})
		if err != nil || edited.Version != "v-env2" || edited.ID <= changed.ID {
			t.Errorf("edited environment: %+v %v", edited, err)
		}
	})
}
