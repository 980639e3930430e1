package handlers

import (
	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// policyDecide applies the policy, filling in the default approvals channel.
func policyDecide(e expensebot.Expense, a *expensebot.Assessment, cfg Config) expensebot.Route {
	r := policy.Decide(e, a, cfg.Rules)
	if r.Channel == "" && !r.AutoApprove {
		r.Channel = cfg.ApprovalsChannel
	}
	return r
}
