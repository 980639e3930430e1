package handlers

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/slack-go/slack"
)

// adminTestFlow is a workflow with one administrator; any other call panics (nil embedded
// interface).
type adminTestFlow struct {
	workflow
	admin   string
	changes int
}

func (f *adminTestFlow) Admin(_ context.Context, user string) bool { return user == f.admin }
func (f *adminTestFlow) Settings(_ context.Context, user string) (policy.Settings, int64, error) {
	if user != f.admin {
		return policy.Settings{}, 0, expensebot.Errorf(expensebot.EFORBIDDEN, "Only the bot's administrators (EXPENSEBOT_ADMINS) can change its settings.")
	}
	return policy.Settings{Rules: policy.Rules{Currency: "USD", AutoApproveMax: expensebot.Money{Minor: 100000, Currency: "USD"},
		ReviewMax: expensebot.Money{Minor: 1000000, Currency: "USD"}}, ApprovalsChannel: "CAPPROVALS", Reviewers: []string{"UREV"}}, 7, nil
}
func (f *adminTestFlow) ChangeRules(context.Context, string, int64, policy.Settings) error {
	f.changes++
	return nil
}

// openedSlack records the views opened.
type openedSlack struct {
	Slack
	opened []slack.ModalViewRequest
}

func (s *openedSlack) OpenViewContext(_ context.Context, _ string, v slack.ModalViewRequest) (*slack.ViewResponse, error) {
	s.opened = append(s.opened, v)
	return &slack.ViewResponse{}, nil
}

// TestAdminFormOnlyForAdmins: "Change settings" opens the settings form for an administrator and
// a notice for anyone else, whatever view the click came from; a submission by anyone else is
// refused beside the first field and changes nothing.
func TestAdminFormOnlyForAdmins(t *testing.T) {
	flow := &adminTestFlow{admin: "UADM"}
	sl := &openedSlack{}
	a := New(flow, sl, slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, tc := range []struct{ user, wantCallback, wantText string }{
		{"UADM", CallbackAdmin, "Reviewers"},
		{"UOUT", "", "Only the bot's administrators"},
	} {
		sl.opened = nil
		cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: tc.user}, TriggerID: "t",
			ActionCallback: slack.ActionCallbacks{BlockActions: []*slack.BlockAction{{ActionID: ActionAdminEdit}}}}
		_, work := a.Interaction(cb)
		work(context.Background())
		if len(sl.opened) != 1 || sl.opened[0].CallbackID != tc.wantCallback || !strings.Contains(jsonString(sl.opened[0]), tc.wantText) {
			t.Errorf("%s opened %+v", tc.user, sl.opened)
		}
	}
	cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: "UOUT"},
		View: slack.View{ID: "V1", CallbackID: CallbackAdmin, PrivateMetadata: "7", State: &slack.ViewState{}}}
	ack, _ := a.Interaction(cb)
	commit, ok := ack.(Commit)
	if !ok {
		t.Fatalf("ack %T, want a Commit", ack)
	}
	got := commit(context.Background()).(viewAck)
	if got.ResponseAction != "errors" || !strings.Contains(got.Errors[inAdminReviewers], "administrators") || flow.changes != 0 {
		t.Errorf("non-admin submission: %+v, %d changes", got, flow.changes)
	}
}

// TestParseAdminForm: each kind of mistake is named beside its field; a good form keeps what it
// does not show (a category's routes).
func TestParseAdminForm(t *testing.T) {
	cur := policy.Settings{Rules: policy.Rules{Currency: "USD", Categories: map[string]policy.CategoryRule{
		"travel": {Routes: []policy.RouteRule{{Over: expensebot.Money{Minor: 1, Currency: "USD"}, Channel: "CT"}}}}}}
	good := map[string]string{inAdminReviewers: "UREV", inAdminChannel: "CAPPROVALS", inAdminAutoMax: "500", inAdminReviewMax: "5,000",
		inAdminCategories: "travel: auto 100, monthly 2000, account 6400\nmeals: review 300", inAdminRemind: "1d", inAdminEscalate: "3d",
		inAdminEscalateTo: "UBOSS, S0FIN", inAdminExpire: "14d"}
	for _, tc := range []struct {
		name  string
		set   map[string]string
		field string // "" : accepted
		want  string
	}{
		{"good", nil, "", ""},
		{"nobody reviews", map[string]string{inAdminReviewers: "", inAdminGroups: ""}, inAdminReviewers, "at least one reviewer"},
		{"group not a group", map[string]string{inAdminGroups: "U123"}, inAdminGroups, "not a user-group id"},
		{"name for an id", map[string]string{inAdminEscalateTo: "@boss"}, inAdminEscalateTo, "a name, not an id"},
		{"no channel", map[string]string{inAdminChannel: ""}, inAdminChannel, "Choose a channel"},
		{"amount", map[string]string{inAdminAutoMax: "lots"}, inAdminAutoMax, "lots"},
		{"other currency", map[string]string{inAdminAutoMax: "500 EUR"}, inAdminAutoMax, "home currency"},
		{"review below auto", map[string]string{inAdminReviewMax: "100"}, inAdminReviewMax, "auto-approve limit"},
		{"category word", map[string]string{inAdminCategories: "travel: weekly 5"}, inAdminCategories, "not auto, review, monthly or account"},
		{"category line", map[string]string{inAdminCategories: "travel 5"}, inAdminCategories, "a colon"},
		{"duration", map[string]string{inAdminRemind: "soon"}, inAdminRemind, "not a duration"},
		{"remind too often", map[string]string{inAdminRemind: "30s"}, inAdminRemind, "At least 1m"},
		{"escalate to nobody", map[string]string{inAdminEscalateTo: ""}, inAdminEscalateTo, "Name who may decide"},
		{"escalate after expiry", map[string]string{inAdminEscalate: "20d"}, inAdminEscalate, "shorter than Expire after"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fill := map[string]string{}
			for k, v := range good {
				fill[k] = v
			}
			for k, v := range tc.set {
				fill[k] = v
			}
			v := map[string]map[string]slack.BlockAction{}
			for k, val := range fill {
				a := slack.BlockAction{Value: val}
				switch k {
				case inAdminReviewers:
					if val != "" {
						a.SelectedUsers = strings.Split(val, ",")
					}
				case inAdminChannel:
					a.SelectedConversation = val
				}
				v[k] = map[string]slack.BlockAction{k: a}
			}
			next, errs := parseAdminForm(v, cur)
			if tc.field == "" {
				if len(errs) > 0 {
					t.Fatalf("refused: %v", errs)
				}
				travel := next.Rules.Categories["travel"]
				if travel.Account != "6400" || travel.AutoApproveMax.Minor != 10000 || len(travel.Routes) != 1 ||
					next.Rules.Categories["meals"].ReviewMax.Minor != 30000 || next.Timing.ExpireAfter != 14*24*time.Hour ||
					len(next.EscalateTo) != 2 || next.Rules.ReviewMax.Minor != 500000 {
					t.Errorf("read %+v", next)
				}
				return
			}
			if !strings.Contains(errs[tc.field], tc.want) {
				t.Errorf("errors %v, want %q beside %s", errs, tc.want, tc.field)
			}
		})
	}
}
