package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/expensebot/expensebot/home"
	"github.com/slack-go/slack"
)

// permanent are Slack errors that no retry will cure.
var permanent = []string{"invalid_blocks", "invalid_blocks_format", "invalid_arguments", "msg_too_long", "no_text", "cant_update_message"}

// blocked are Slack errors only an administrator can cure: the notice waits for them.
var blocked = []string{"not_in_channel", "channel_not_found", "is_archived", "not_authed", "invalid_auth", "account_inactive", "token_revoked", "missing_scope"}

// classify tells the workflow how to retry a failed Slack call.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return &approval.RetryAfterError{Wait: rl.RetryAfter, Err: err}
	}
	code := err.Error()
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		code = se.Err
	}
	switch {
	case slices.Contains(blocked, code):
		return &approval.BlockedError{Err: err}
	case slices.Contains(permanent, code):
		return &approval.PermanentError{Err: err}
	}
	return err
}

// classify is classify, counting a 429 from method for the dashboard.
func (m *Messenger) classify(method string, err error) error {
	var rl *slack.RateLimitedError
	if m.observe != nil && errors.As(err, &rl) {
		m.observe.RateLimited(method)
	}
	err = classify(err)
	var ra *approval.RetryAfterError
	if errors.As(err, &ra) {
		ra.Method = method // which pause it is: one conversation's, or the method's
	}
	return err
}

// CheckChannel reports, in words for an operator, why the bot cannot post cards to channel.
func (m *Messenger) CheckChannel(ctx context.Context, channel string) error {
	c, err := m.slack.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: channel})
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se) && se.Err == "channel_not_found":
		return fmt.Errorf("there is no channel %s, or it is private and the bot is not in it: check the id, or type /invite @expensebot in the channel", channel)
	case errors.As(err, &se) && se.Err == "missing_scope":
		return fmt.Errorf("the app lacks the scope to read channel %s: reinstall it from manifest.yml (channels:read, groups:read)", channel)
	case err != nil:
		return fmt.Errorf("could not check channel %s: %w", channel, err)
	case c.IsArchived:
		return fmt.Errorf("channel %s (#%s) is archived: unarchive it, or set another approvals channel", channel, c.Name)
	case !c.IsMember:
		return fmt.Errorf("the bot is not in channel %s (#%s): type /invite @expensebot in it", channel, c.Name)
	}
	return nil
}

// Every post carries message metadata naming the notice it delivers (and which of a notice's
// posts it is), so that a retry after a crash or a lost answer finds the post in the conversation
// instead of posting it twice.
const noticeEventType = "expensebot_notice"

// Parts of a notice that posts more than once.
const (
	partCard   = "card"
	partDM     = "dm"
	partThread = "thread"
)

// historyWindow is how many recent messages a retry looks through for its earlier post: a
// conversation rarely moves further between an attempt and its retry.
const historyWindow = 100

func noticeMetadata(n expensebot.Notice, part string) slack.MsgOption {
	return slack.MsgOptionMetadata(slack.SlackMetadata{EventType: noticeEventType,
		EventPayload: map[string]any{"notice_id": strconv.FormatInt(n.ID, 10), "part": part}})
}

// post posts msg to channel (in thread, when set) for part of notice n. A notice tried before may
// have reached Slack (a crash, or an answer lost on the way back), so it first looks for its
// earlier post and returns that one. If the lookup fails the message is posted: saying a thing
// twice is better than not at all.
func (m *Messenger) post(ctx context.Context, channel, thread string, n expensebot.Notice, part string, msg Message) (string, string, error) {
	if n.Attempts > 0 {
		ch, ts, found, err := m.findPost(ctx, channel, thread, n, part)
		switch {
		case err != nil:
			m.log.Warn("could not look for an earlier post; posting", "notice_id", n.ID, "err", err)
		case found:
			m.log.Info("notice was already posted; not posting again", "notice_id", n.ID, "part", part)
			return ch, ts, nil
		}
	}
	opts := append(msg.options(), noticeMetadata(n, part))
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	ch, ts, err := m.slack.PostMessageContext(ctx, channel, opts...)
	return ch, ts, m.classify("chat.postMessage", err)
}

