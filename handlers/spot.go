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

// failSpot tells w why a spot check was not resolved; one who came too late is told who did.
func (a *App) failSpot(ctx context.Context, w where, err error, sc expensebot.SpotCheck) {
	if expensebot.ErrorCode(err) == expensebot.ECONFLICT && sc.CheckedBy != "" {
		a.tell(ctx, w, ephemeral(fmt.Sprintf(":information_source: The spot check of expense #%d was already %s by <@%s> at %s.",
			sc.ExpenseID, sc.Status, sc.CheckedBy, slackDate(sc.CheckedAt))))
		return
	}
	a.fail(ctx, w, "spot check", err, expensebot.Expense{ID: sc.ExpenseID})
}
