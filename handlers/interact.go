package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// viewAck is a view_submission response.
type viewAck struct {
	ResponseAction string                  `json:"response_action"`
	Errors         map[string]string       `json:"errors,omitempty"`
	View           *slack.ModalViewRequest `json:"view,omitempty"`
}

// Interaction handles button clicks and modal submissions.
func (a *App) Interaction(cb slack.InteractionCallback) (ack any, work Work) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		return nil, a.blockAction(cb)
	case slack.InteractionTypeViewSubmission:
		return a.viewSubmission(cb)
	}
	return nil, nil
}

// where says where to answer the person who clicked.
type where struct{ user, channel, responseURL string }

func whereOf(cb slack.InteractionCallback) where {
	ch := cb.Channel.ID
	if ch == "" {
		ch = cb.Container.ChannelID
	}
	return where{user: cb.User.ID, channel: ch, responseURL: cb.ResponseURL}
}

func (a *App) blockAction(cb slack.InteractionCallback) Work {
	if len(cb.ActionCallback.BlockActions) == 0 || cb.User.ID == "" {
		return nil
	}
	act := cb.ActionCallback.BlockActions[0]
	w := whereOf(cb)
	if act.ActionID == "new_expense" {
		trigger := cb.TriggerID
		return func(ctx context.Context) { a.openExpenseModal(ctx, trigger, w.user, w.channel, w.responseURL) }
	}
	action, id, ok := parseActionID(act.ActionID)
	if !ok {
		return nil
	}
	trigger := cb.TriggerID
	switch action {
	case "approve":
		return func(ctx context.Context) {
			a.decide(ctx, w, expensebot.Decision{ExpenseID: id, Reviewer: w.user, Outcome: expensebot.Approve})
		}
	case "reject", "comment":
		return func(ctx context.Context) {
			e, ok := a.authorize(ctx, w, id, action)
			if !ok {
				return
			}
			modal := rejectModal(e, w.channel)
			if action == "comment" {
				modal = commentModal(e, w.channel)
			}
			if _, err := a.slack.OpenViewContext(ctx, trigger, modal); err != nil {
				a.log.Warn("open modal", "action", action, "expense_id", id, "err", err)
				a.tell(ctx, w.user, w.channel, w.responseURL, ephemeral(":warning: Slack did not open the form in time; please click again."))
			}
		}
	}
	return nil
}

// authorize loads an expense and checks that w.user may decide it, telling them why not and
// recording the refusal in the audit trail.
func (a *App) authorize(ctx context.Context, w where, id int64, action string) (expensebot.Expense, bool) {
	e, err := a.store.Expense(ctx, id)
	if err != nil {
		a.log.Warn("authorize: load", "expense_id", id, "err", err)
		a.tell(ctx, w.user, w.channel, w.responseURL, ephemeral(":warning: "+expensebot.ErrorMessage(err)))
		return e, false
	}
	refuse := func(why string) (expensebot.Expense, bool) {
		a.log.Info("decision refused", "expense_id", id, "user", w.user, "action", action, "why", why)
		if err := a.store.AppendEvent(ctx, expensebot.NewEvent(id, expensebot.EventRefused, w.user, map[string]string{"action": action, "why": why})); err != nil {
			a.log.Error("audit refusal", "expense_id", id, "err", err)
		}
		a.tell(ctx, w.user, w.channel, w.responseURL, ephemeral(":no_entry: "+why))
		return e, false
	}
	if e.SubmitterID == w.user {
		return refuse("You cannot decide your own expense; another reviewer must.")
	}
	route := policyDecide(e, e.Assessment, a.cfg)
	ok, err := a.reviewers.allowed(ctx, w.user, route.Reviewers)
	if err != nil {
		a.log.Warn("reviewer lookup", "user", w.user, "err", err)
	}
	if !ok {
		return refuse("Only the configured reviewers can approve, reject or comment on expenses.")
	}
	if e.Status.Final() {
		a.tell(ctx, w.user, w.channel, w.responseURL, ephemeral(":information_source: "+(&expensebot.AlreadyDecidedError{ExpenseID: e.ID, Status: e.Status, By: e.DecidedBy, At: e.DecidedAt}).Error()))
		return e, false
	}
	return e, true
}

// decide records an approval or rejection exactly once; the loser of a race is told who won.
func (a *App) decide(ctx context.Context, w where, d expensebot.Decision) {
	action := string(d.Outcome)
	if _, ok := a.authorize(ctx, w, d.ExpenseID, action); !ok {
		return
	}
	e, err := a.store.Decide(ctx, d)
	var already *expensebot.AlreadyDecidedError
	switch {
	case errors.As(err, &already):
		a.log.Info("decision lost a race", "expense_id", d.ExpenseID, "user", d.Reviewer, "winner", already.By)
		a.tell(ctx, w.user, w.channel, w.responseURL, ephemeral(":information_source: "+already.Error()))
		return
	case err != nil && expensebot.ErrorCode(err) != expensebot.EINTERNAL:
		a.tell(ctx, w.user, w.channel, w.responseURL, ephemeral(":warning: "+expensebot.ErrorMessage(err)))
		return
	case err != nil:
		a.log.Error("decide", "expense_id", d.ExpenseID, "err", err)
		a.tell(ctx, w.user, w.channel, w.responseURL, ephemeral(":warning: "+expensebot.ErrorMessage(err)))
		return
	}
	a.log.Info("expense decided", "expense_id", e.ID, "user", d.Reviewer, "outcome", d.Outcome, "status", e.Status)
	a.kick()
	a.homes.mark(e.SubmitterID)
	a.homes.markReviewers()
}

