package handlers

import (
	"context"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// where says where to answer the person who acted.
type where struct{ user, channel, responseURL string }

func whereOf(cb slack.InteractionCallback) where {
	ch := cb.Channel.ID
	if ch == "" {
		ch = cb.Container.ChannelID
	}
	return where{user: cb.User.ID, channel: ch, responseURL: cb.ResponseURL}
}

// tell answers privately: through the interaction's response_url, as an ephemeral in a channel,
// or by DM when there is neither (App Home buttons have no response_url).
func (a *App) tell(ctx context.Context, w where, m Message) {
	// response_url is posted with http.DefaultClient, which has no deadline of its own.
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var err error
	switch {
	case w.responseURL != "":
		err = slack.PostWebhookContext(ctx, w.responseURL, &slack.WebhookMessage{Text: m.Text, Blocks: &m.Blocks, ResponseType: slack.ResponseTypeEphemeral, ReplaceOriginal: false})
	case w.channel != "" && w.channel[0] == 'C':
		_, err = a.slack.PostEphemeralContext(ctx, w.channel, w.user, m.options()...)
	default:
		_, _, err = a.slack.PostMessageContext(ctx, w.user, m.options()...)
	}
	if err != nil {
		a.log.Warn("could not answer user", "user_id", w.user, "err", err)
	}
}

// fail tells w why what they asked for did not happen. e is the expense as it stands, if the
// error came with one: a decision that came too late says who decided. Only internal errors are
// logged, with their whole chain; their message to the user hides it.
func (a *App) fail(ctx context.Context, w where, op string, err error, e expensebot.Expense) {
	a.tell(ctx, w, ephemeral(failureText(err, e)))
	if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		a.log.Error(op, "user_id", w.user, "expense_id", e.ID, "err", err)
	}
}

// failureText is the one sentence a person reads when something they asked for did not happen.
func failureText(err error, e expensebot.Expense) string {
	switch expensebot.ErrorCode(err) {
	case expensebot.ECONFLICT:
		if e.ID != 0 && e.Status.Final() {
			return ":information_source: " + alreadyDecided(e)
		}
		return ":information_source: " + expensebot.ErrorMessage(err)
	case expensebot.EFORBIDDEN:
		return ":no_entry: " + expensebot.ErrorMessage(err)
	}
	return ":warning: " + expensebot.ErrorMessage(err)
}
