package web

import (
	"context"
	"errors"
	"fmt"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// Directory finds people and messages for the approval API through the Slack Web API
// (users.lookupByEmail, users.info, chat.getPermalink). It is an [api.Directory].
type Directory struct{ Slack *slack.Client }

func (d Directory) UserByEmail(ctx context.Context, email string) (string, error) {
	u, err := d.Slack.GetUserByEmailContext(ctx, email)
	switch {
	case err != nil && slackErr(err) == "users_not_found":
		return "", expensebot.Errorf(expensebot.ENOTFOUND, "No one in the Slack workspace has the address %s.", email)
	case err != nil:
		return "", fmt.Errorf("users.lookupByEmail: %s", slackErr(err))
	case u.Deleted || u.IsBot:
		return "", expensebot.Errorf(expensebot.ENOTFOUND, "%s belongs to a deactivated account or a bot, not a person who can claim expenses.", email)
	}
	return u.ID, nil
}

func (d Directory) User(ctx context.Context, id string) error {
	u, err := d.Slack.GetUserInfoContext(ctx, id)
	switch {
	case err != nil && slackErr(err) == "user_not_found":
		return expensebot.Errorf(expensebot.ENOTFOUND, "There is no Slack user %s in this workspace.", id)
	case err != nil:
		return fmt.Errorf("users.info: %s", slackErr(err))
	case u.Deleted || u.IsBot:
		return expensebot.Errorf(expensebot.ENOTFOUND, "%s is a deactivated account or a bot, not a person who can claim expenses.", id)
	}
	return nil
}

func (d Directory) Permalink(ctx context.Context, channel, ts string) (string, error) {
	return d.Slack.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: channel, Ts: ts})
}

// slackErr is Slack's error code, or the error's text when Slack did not answer.
func slackErr(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return err.Error()
}