func (a *App) viewSubmission(cb slack.InteractionCallback) (any, Work) {
	values := cb.View.State
	if values == nil {
		values = &slack.ViewState{}
	}
	w := where{user: cb.User.ID}
	var meta decisionMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	w.channel = meta.Channel
	switch cb.View.CallbackID {
	case callbackExpense:
		e, errs := parseExpenseModal(values.Values, a.cfg.Rules.Currency, a.now())
		if len(errs) > 0 {
			return viewAck{ResponseAction: "errors", Errors: errs}, nil
		}
		e.TeamID, e.SubmitterID, e.IdempotencyKey = cb.Team.ID, cb.User.ID, "view:"+cb.View.ID
		if e.SubmitterID == "" || cb.View.ID == "" {
			return nil, nil
		}
		done := receivedModal(e.Amount, e.Description)
		return viewAck{ResponseAction: "update", View: &done}, func(ctx context.Context) { a.submit(ctx, e, "", "") }
	case callbackReject, callbackComment:
		field := inReason
		if cb.View.CallbackID == callbackComment {
			field = inComment
		}
		text := strings.TrimSpace(values.Values[field][field].Value)
		switch {
		case text == "":
			return viewAck{ResponseAction: "errors", Errors: map[string]string{field: "Please write something: the submitter will read it."}}, nil
		case len(text) > expensebot.MaxDescription:
			return viewAck{ResponseAction: "errors", Errors: map[string]string{field: "That is too long; keep it under 1000 characters."}}, nil
		case meta.ExpenseID <= 0 || w.user == "":
			return nil, nil
		}
		if cb.View.CallbackID == callbackReject {
			return nil, func(ctx context.Context) {
				a.decide(ctx, w, expensebot.Decision{ExpenseID: meta.ExpenseID, Reviewer: w.user, Outcome: expensebot.Reject, Reason: text})
			}
		}
		return nil, func(ctx context.Context) { a.comment(ctx, w, meta.ExpenseID, text) }
	}
	return nil, nil
}

func (a *App) comment(ctx context.Context, w where, id int64, text string) {
	if _, ok := a.authorize(ctx, w, id, "comment"); !ok {
		return
	}
	if _, err := a.store.Comment(ctx, id, w.user, text); err != nil {
		a.log.Warn("comment", "expense_id", id, "err", err)
		a.tell(ctx, w.user, w.channel, "", ephemeral(":warning: "+expensebot.ErrorMessage(err)))
		return
	}
	a.kick()
}

// parseExpenseModal validates the expense form, returning field errors keyed by block id.
func parseExpenseModal(v map[string]map[string]slack.BlockAction, currency string, now time.Time) (expensebot.Expense, map[string]string) {
	errs := map[string]string{}
	get := func(id string) slack.BlockAction { return v[id][id] }
	cur := get(inCurrency).SelectedOption.Value
	if cur == "" {
		cur = currency
	}
	e := expensebot.Expense{Category: get(inCategory).SelectedOption.Value, Description: strings.TrimSpace(get(inDescription).Value)}
	amountText := strings.TrimSpace(get(inAmount).Value)
	m, err := expensebot.ParseMoney(amountText, cur)
	switch {
	case err != nil:
		errs[inAmount] = expensebot.ErrorMessage(err)
	case m.Currency != cur:
		errs[inAmount] = "The amount names " + m.Currency + " but the currency chosen is " + cur + "."
	}
	e.Amount = m
	if e.Category == "" {
		errs[inCategory] = "Please choose a category."
	}
	if e.Description == "" {
		errs[inDescription] = "Please say what the expense was for."
	} else if len(e.Description) > expensebot.MaxDescription {
		errs[inDescription] = "Please keep the description under 1000 characters."
	}
	e.IncurredOn = now
	if d := get(inDate).SelectedDate; d != "" {
		t, err := time.Parse(time.DateOnly, d)
		switch {
		case err != nil:
			errs[inDate] = "That is not a date."
		case t.After(now.Add(48 * time.Hour)):
			errs[inDate] = "The date cannot be in the future."
		case t.Before(now.AddDate(-2, 0, 0)):
			errs[inDate] = "That is more than two years ago; please ask finance."
		default:
			e.IncurredOn = t
		}
	}
	for _, f := range get(inReceipt).Files {
		if f.ID != "" {
			e.ReceiptFileIDs = append(e.ReceiptFileIDs, f.ID)
		}
	}
	if len(errs) == 0 {
		probe := e
		probe.SubmitterID = "-" // who submits is known only after the form
		if err := probe.Validate(); err != nil {
			errs[inDescription] = expensebot.ErrorMessage(err)
		}
	}
	return e, errs
}
