package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// viewAck is a view_submission response.
type viewAck struct {
	ResponseAction string                  `json:"response_action"`
	Errors         map[string]string       `json:"errors,omitempty"`
	View           *slack.ModalViewRequest `json:"view,omitempty"`
}

// fieldErrors shows each message beside its input. Slack shows them as plain text; a message
// may quote what was typed, so direction controls in it are neutralised.
func fieldErrors(errs map[string]string) viewAck {
	for k, msg := range errs {
		errs[k] = expensebot.NeutralizeBidi(msg)
	}
	return viewAck{ResponseAction: "errors", Errors: errs}
}

// openExpenseForm handles the App Home's "New expense" button.
func (a *App) openExpenseForm(cb slack.InteractionCallback, _ int64) Work {
	w, trigger := whereOf(cb), cb.TriggerID
	return func(ctx context.Context) { a.openExpenseModal(ctx, trigger, w) }
}

// approve handles an Approve click.
func (a *App) approve(cb slack.InteractionCallback, id int64) Work {
	if id <= 0 {
		return nil
	}
	w := whereOf(cb)
	return func(ctx context.Context) {
		a.decide(ctx, w, expensebot.Decision{ExpenseID: id, Reviewer: w.user, Outcome: expensebot.Approve})
	}
}

// openReasonForm handles Reject and Comment clicks: both ask for text in a modal, once the
// clicker is known to be allowed.
func (a *App) openReasonForm(action string) actionFunc {
	return func(cb slack.InteractionCallback, id int64) Work {
		if id <= 0 {
			return nil
		}
		w, trigger := whereOf(cb), cb.TriggerID
		return func(ctx context.Context) {
			e, err := a.flow.Authorize(ctx, w.user, id, action)
			if err != nil {
				a.fail(ctx, w, "authorize", err, e)
				return
			}
			modal := rejectModal(e, w.channel)
			switch action {
			case ActionComment:
				modal = commentModal(e, w.channel)
			case ActionAsk:
				modal = askModal(e, w.channel)
			}
			if _, err := a.slack.OpenViewContext(ctx, trigger, modal); err != nil {
				a.log.Warn("open modal", "action", action, "expense_id", id, "err", err)
				a.tell(ctx, w, ephemeral(":warning: Slack did not open the form in time; please click again."))
			}
		}
	}
}

// decide records an approval or rejection; the loser of a race is told who won.
func (a *App) decide(ctx context.Context, w where, d expensebot.Decision) {
	if e, err := a.flow.Decide(ctx, d); err != nil {
		a.fail(ctx, w, "decide", err, e)
	}
}

// submitExpenseForm checks the expense form before the ack, so that errors show beside their
// inputs, then submits it.
func (a *App) submitExpenseForm(cb slack.InteractionCallback) (any, Work) {
	values := map[string]map[string]slack.BlockAction{}
	if cb.View.State != nil {
		values = cb.View.State.Values
	}
	e, errs := parseExpenseModal(values, a.flow.Currency(), a.flow.Now())
	if len(errs) > 0 {
		return fieldErrors(errs), nil
	}
	var meta expenseMeta
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	if meta.ResubmitOf > 0 {
		e.ResubmitOf = meta.ResubmitOf
		if len(e.ReceiptFileIDs) == 0 {
			e.ReceiptFileIDs = meta.Receipts
		}
	}
	e.TeamID, e.SubmitterID, e.IdempotencyKey = cb.Team.ID, cb.User.ID, "view:"+cb.View.ID
	if e.SubmitterID == "" || cb.View.ID == "" {
		return nil, nil
	}
	if meta.Draft > 0 {
		// The draft's receipt goes with it, already read; a file added in the form is not taken.
		user, id := e.SubmitterID, meta.Draft
		var saved expensebot.Expense
		var draft expensebot.Draft
		commit := Commit(func(ctx context.Context) any {
			draft, _ = a.flow.Draft(ctx, user, id) // where its message is, to redraw it after
			var err error
			saved, _, err = a.flow.SubmitDraft(ctx, user, id, &e)
			if err != nil {
				if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
					a.log.Error("submit edited draft", "draft_id", id, "user_id", user, "err", err)
					err = expensebot.Errorf(expensebot.EINTERNAL, "I could not save your expense just now, so it was not submitted. Please try again in a moment.")
				}
				return fieldErrors(map[string]string{inDescription: expensebot.ErrorMessage(err)})
			}
			done := receivedModal(saved)
			return viewAck{ResponseAction: "update", View: &done}
		})
		return commit, func(ctx context.Context) {
			if saved.ID == 0 || draft.MessageTS == "" {
				return
			}
			m := draftSubmitted(saved, a.flow.AIOn())
			if _, _, _, err := a.slack.UpdateMessageContext(ctx, draft.Channel, draft.MessageTS, m.options()...); err != nil {
				a.log.Warn("redraw submitted draft", "draft_id", id, "err", err)
			}
		}
	}
	return Commit(func(ctx context.Context) any {
		saved, err := a.commit(ctx, e)
		if err != nil {
			// The form stays open with what was typed, so pressing Submit again is all it takes.
			return fieldErrors(map[string]string{inDescription: expensebot.ErrorMessage(err)})
		}
		done := receivedModal(saved)
		return viewAck{ResponseAction: "update", View: &done}
	}), nil
}

