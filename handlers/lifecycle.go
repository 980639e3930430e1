package handlers

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// The handlers of an expense's life after the first click: a reviewer's question and the
// submitter's reply, withdrawal, edit and resubmit, delegation, and paging through history.

// openReplyForm handles Reply on a question: the form shows the question, for its submitter only.
func (a *App) openReplyForm(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) {
		e, err := a.flow.OpenQuestion(ctx, w.user, id)
		if err != nil {
			a.fail(ctx, w, "open question", err, expensebot.Expense{})
			return
		}
		if _, err := a.slack.OpenViewContext(ctx, trigger, replyModal(e, w.channel)); err != nil {
			a.log.Warn("open modal", "action", ActionReply, "expense_id", id, "err", err)
			a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click again."))
		}
	}
}

// openResubmitForm handles Edit and resubmit: the expense form, filled in from the old expense.
func (a *App) openResubmitForm(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) {
		e, err := a.flow.Resubmittable(ctx, w.user, id)
		if err != nil {
			a.fail(ctx, w, "resubmit", err, expensebot.Expense{})
			return
		}
		if _, err := a.slack.OpenViewContext(ctx, trigger, resubmitModal(a.flow.Currency(), a.flow.Now(), a.receiptRule(), e)); err != nil {
			a.log.Warn("open modal", "action", ActionEdit, "expense_id", id, "err", err)
			a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click again."))
		}
	}
}

// withdraw handles Withdraw (the button asks for confirmation first).
func (a *App) withdraw(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w := whereOf(cb)
	return func(ctx context.Context) {
		e, err := a.flow.Withdraw(ctx, w.user, id)
		if err != nil {
			a.fail(ctx, w, "withdraw", err, expensebot.Expense{})
			return
		}
		a.tell(ctx, w, ephemeral(fmt.Sprintf(":leftwards_arrow_with_hook: Withdrew expense #%d (%s); reviewers no longer decide it.", e.ID, e.Amount)))
	}
}

// openDelegateForm handles "Set away…" on the App Home.
func (a *App) openDelegateForm(cb slack.InteractionCallback, _ int64) Work {
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) {
		if _, err := a.slack.OpenViewContext(ctx, trigger, delegateModal(a.flow.Now())); err != nil {
			a.log.Warn("open modal", "action", ActionDelegate, "user_id", w.user, "err", err)
			a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click again."))
		}
	}
}

// parseDelegation reads the delegation form: the last day away (the delegation ends at the start
// of the next day, UTC) and the delegate, or the problems beside their inputs.
func parseDelegation(v map[string]map[string]slack.BlockAction, user string, now time.Time) (delegate string, until time.Time, errs map[string]string) {
	errs = map[string]string{}
	day, err := time.Parse(time.DateOnly, v[inAwayUntil][inAwayUntil].SelectedDate)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	switch {
	case err != nil:
		errs[inAwayUntil] = "Choose the last day you are away."
	case day.Before(today):
		errs[inAwayUntil] = "That day is past; choose the last day you are away."
	case day.After(today.AddDate(1, 0, 0)):
		errs[inAwayUntil] = "At most a year ahead; set it again when you know more."
	}
	delegate = v[inDelegate][inDelegate].SelectedUser
	switch {
	case delegate == "":
		errs[inDelegate] = "Choose who decides for you."
	case delegate == user:
		errs[inDelegate] = "Choose someone else: you cannot stand in for yourself."
	case !strings.HasPrefix(delegate, "U") && !strings.HasPrefix(delegate, "W"):
		errs[inDelegate] = "Choose a person."
	}
	return delegate, day.AddDate(0, 0, 1), errs
}

// submitDelegate records a delegation. It is saved before the ack, so that a loop is refused
// beside the person chosen.
func (a *App) submitDelegate(cb slack.InteractionCallback) (any, Work) {
	values := map[string]map[string]slack.BlockAction{}
	if cb.View.State != nil {
		values = cb.View.State.Values
	}
	user := cb.User.ID
	delegate, until, errs := parseDelegation(values, user, a.flow.Now())
	if len(errs) > 0 {
		return fieldErrors(errs), nil
	}
	if user == "" {
		return nil, nil
	}
	return Commit(func(ctx context.Context) any {
		if err := a.flow.Delegate(ctx, user, delegate, until); err != nil {
			if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
				a.log.Error("delegate", "user_id", user, "err", err)
			}
			return fieldErrors(map[string]string{inDelegate: expensebot.ErrorMessage(err)})
		}
		return nil
	}), nil
}

// endDelegation handles "I'm back".
func (a *App) endDelegation(cb slack.InteractionCallback, _ int64) Work {
	w := whereOf(cb)
	return func(ctx context.Context) {
		if err := a.flow.EndDelegation(ctx, w.user); err != nil {
			a.fail(ctx, w, "end delegation", err, expensebot.Expense{})
			return
		}
		a.flow.HomeOpened(ctx, "", w.user)
	}
}

// historyPage handles the App Home's filter and page buttons, whose value is "status|page".
func (a *App) historyPage(cb slack.InteractionCallback, _ int64) Work {
	user := cb.User.ID
	status, num, _ := strings.Cut(cb.ActionCallback.BlockActions[0].Value, "|")
	page, _ := strconv.Atoi(num)
	return func(ctx context.Context) { a.flow.HomePage(ctx, user, expensebot.Status(status), page) }
}
