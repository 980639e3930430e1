package fakeslack_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/slack-go/slack"
)

// TestScopesAndArchive: the bot token's scopes come back in X-OAuth-Scopes as Slack sends them,
// all the manifest's by default and what SetScopes says after; an archived channel says so and
// refuses posts.
func TestScopesAndArchive(t *testing.T) {
	s, _ := newFake(t)
	var header string
	api := slack.New(fakeslack.BotToken, slack.OptionAPIURL(s.APIURL()),
		slack.OptionOnResponseHeaders(func(_ string, h http.Header) { header = h.Get("X-OAuth-Scopes") }))
	ctx := context.Background()
	if _, err := api.AuthTestContext(ctx); err != nil || header != strings.Join(fakeslack.Scopes, ",") {
		t.Errorf("auth.test: %v, X-OAuth-Scopes %q", err, header)
	}
	s.SetScopes("commands", "chat:write")
	if _, err := api.GetUserInfoContext(ctx, "U1"); err != nil || header != "commands,chat:write" {
		t.Errorf("users.info: %v, X-OAuth-Scopes %q", err, header)
	}
	s.Archive("C1")
	c, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"})
	if err != nil || !c.IsArchived || !c.IsMember {
		t.Errorf("conversations.info of an archived channel: %v %+v", err, c)
	}
	if _, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("hi", false)); slackErr(err) != "is_archived" {
		t.Errorf("post to an archived channel: %v, want is_archived", err)
	}
}
