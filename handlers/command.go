package handlers

import (
	"context"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// expenseCommand handles /expense. Its ack is the immediate answer the user sees; nothing in it
// touches the database, the AI or the Web API.
func (a *App) expenseCommand(cmd slack.SlashCommand) (ack any, work Work) {
	w := where{user: cmd.UserID, channel: cmd.ChannelID, responseURL: cmd.ResponseURL}
	text := strings.TrimSpace(cmd.Text)
	switch strings.ToLower(text) {
	case "":
		trigger := cmd.TriggerID
		return nil, func(ctx context.Context) { a.openExpenseModal(ctx, trigger, w) }
	case "help", "?":
		return helpMessage(a.flow.Currency()), nil
	case "history", "list":
		return nil, func(ctx context.Context) {
			list, err := a.flow.History(ctx, cmd.UserID, 10)
			if err != nil {
				a.fail(ctx, w, "history", err, expensebot.Expense{})
				return
			}
			a.tell(ctx, w, historyMessage(list))
		}
	}
	if err := expensebot.CheckText("text", text, true); err != nil {
		return ephemeral(":warning: " + expensebot.ErrorMessage(err) + " Nothing was submitted."), nil
	}
	e, err := parseQuick(text, a.flow.Currency(), a.flow.Now())
	if err != nil {
		// The message quotes what was typed, so it is escaped; it already shows how to write it.
		return ephemeral(":warning: " + escape(expensebot.ErrorMessage(err))), nil
	}
	if cmd.TriggerID == "" {
		return ephemeral(":warning: Slack sent this command without a trigger id; please try again."), nil
	}
	e.TeamID, e.SubmitterID, e.IdempotencyKey = cmd.TeamID, cmd.UserID, "trigger:"+cmd.TriggerID
	return Commit(func(ctx context.Context) any {
		saved, err := a.commit(ctx, e)
		if err != nil {
			return ephemeral(":warning: " + expensebot.ErrorMessage(err))
		}
		return receivedMessage(saved, a.flow.AIOn())
	}), nil
}

// parseQuick reads the quick command's text (see [expensebot.ParseClaim]) into an expense
// incurred today, checked by the domain's rules.
func parseQuick(text, currency string, now time.Time) (expensebot.Expense, error) {
	c, err := expensebot.ParseClaim(text, currency)
	if err != nil {
		return expensebot.Expense{}, err
	}
	e := expensebot.Expense{Amount: c.Amount, Category: c.Category, Description: c.Description, IncurredOn: now}
	probe := e
	probe.SubmitterID = "-" // filled in by the caller
	if err := probe.Validate(now); err != nil {
		return e, err
	}
	return e, nil
}

// openExpenseModal opens the form at once: a trigger_id lives about three seconds.
// receiptRule is when the policy requires a receipt, for the expense form's hint.
func (a *App) receiptRule() receiptRule {
	over, byCategory := a.flow.ReceiptLimits()
	return receiptRule{Over: over, ByCategory: byCategory}
}

func (a *App) openExpenseModal(ctx context.Context, trigger string, w where) {
	if _, err := a.slack.OpenViewContext(ctx, trigger, expenseModal(a.flow.Currency(), a.flow.Now(), a.receiptRule())); err != nil {
		a.log.Warn("open expense modal", "user_id", w.user, "err", err)
		a.tell(ctx, w, ephemeral(":warning: I could not open the form in time; please run `/expense` again, or use `/expense 42.50 Team lunch`."))
	}
}

// commit saves a submission before its ack, within ctx's deadline. The first try leaves
// recheckTime of the deadline: when the database did not answer in time the commit may still have
// happened, so it asks once more with the same idempotency key, which finds the saved expense, or
// saves it now, or fails for good. A failure's message says the expense was not saved.
func (a *App) commit(ctx context.Context, e expensebot.Expense) (expensebot.Expense, error) {
	first := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		first, cancel = context.WithDeadline(ctx, deadline.Add(-recheckTime))
		defer cancel()
	}
	saved, _, err := a.flow.Submit(first, e)
	if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL && ctx.Err() == nil {
		saved, _, err = a.flow.Submit(ctx, e)
	}
	if err != nil && expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		a.log.Error("submit", "user_id", e.SubmitterID, "err", err)
		return saved, expensebot.Errorf(expensebot.EINTERNAL, "I could not save your expense just now, so it was not submitted. Please try again in a moment.")
	}
	return saved, err
}

// recheckTime is what a commit keeps of its deadline for the second try.
const recheckTime = 500 * time.Millisecond
