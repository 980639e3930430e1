package handlers

import (
	"context"
	"fmt"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// confirmSpotCheck handles a spot check's Confirm: nothing wrong was found.
func (a *App) confirmSpotCheck(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w := whereOf(cb)
	return func(ctx context.Context) {
		if sc, err := a.flow.ResolveSpotCheck(ctx, w.user, id, false, ""); err != nil {
			a.failSpot(ctx, w, err, sc)
		}
	}
}

// openSpotFlagForm handles a spot check's Flag: it asks what is wrong, once the clicker is known
// to be allowed.
func (a *App) openSpotFlagForm(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) {
		e, sc, err := a.flow.AuthorizeSpotCheck(ctx, w.user, id)
		if err != nil {
			a.failSpot(ctx, w, err, sc)
			return
		}
		if _, err := a.slack.OpenViewContext(ctx, trigger, spotFlagModal(e, w.channel)); err != nil {
			a.log.Warn("open modal", "action", ActionSpotFlag, "expense_id", id, "err", err)
			a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click again."))
		}
	}
}

// openSpotSettleForm handles a flagged spot check's Clear (clear true) or Do not pay: it asks
// why, once the clicker is known to be allowed.
func (a *App) openSpotSettleForm(clear bool) actionFunc {
	return func(cb slack.InteractionCallback, id int64) Work {
		if id <= 0 {
			return nil
		}
		w, trigger := whereOf(cb), cb.TriggerID
		return func(ctx context.Context) {
			e, sc, err := a.flow.AuthorizeSpotSettle(ctx, w.user, id)
			if err != nil {
				a.failSpot(ctx, w, err, sc)
				return
			}
			if _, err := a.slack.OpenViewContext(ctx, trigger, spotSettleModal(e, w.channel, clear)); err != nil {
				a.log.Warn("open modal", "action", "spot_settle", "expense_id", id, "err", err)
				a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click again."))
			}
		}
	}
}

// settleSubmit handles the Clear or Do not pay form: the reason is checked before the ack, then
// the flag is settled, once; one who came too late is told who did.
func (a *App) settleSubmit(clear bool) viewFunc {
	return a.textSubmit(inSettlement, "spot check", func(ctx context.Context, w where, id int64, text string) error {
		if sc, err := a.flow.SettleSpotCheck(ctx, w.user, id, clear, text); err != nil {
			a.failSpot(ctx, w, err, sc)
		}
		return nil // failSpot told what happened
	}, nil)
}

// failSpot tells w why a spot check was not resolved; one who came too late is told who did.
func (a *App) failSpot(ctx context.Context, w where, err error, sc expensebot.SpotCheck) {
	if expensebot.ErrorCode(err) == expensebot.ECONFLICT && sc.SettledBy != "" {
		a.tell(ctx, w, ephemeral(fmt.Sprintf(":information_source: The flagged spot check of expense #%d was already %s by <@%s> at %s.",
			sc.ExpenseID, settledAs(sc.Status), sc.SettledBy, slackDate(sc.SettledAt))))
		return
	}
	if expensebot.ErrorCode(err) == expensebot.ECONFLICT && sc.CheckedBy != "" {
		a.tell(ctx, w, ephemeral(fmt.Sprintf(":information_source: The spot check of expense #%d was already %s by <@%s> at %s.",
			sc.ExpenseID, sc.Status, sc.CheckedBy, slackDate(sc.CheckedAt))))
		return
	}
	a.fail(ctx, w, "spot check", err, expensebot.Expense{ID: sc.ExpenseID})
}
