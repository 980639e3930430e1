package fakeslack_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/slack-go/slack"
)

func newFake(t *testing.T) (*fakeslack.Server, *slack.Client) {
	t.Helper()
	s, err := fakeslack.New(fakeslack.User{ID: "U1", Name: "ann", RealName: "Ann"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.AddChannel("C1", "general", fakeslack.BotUser, "U1")
	s.AddChannel("C2", "elsewhere", "U1")
	return s, slack.New(fakeslack.BotToken, slack.OptionAPIURL(s.APIURL()))
}

func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// TestRefusesWhatSlackRefuses: the fake must fail where Slack fails, or the tests would pass
// against a kinder Slack than the real one.
func TestRefusesWhatSlackRefuses(t *testing.T) {
	s, api := newFake(t)
	ctx := context.Background()
	var many []slack.Block
	for range 51 {
		many = append(many, slack.NewDividerBlock())
	}
	long := slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", strings.Repeat("x", 3001), false, false), nil, nil)
	longButton := slack.NewActionBlock("a", slack.NewButtonBlockElement("b", "v", slack.NewTextBlockObject("plain_text", strings.Repeat("x", 76), false, false)))
	dupIDs := []slack.Block{slack.NewActionBlock("same", slack.NewButtonBlockElement("b1", "v", slack.NewTextBlockObject("plain_text", "x", false, false))),
		slack.NewActionBlock("same", slack.NewButtonBlockElement("b2", "v", slack.NewTextBlockObject("plain_text", "y", false, false)))}
	tests := []struct {
		name, channel string
		blocks        []slack.Block
		want          string
	}{
		{"51 blocks", "C1", many, "invalid_blocks"},
		{"section over 3000", "C1", []slack.Block{long}, "invalid_blocks"},
		{"button text over 75", "C1", []slack.Block{longButton}, "invalid_blocks"},
		{"duplicate block ids", "C1", dupIDs, "invalid_blocks"},
		{"bot not in channel", "C2", []slack.Block{slack.NewDividerBlock()}, "not_in_channel"},
		{"no such channel", "C9", []slack.Block{slack.NewDividerBlock()}, "channel_not_found"},
	}
	for _, tt := range tests {
		_, _, err := api.PostMessageContext(ctx, tt.channel, slack.MsgOptionText("x", false), slack.MsgOptionBlocks(tt.blocks...))
		if got := slackErr(err); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if len(s.Calls("chat.postMessage")) != len(tests) {
		t.Errorf("calls not recorded")
	}
	if _, err := slack.New("xoxb-wrong", slack.OptionAPIURL(s.APIURL())).AuthTestContext(ctx); slackErr(err) != "invalid_auth" {
		t.Errorf("wrong token: %v", err)
	}
}

func TestTriggersAreSingleUseAndExpire(t *testing.T) {
	s, api := newFake(t)
	s.TriggerTTL = 200 * time.Millisecond
	modal := slack.ModalViewRequest{Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "Hi", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewDividerBlock()}}}
	ctx := context.Background()
	tr := s.NewTrigger("U1")
	if _, err := api.OpenViewContext(ctx, tr, modal); err != nil {
		t.Fatalf("fresh trigger refused: %v", err)
	}
	if _, err := api.OpenViewContext(ctx, tr, modal); slackErr(err) != "expired_trigger_id" {
		t.Errorf("reused trigger: %v", err)
	}
	late := s.NewTrigger("U1")
	time.Sleep(250 * time.Millisecond)
	if _, err := api.OpenViewContext(ctx, late, modal); slackErr(err) != "expired_trigger_id" {
		t.Errorf("expired trigger: %v", err)
	}
	if _, err := s.Command("U1", "C1", "/expense", "x"); !errors.Is(err, fakeslack.ErrNotConnected) {
		t.Errorf("command without a bot: %v", err)
	}
	if _, err := api.OpenViewContext(ctx, "TR-never-issued", modal); slackErr(err) != "invalid_trigger_id" {
		t.Errorf("unknown trigger: %v", err)
	}
}

// TestLookupByEmail: users.lookupByEmail finds a person by address, in any case, and answers
// users_not_found as Slack does for an address nobody in the workspace has.
func TestLookupByEmail(t *testing.T) {
	s, err := fakeslack.New(fakeslack.User{ID: "U1", Name: "ann", RealName: "Ann", Email: "ann@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(s.APIURL()))
	u, err := api.GetUserByEmailContext(context.Background(), "Ann@Example.com")
	if err != nil || u.ID != "U1" || u.Profile.Email != "ann@example.com" {
		t.Errorf("lookup = %+v, %v", u, err)
	}
	if _, err := api.GetUserByEmailContext(context.Background(), "bob@example.com"); slackErr(err) != "users_not_found" {
		t.Errorf("unknown address: %v", err)
	}
}