// reasonText reads a reviewer's reason or comment, or says what is wrong with it.
func reasonText(cb slack.InteractionCallback, field string) (text string, meta decisionMeta, problem *viewAck) {
	_ = json.Unmarshal([]byte(cb.View.PrivateMetadata), &meta)
	if cb.View.State != nil {
		text = strings.TrimSpace(cb.View.State.Values[field][field].Value)
	}
	if err := expensebot.CheckText(field, text, true); err != nil {
		ack := fieldErrors(map[string]string{field: expensebot.ErrorMessage(err)})
		return "", meta, &ack
	}
	switch {
	case !expensebot.Visible(text):
		ack := fieldErrors(map[string]string{field: "Please write something: the submitter will read it."})
		return "", meta, &ack
	case utf8.RuneCountInString(text) > expensebot.MaxDescription:
		ack := fieldErrors(map[string]string{field: fmt.Sprintf("That is too long; keep it under %d characters.", expensebot.MaxDescription)})
		return "", meta, &ack
	}
	return text, meta, nil
}

// textSubmit handles a modal with one text field about one expense (a reason, a comment, a
// question, an answer, a finding): the text is checked before the ack, so a problem shows beside
// the input, then act is done with it. A failure is told by act itself when it returns nil,
// else by fail; done, when not nil, says what happened.
func (a *App) textSubmit(field, op string, act func(ctx context.Context, w where, id int64, text string) error, done func(id int64) string) viewFunc {
	return func(cb slack.InteractionCallback) (any, Work) {
		text, meta, problem := reasonText(cb, field)
		if problem != nil {
			return *problem, nil
		}
		if meta.ExpenseID <= 0 || cb.User.ID == "" {
			return nil, nil
		}
		w := where{user: cb.User.ID, channel: meta.Channel}
		return nil, func(ctx context.Context) {
			if err := act(ctx, w, meta.ExpenseID, text); err != nil {
				a.fail(ctx, w, op, err, expensebot.Expense{})
				return
			}
			if done != nil {
				a.tell(ctx, w, ephemeral(done(meta.ExpenseID)))
			}
		}
	}
}

// parseExpenseModal validates the expense form, returning field errors keyed by block id.
func parseExpenseModal(v map[string]map[string]slack.BlockAction, currency string, now time.Time) (expensebot.Expense, map[string]string) {
	errs := map[string]string{}
	get := func(id string) slack.BlockAction { return v[id][id] }
	cur := get(inCurrency).SelectedOption.Value
	if cur == "" {
		cur = currency
	}
	e := expensebot.Expense{Category: get(inCategory).SelectedOption.Value, Description: strings.TrimSpace(get(inDescription).Value), IncurredOn: now}
	// Text that cannot be stored is refused beside its input, before anything else reads it.
	if err := expensebot.CheckText(inDescription, e.Description, true); err != nil {
		errs[inDescription] = expensebot.ErrorMessage(err)
	}
	amount := strings.TrimSpace(get(inAmount).Value)
	m, err := expensebot.ParseMoney(amount, cur)
	if cerr := expensebot.CheckText(inAmount, amount, false); cerr != nil {
		err = cerr
	}
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
	if d := get(inDate).SelectedDate; d != "" {
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			errs[inDate] = "That is not a date."
		} else {
			e.IncurredOn = t
		}
	}
	for _, f := range get(inReceipt).Files {
		if f.ID != "" {
			e.ReceiptFileIDs = append(e.ReceiptFileIDs, f.ID)
		}
	}
	// The domain's rules decide the rest, each error beside the input it is about.
	probe := e
	probe.SubmitterID = "-" // who submits is known only after the form
	for _, p := range probe.Problems(now) {
		field := p.Field
		if field == "" {
			field = inDescription
		}
		if _, told := errs[field]; !told {
			errs[field] = p.Message
		}
	}
	return e, errs
}
