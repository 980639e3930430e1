package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/slack-go/slack"
)

// permanent are Slack errors that no retry will cure.
var permanent = []string{"invalid_blocks", "invalid_blocks_format", "invalid_arguments", "msg_too_long", "no_text", "cant_update_message"}

// classify tells the workflow how to retry a failed Slack call.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &approval.RetryAfterError{Wait: rl.RetryAfter, Err: err}
	}
	var se slack.SlackErrorResponse
	if (errors.As(err, &se) && slices.Contains(permanent, se.Err)) || slices.Contains(permanent, err.Error()) {
		return &approval.PermanentError{Err: err}
	}
	return err
}

// PostReview posts the approval card in e.ReviewChannel.
func (m *Messenger) PostReview(ctx context.Context, e expensebot.Expense) (string, string, error) {
	ch, ts, err := m.slack.PostMessageContext(ctx, e.ReviewChannel, approvalMessage(e, m.receiptLinks(ctx, e)).options()...)
	return ch, ts, classify(err)
}

// UpdateReview redraws the approval card.
func (m *Messenger) UpdateReview(ctx context.Context, e expensebot.Expense) error {
	_, _, _, err := m.slack.UpdateMessageContext(ctx, e.ReviewChannel, e.ReviewMessageTS, approvalMessage(e, m.receiptLinks(ctx, e)).options()...)
	return classify(err)
}

// TellSubmitter DMs the submitter the news of n.
func (m *Messenger) TellSubmitter(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error {
	_, _, err := m.slack.PostMessageContext(ctx, e.SubmitterID, submitterNotice(e, n).options()...)
	return classify(err)
}

// PostComment threads a reviewer's comment under the card and DMs it to the submitter.
func (m *Messenger) PostComment(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error {
	msg := commentNotice(e, n)
	if e.ReviewMessageTS != "" {
		opts := append(msg.options(), slack.MsgOptionTS(e.ReviewMessageTS))
		if _, _, err := m.slack.PostMessageContext(ctx, e.ReviewChannel, opts...); err != nil {
			return fmt.Errorf("thread: %w", classify(err))
		}
	}
	if _, _, err := m.slack.PostMessageContext(ctx, e.SubmitterID, msg.options()...); err != nil {
		return fmt.Errorf("DM: %w", classify(err))
	}
	return nil
}

// PublishHome publishes user's App Home.
func (m *Messenger) PublishHome(ctx context.Context, user string, h approval.Home) error {
	_, err := m.slack.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: homeView(h)})
	return classify(err)
}

// GroupMembers lists a user group's members (usergroups.users.list).
func (m *Messenger) GroupMembers(ctx context.Context, group string) ([]string, error) {
	return m.slack.GetUserGroupMembersContext(ctx, group)
}

// receiptLinks looks up the receipts' permalinks; a receipt that cannot be looked up is shown by id.
func (m *Messenger) receiptLinks(ctx context.Context, e expensebot.Expense) map[string]string {
	links := map[string]string{}
	for _, id := range e.ReceiptFileIDs {
		f, _, _, err := m.slack.GetFileInfoContext(ctx, id, 0, 0)
		if err != nil || f == nil || f.Permalink == "" {
			continue
		}
		links[id] = f.Permalink
	}
	return links
}