// findPost looks for the post of part of notice n among the latest messages of channel, or of
// thread. A user id stands for the DM with them.
func (m *Messenger) findPost(ctx context.Context, channel, thread string, n expensebot.Notice, part string) (string, string, bool, error) {
	if strings.HasPrefix(channel, "U") || strings.HasPrefix(channel, "W") {
		c, _, _, err := m.slack.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{channel}})
		if err != nil {
			return "", "", false, fmt.Errorf("open DM: %w", err)
		}
		channel = c.ID
	}
	var msgs []slack.Message
	if thread != "" {
		var err error
		msgs, _, _, err = m.slack.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: channel, Timestamp: thread, Limit: historyWindow, IncludeAllMetadata: true})
		if err != nil {
			return "", "", false, fmt.Errorf("conversations.replies: %w", err)
		}
	} else {
		h, err := m.slack.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: channel, Limit: historyWindow, IncludeAllMetadata: true})
		if err != nil {
			return "", "", false, fmt.Errorf("conversations.history: %w", err)
		}
		msgs = h.Messages
	}
	id := strconv.FormatInt(n.ID, 10)
	for _, msg := range msgs {
		md := msg.Metadata
		if md.EventType == noticeEventType && fmt.Sprint(md.EventPayload["notice_id"]) == id && fmt.Sprint(md.EventPayload["part"]) == part {
			return channel, msg.Timestamp, true, nil
		}
	}
	return "", "", false, nil
}

// PostReview posts the approval card in e.ReviewChannel.
func (m *Messenger) PostReview(ctx context.Context, e expensebot.Expense, n expensebot.Notice) (string, string, error) {
	return m.post(ctx, e.ReviewChannel, "", n, partCard, approvalMessage(e, m.receiptLinks(ctx, e), m.cardLinks(ctx, e)))
}

// UpdateReview redraws the approval card.
func (m *Messenger) UpdateReview(ctx context.Context, e expensebot.Expense) error {
	_, _, _, err := m.slack.UpdateMessageContext(ctx, e.ReviewChannel, e.ReviewMessageTS, approvalMessage(e, m.receiptLinks(ctx, e), m.cardLinks(ctx, e)).options()...)
	return m.classify("chat.update", err)
}

// TellSubmitter DMs the submitter the news of n.
func (m *Messenger) TellSubmitter(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error {
	_, _, err := m.post(ctx, e.SubmitterID, "", n, partDM, submitterNotice(e, n))
	return err
}

// PostComment threads a reviewer's comment or question under the card and DMs it to the
// submitter. A retry after the thread reply got through finds it and only sends the DM.
func (m *Messenger) PostComment(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error {
	if e.ReviewMessageTS != "" {
		if _, _, err := m.post(ctx, e.ReviewChannel, e.ReviewMessageTS, n, partThread, commentNotice(e, n, false)); err != nil {
			return fmt.Errorf("thread: %w", err)
		}
	}
	if _, _, err := m.post(ctx, e.SubmitterID, "", n, partDM, commentNotice(e, n, true)); err != nil {
		return fmt.Errorf("DM: %w", err)
	}
	return nil
}

// PostThread replies under the card: an answer, a reminder, an escalation.
func (m *Messenger) PostThread(ctx context.Context, e expensebot.Expense, n expensebot.Notice) error {
	_, _, err := m.post(ctx, e.ReviewChannel, e.ReviewMessageTS, n, partThread, threadMessage(e, n))
	return err
}

// PublishHome publishes user's App Home.
func (m *Messenger) PublishHome(ctx context.Context, user string, h home.View) error {
	_, err := m.slack.PublishViewContext(ctx, slack.PublishViewContextRequest{UserID: user, View: m.withAdmin(ctx, user, homeView(h))})
	return m.classify("views.publish", err)
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
	for _, r := range e.Receipts {
		if d := r.Duplicate; d != nil && d.ReviewMessageTS != "" {
			if u, err := m.slack.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: d.ReviewChannel, Ts: d.ReviewMessageTS}); err == nil {
				links[fmt.Sprintf("#%d", d.ExpenseID)] = u
			}
		}
	}
	return links
}
