package handlers

// Drafts: a receipt posted in the bot's DM (a message.im event with files) is read and answered
// with a draft, and the draft's buttons submit, edit or discard it.

import (
	"context"
	"fmt"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// maxDraftFiles bounds the files of one message that are drafted (Slack allows 10 a message).
const maxDraftFiles = 10

// filesInDM handles a message in the bot's DM: files shared by a person (subtype file_share) are
// acknowledged at once with a reaction, then each is read and drafted. The bot's own messages and
// other bots' are ignored, and so is everything else said in the DM.
func (a *App) filesInDM(ev *slackevents.MessageEvent, team string) Work {
	if ev.ChannelType != "im" || ev.SubType != "file_share" || ev.BotID != "" || ev.User == "" || ev.Message == nil ||
		ev.Message.BotID != "" || len(ev.Message.Files) == 0 {
		return nil
	}
	user, channel, ts := ev.User, ev.Channel, ev.TimeStamp
	var files []string
	for _, f := range ev.Message.Files {
		if f.ID != "" && len(files) < maxDraftFiles {
			files = append(files, f.ID)
		}
	}
	return func(ctx context.Context) {
		// Seen: the eyes say it arrived while it is read. A redelivery reacts again, which Slack
		// refuses as already_reacted: nothing to do.
		if err := a.slack.AddReactionContext(ctx, "eyes", slack.NewRefToMessage(channel, ts)); err != nil {
			a.log.Info("react to a receipt", "user_id", user, "err", err)
		}
		for _, f := range files {
			// The key is the message and the file: a redelivered event is the same message.
			req := approval.DraftRequest{Key: fmt.Sprintf("im:%s:%s:%s", channel, ts, f), User: user, Team: team, Channel: channel, FileID: f}
			out, err := a.flow.StartDraft(ctx, req)
			if err != nil {
				a.log.Error("draft a receipt", "user_id", user, "file", f, "err", err)
				a.post(ctx, channel, draftProblem("I could not read that file just now. Please post it again in a moment, or type the expense in the form.", true))
				continue
			}
			switch {
			case out.Draft.ID == 0 && out.Problem != "":
				a.post(ctx, channel, draftProblem(out.Problem, !out.NotReceipt))
			case out.Draft.ID == 0, out.Posted:
				// A redelivery of a draft that was posted, or that ended since: said already.
			default:
				ts, ok := a.post(ctx, channel, draftMessage(out.Draft))
				if ok {
					if err := a.flow.DraftPosted(ctx, out.Draft.ID, ts); err != nil {
						a.log.Warn("record the draft's message", "draft_id", out.Draft.ID, "err", err)
					}
				}
			}
		}
	}
}

// post posts m to channel and returns its ts.
func (a *App) post(ctx context.Context, channel string, m Message) (string, bool) {
	_, ts, err := a.slack.PostMessageContext(ctx, channel, m.options()...)
	if err != nil {
		a.log.Warn("post in the DM", "channel", channel, "err", err)
		return "", false
	}
	return ts, true
}

// replaceDraft redraws the draft's message where it was clicked, or tells the clicker when it
// cannot.
func (a *App) replaceDraft(ctx context.Context, cb slack.InteractionCallback, m Message) {
	w := whereOf(cb)
	ts := cb.Container.MessageTs
	if ts == "" {
		ts = cb.Message.Timestamp
	}
	if w.channel == "" || ts == "" || cb.Container.Type == "view" {
		a.tell(ctx, where{user: w.user}, m) // clicked in the App Home: answer in the DM
		return
	}
	if _, _, _, err := a.slack.UpdateMessageContext(ctx, w.channel, ts, m.options()...); err != nil {
		a.log.Warn("redraw draft", "user_id", w.user, "err", err)
		a.tell(ctx, w, m)
	}
}

// submitDraft handles Submit on a draft: the expense is saved before the click is acked, then the
// draft's message says what came of it.
func (a *App) submitDraft(cb slack.InteractionCallback, id int64) (any, Work) {
	if id <= 0 || cb.User.ID == "" {
		return nil, nil
	}
	user := cb.User.ID
	var saved expensebot.Expense
	var err error
	commit := Commit(func(ctx context.Context) any {
		saved, _, err = a.flow.SubmitDraft(ctx, user, id, nil)
		return nil
	})
	return commit, func(ctx context.Context) {
		if err != nil {
			if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
				a.log.Error("submit draft", "draft_id", id, "user_id", user, "err", err)
			}
			a.tell(ctx, whereOf(cb), ephemeral(failureText(err, expensebot.Expense{})))
			return
		}
		a.replaceDraft(ctx, cb, draftSubmitted(saved, a.flow.AIOn()))
	}
}

// openDraftForm handles Edit on a draft: the expense form, filled in from the draft.
func (a *App) openDraftForm(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) {
		d, err := a.flow.Draft(ctx, w.user, id)
		if err != nil {
			a.fail(ctx, w, "edit draft", err, expensebot.Expense{})
			return
		}
		if _, err := a.slack.OpenViewContext(ctx, trigger, draftModal(a.flow.Currency(), a.flow.Now(), a.receiptRule(), d)); err != nil {
			a.log.Warn("open modal", "action", ActionDraftEdit, "draft_id", id, "err", err)
			a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click *Edit* again."))
		}
	}
}

// discardDraft handles Discard: the draft is gone, but for its audit trail.
func (a *App) discardDraft(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w := whereOf(cb)
	return func(ctx context.Context) {
		d, err := a.flow.DiscardDraft(ctx, w.user, id)
		if err != nil {
			a.fail(ctx, w, "discard draft", err, expensebot.Expense{})
			return
		}
		a.replaceDraft(ctx, cb, draftEnded(d, "Discarded: nothing was submitted."))
	}
}

// DraftExpired redraws an expired draft's message in the DM: it says it expired, without buttons.
func (m *Messenger) DraftExpired(ctx context.Context, d expensebot.Draft) error {
	msg := draftEnded(d, "Expired: nothing was submitted. Post the receipt again to draft it anew.")
	var err error
	if d.MessageTS != "" {
		_, _, _, err = m.slack.UpdateMessageContext(ctx, d.Channel, d.MessageTS, msg.options()...)
	}
	return m.classify("chat.update", err)
}

var _ approval.DraftNotices = (*Messenger)(nil)
