package bot_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/handlers"
	"github.com/expensebot/expensebot/internal/fakeslack"
)

const admin = "UADM" // Ada, an administrator (EXPENSEBOT_ADMINS)

// TestAdminChangesRulesInAppHome: an administrator changes the reviewers and the auto-approve
// limit in the App Home of one instance; the second instance on the same database routes the next
// expense by them, the change is audited with who changed what, and the expense routed before keeps
// its reviewers. Bad input is answered beside its field in the ack; someone who is not an
// administrator sees no admin section, and a forged submission of the form is refused and saves
// nothing. The setup checks show in the section and run again from its button.
func TestAdminChangesRulesInAppHome(t *testing.T) {
	each(t, func(t *testing.T, h *harness) {
		h.slack.AddUser(fakeslack.User{ID: admin, Name: "ada", RealName: "Ada Admin"})
		h.admins = []string{admin}
		var checks atomic.Int32
		h.setup = handlers.NewSetupChecks(func(context.Context) []handlers.SetupFinding {
			checks.Add(1)
			return []handlers.SetupFinding{
				{Mark: "✓", Check: "bot token (SLACK_BOT_TOKEN)", Detail: "Slack accepts it"},
				{Mark: "✗", Check: "user UTYPO (EXPENSEBOT_REVIEWERS)", Detail: "no such user in this workspace", Fix: "replace or remove UTYPO", Attention: true},
			}
		})
		a := h.start()
		h.slack.Pin(h.slack.Connects()) // Slack hands every request to instance A...
		h.start()                       // ...while instance B runs beside it

		before, _ := h.reviewed("2500 Conference travel")

		// Someone who is not an administrator sees no admin section.
		h.home(outsider, "Your expenses")
		if v, _ := h.slack.Home(outsider); strings.Contains(v.Visible(), "Administration") {
			t.Errorf("a non-admin's App Home shows the admin section")
		}

		// The administrator sees the rules and runs the setup checks.
		v := h.home(admin, "Administration")
		if !strings.Contains(v.Visible(), "not run yet") {
			t.Errorf("admin section before any check: %s", v.Visible())
		}
		if _, err := h.slack.ClickViewButton(admin, v.ID, handlers.ActionAdminCheck); err != nil {
			t.Fatal(err)
		}
		v = h.homeShows(admin, "no such user in this workspace")
		if !strings.Contains(v.Visible(), "replace or remove UTYPO") || checks.Load() != 1 {
			t.Errorf("setup findings (%d runs): %s", checks.Load(), v.Visible())
		}

		// Bad input is answered in the ack, beside each field.
		if _, err := h.slack.ClickViewButton(admin, v.ID, handlers.ActionAdminEdit); err != nil {
			t.Fatal(err)
		}
		h.modal(admin, handlers.CallbackAdmin)
		errs, _, err := h.slack.SubmitModal(admin, map[string]string{"admin_auto_max": "lots", "admin_remind": "soon",
			"admin_categories": "travel: auto 500, weekly 10", "admin_escalate": "3d", "admin_escalate_to": ""})
		if err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"admin_auto_max", "admin_remind", "admin_categories", "admin_escalate_to"} {
			if errs[field] == "" {
				t.Errorf("no error beside %s: %v", field, errs)
			}
		}
		if n := h.rulesEvents(); len(n) != 0 {
			t.Fatalf("invalid input changed the rules: %v", n)
		}

		// A forged submission by someone who is not an administrator is refused in the ack.
		forged := map[string]any{"type": "view_submission", "api_app_id": fakeslack.AppID, "team": map[string]any{"id": fakeslack.TeamID},
			"user": map[string]any{"id": outsider, "name": "olga", "team_id": fakeslack.TeamID},
			"view": map[string]any{"id": "VFORGED", "type": "modal", "callback_id": handlers.CallbackAdmin, "private_metadata": "1",
				"state": map[string]any{"values": map[string]any{
					"admin_reviewers": map[string]any{"admin_reviewers": map[string]any{"type": "multi_users_select", "selected_users": []string{outsider}}},
					"admin_channel":   map[string]any{"admin_channel": map[string]any{"type": "conversations_select", "selected_conversation": approvals}},
				}}}}
		ack, err := h.slack.Send("interactive", forged, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ack.Payload), "Only the bot's administrators") {
			t.Errorf("forged submission answered %s", ack.Payload)
		}
		if n := h.rulesEvents(); len(n) != 0 {
			t.Fatalf("a non-admin changed the rules: %v", n)
		}

		// The change: Olga reviews alone, and nothing from 10.00 up is approved automatically.
		errs, _, err = h.slack.SubmitModal(admin, map[string]string{"admin_reviewers": outsider, "admin_groups": "",
			"admin_auto_max": "10", "admin_remind": "8h", "admin_escalate": "0", "admin_escalate_to": "",
			"admin_categories": "travel: auto 5, account 6400"})
		if err != nil || len(errs) > 0 {
			t.Fatalf("valid settings refused: %v %v", errs, err)
		}
		if err := a.stop(); err != nil { // only instance B is left: it routes by rules it did not save
			t.Fatal(err)
		}

		// Instance B routes the next expense by the new rules.
		h.command(emp, "15 Lunch")
		after := h.latest(emp, expensebot.StatusPendingReview)
		h.approvalMessage(after.ID, "approve:")
		if !slices.Equal(after.Reviewers, []string{outsider}) {
			t.Errorf("routed after the change to %v, want [%s]", after.Reviewers, outsider)
		}
		if after.RulesVersion == before.RulesVersion || after.RulesVersion == "" {
			t.Errorf("rules version %q after the change, %q before", after.RulesVersion, before.RulesVersion)
		}

		// Audited: who changed what.
		evs := h.rulesEvents()
		if len(evs) != 1 || evs[0].Actor != admin {
			t.Fatalf("rules_changed events: %+v", evs)
		}
		var d struct {
			ToVersion string                    `json:"to_version"`
			Changes   map[string]map[string]any `json:"changes"`
		}
		json.Unmarshal(evs[0].Detail, &d)
		if d.ToVersion != after.RulesVersion {
			t.Errorf("audited version %q, routed by %q", d.ToVersion, after.RulesVersion)
		}
		for _, k := range []string{"reviewers", "rules.AutoApproveMax.Minor", "remind_after", "accounts.travel", "rules.Categories.travel.AutoApproveMax.Minor"} {
			if _, ok := d.Changes[k]; !ok {
				t.Errorf("the audit's diff lacks %s: %v", k, d.Changes)
			}
		}
		if got := d.Changes["reviewers"]["to"]; !strings.Contains(mustJSON(got), outsider) {
			t.Errorf("reviewers changed to %v", got)
		}

		// The expense routed before keeps its reviewers: Rita still decides it, Olga cannot.
		if got := h.expense(before.ID); !slices.Equal(got.Reviewers, before.Reviewers) {
			t.Errorf("the earlier route's reviewers changed from %v to %v", before.Reviewers, got.Reviewers)
		}
		card := h.approvalMessage(before.ID, "approve:")
		h.click(outsider, card, "approve", before.ID)
		h.ephemeral(outsider, approvals, "Only the configured reviewers")
		h.click(rev1, card, "approve", before.ID)
		h.approvalMessage(before.ID, "*Approved* by <@UREV1>")
	})
}

func (h *harness) rulesEvents() []expensebot.AuditEvent {
	h.t.Helper()
	evs, err := h.db.RulesEvents(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return evs
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }
