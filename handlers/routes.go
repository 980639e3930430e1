package handlers

import (
	"context"
	"fmt"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The whole Slack surface of the app, in one place: the command, every button's action id (the
// part before ":" for buttons that carry an expense id), every modal's callback id and every
// event. Nothing else in the package decides which handler runs.

// actionFunc handles a button click on expense id (0 for buttons about no expense).
type actionFunc func(cb slack.InteractionCallback, id int64) Work

// viewFunc handles a modal submission: a view_submission ack (field errors, or the next view)
// and the work after it.
type viewFunc func(cb slack.InteractionCallback) (ack any, work Work)

func (a *App) routes() {
	a.actions = map[string]actionFunc{
		ActionNewExpense:    a.openExpenseForm,
		ActionApprove:       a.approve,
		ActionReject:        a.openReasonForm(ActionReject),
		ActionComment:       a.openReasonForm(ActionComment),
		ActionSpotConfirm:   a.confirmSpotCheck,
		ActionSpotFlag:      a.openSpotFlagForm,
		ActionSpotClear:     a.openSpotSettleForm(true),
		ActionSpotUphold:    a.openSpotSettleForm(false),
		ActionAttachReceipt: a.openReceiptForm,
		ActionAsk:           a.openReasonForm(ActionAsk),
		ActionReply:         a.openReplyForm,
		ActionEdit:          a.openResubmitForm,
		ActionWithdraw:      a.withdraw,
		ActionDelegate:      a.openDelegateForm,
		ActionEndDelegation: a.endDelegation,
		ActionHistory:       a.historyPage,
		ActionAdminEdit:     a.openAdminForm,
		ActionAdminCheck:    a.checkSetup,
		ActionDraftEdit:     a.openDraftForm,
		ActionDraftDiscard:  a.discardDraft,
	}
	a.views = map[string]viewFunc{
		CallbackExpense: a.submitExpenseForm,
		CallbackReject: a.textSubmit(inReason, "reject", func(ctx context.Context, w where, id int64, text string) error {
			a.decide(ctx, w, expensebot.Decision{ExpenseID: id, Reviewer: w.user, Outcome: expensebot.Reject, Reason: text})
			return nil // decide tells its own failures, with who came first
		}, nil),
		CallbackComment: a.textSubmit(inComment, "comment", func(ctx context.Context, w where, id int64, text string) error {
			return a.flow.Comment(ctx, w.user, id, text)
		}, nil),
		CallbackSpotFlag: a.textSubmit(inFinding, "spot check", func(ctx context.Context, w where, id int64, text string) error {
			if sc, err := a.flow.ResolveSpotCheck(ctx, w.user, id, true, text); err != nil {
				a.failSpot(ctx, w, err, sc)
			}
			return nil // failSpot told who came first
		}, nil),
		CallbackSpotClear:  a.settleSubmit(true),
		CallbackSpotUphold: a.settleSubmit(false),
		CallbackReceipt:    a.submitReceipt,
		CallbackAsk: a.textSubmit(inQuestion, "ask", func(ctx context.Context, w where, id int64, text string) error {
			return a.flow.AskInfo(ctx, w.user, id, text)
		}, nil),
		CallbackReply: a.textSubmit(inAnswer, "answer", func(ctx context.Context, w where, id int64, text string) error {
			return a.flow.Answer(ctx, w.user, id, text)
		}, func(id int64) string {
			return fmt.Sprintf(":speech_balloon: Sent your answer on expense #%d; it is back with the reviewers.", id)
		}),
		CallbackDelegate: a.submitDelegate,
		CallbackAdmin:    a.submitAdminForm,
	}
}

// Command handles a slash command; /expense is the only one the manifest declares.
func (a *App) Command(cmd slack.SlashCommand) (ack any, work Work) {
	return a.expenseCommand(cmd)
}

// Interaction handles button clicks and modal submissions.
func (a *App) Interaction(cb slack.InteractionCallback) (ack any, work Work) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		if len(cb.ActionCallback.BlockActions) == 0 || cb.User.ID == "" {
			return nil, nil
		}
		action, id, _ := parseActionID(cb.ActionCallback.BlockActions[0].ActionID)
		if action == ActionDraftSubmit {
			return a.submitDraft(cb, id) // saved before the click is acked
		}
		if fn, ok := a.actions[action]; ok {
			return nil, fn(cb, id)
		}
	case slack.InteractionTypeViewSubmission:
		if fn, ok := a.views[cb.View.CallbackID]; ok {
			return fn(cb)
		}
	}
	return nil, nil
}

// Event handles an Events API event.
func (a *App) Event(ev slackevents.EventsAPIEvent) Work {
	var eventID string
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok && cb != nil {
		eventID = cb.EventID
	}
	switch inner := ev.InnerEvent.Data.(type) {
	case *slackevents.AppHomeOpenedEvent:
		return a.homeOpened(eventID, inner.User, inner.Tab)
	case *slackevents.MessageEvent: // message.im: receipts posted in the bot's DM
		return a.filesInDM(inner, ev.TeamID)
	}
	return nil
}
