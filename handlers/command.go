package handlers

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/slack-go/slack"
)

// Command handles /expense. Its ack is the immediate answer the user sees; nothing in it touches
// the database, the AI or the Web API.
func (a *App) Command(cmd slack.SlashCommand) (ack any, work Work) {
	text := strings.TrimSpace(cmd.Text)
	switch strings.ToLower(text) {
	case "":
		trigger := cmd.TriggerID
		return nil, func(ctx context.Context) {
			a.openExpenseModal(ctx, trigger, cmd.UserID, cmd.ChannelID, cmd.ResponseURL)
		}
	case "help", "?":
		return helpMessage(a.cfg.Rules.Currency), nil
	case "history", "list":
		return nil, func(ctx context.Context) {
			list, err := a.store.BySubmitter(ctx, cmd.UserID, 0, 10)
			if err != nil {
				a.log.Error("history", "user", cmd.UserID, "err", err)
				a.tell(ctx, cmd.UserID, cmd.ChannelID, cmd.ResponseURL, ephemeral(expensebot.ErrorMessage(err)))
				return
			}
			a.tell(ctx, cmd.UserID, cmd.ChannelID, cmd.ResponseURL, historyMessage(list))
		}
	}
	e, err := parseQuick(text, a.cfg.Rules.Currency)
	if err != nil {
		return ephemeral(":warning: " + expensebot.ErrorMessage(err) + "\nUsage: `/expense 42.50 Team lunch`, or `/expense` for the form."), nil
	}
	e.TeamID, e.SubmitterID, e.IdempotencyKey = cmd.TeamID, cmd.UserID, "trigger:"+cmd.TriggerID
	e.IncurredOn = a.now()
	if cmd.TriggerID == "" {
		return ephemeral(":warning: Slack sent this command without a trigger id; please try again."), nil
	}
	return receivedMessage(e.Amount, e.Category, e.Description, a.assessor != nil), func(ctx context.Context) {
		a.submit(ctx, e, cmd.ChannelID, cmd.ResponseURL)
	}
}

// parseQuick reads "<amount> [currency] <description> [#category]". The longest leading run of
// words that reads as an amount wins, so "120 EUR Train" is 120 EUR and "42 tea" is 42 and tea.
func parseQuick(text, currency string) (expensebot.Expense, error) {
	fields := strings.Fields(text)
	var firstErr error
	for k := min(4, len(fields)); k >= 1; k-- {
		m, err := expensebot.ParseMoney(strings.Join(fields[:k], " "), currency)
		if err != nil {
			if k == 1 {
				firstErr = err
			}
			continue
		}
		e := expensebot.Expense{Amount: m, Category: "other"}
		var desc []string
		for _, w := range fields[k:] {
			if c := strings.ToLower(strings.TrimPrefix(w, "#")); strings.HasPrefix(w, "#") && slices.Contains(expensebot.Categories, c) {
				e.Category = c
				continue
			}
			desc = append(desc, w)
		}
		e.Description = strings.Join(desc, " ")
		if e.Description == "" {
			return e, expensebot.Errorf(expensebot.EINVALID, "Please say what %s was for: `/expense %s Team lunch`.", m, fields[0])
		}
		probe := e
		probe.SubmitterID = "-" // filled in by the caller
		if err := probe.Validate(); err != nil {
			return e, err
		}
		return e, nil
	}
	return expensebot.Expense{}, firstErr
}

// openExpenseModal opens the form at once: a trigger_id lives about three seconds.
func (a *App) openExpenseModal(ctx context.Context, trigger, user, channel, responseURL string) {
	if _, err := a.slack.OpenViewContext(ctx, trigger, expenseModal(a.cfg.Rules.Currency, a.now())); err != nil {
		a.log.Warn("open expense modal", "user", user, "err", err)
		a.tell(ctx, user, channel, responseURL, ephemeral(":warning: I could not open the form in time; please run `/expense` again, or use `/expense 42.50 Team lunch`."))
	}
}

// submit stores an accepted expense and starts its assessment.
func (a *App) submit(ctx context.Context, e expensebot.Expense, channel, responseURL string) {
	saved, created, err := a.store.Submit(ctx, e)
	if err != nil {
		a.log.Error("submit", "user", e.SubmitterID, "err", err)
		msg := expensebot.ErrorMessage(err)
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			msg = "I could not save your expense, so it was not submitted. Please try again in a moment."
		}
		a.tell(ctx, e.SubmitterID, channel, responseURL, ephemeral(":warning: "+msg))
		return
	}
	if !created {
		a.log.Info("duplicate submission ignored", "expense_id", saved.ID, "key", e.IdempotencyKey)
		return
	}
	a.log.Info("expense submitted", "expense_id", saved.ID, "user", saved.SubmitterID, "amount", saved.Amount.String())
	a.homes.mark(saved.SubmitterID)
	a.enqueue(saved.ID)
}

// Process assesses and routes an accepted expense: the AI's advice, then the policy's route,
// recorded with its notices in one transaction. It is also how work resumes after a restart.
func (a *App) Process(ctx context.Context, id int64) {
	e, err := a.store.StartAssessment(ctx, id)
	if err != nil {
		if expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			a.log.Error("start assessment", "expense_id", id, "err", err)
		}
		return
	}
	var assessment *expensebot.Assessment
	if a.assessor != nil {
		start := time.Now()
		assessment, err = a.assessor.Assess(ctx, e)
		if err != nil {
			a.log.Warn("AI assessment failed; a person will decide", "expense_id", id, "err", err, "latency_ms", time.Since(start).Milliseconds())
		}
	}
	route := policyDecide(e, assessment, a.cfg)
	routed, err := a.store.Route(ctx, id, assessment, route)
	if err != nil {
		if expensebot.ErrorCode(err) != expensebot.ECONFLICT {
			a.log.Error("route", "expense_id", id, "err", err)
		}
		return
	}
	a.log.Info("expense routed", "expense_id", id, "status", routed.Status, "approvals_required", routed.ApprovalsRequired)
	a.kick()
	a.homes.mark(routed.SubmitterID)
	if routed.Status == expensebot.StatusPendingReview {
		a.homes.markReviewers()
	}
}
