package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
)

// printPolicy writes the routing rules in effect, from the configuration and the policy file, with
// the version every expense routed under them records.
//
// `policy simulate FILE` replays stored expenses through another policy file instead.
func printPolicy(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	if len(args) > 0 && args[0] == "simulate" {
		return simulate(ctx, cfg, args[1:], stdout)
	}
	if err := noArgs("policy", args, stdout, "policy | policy simulate FILE [--since 90d]"); err != nil {
		return err
	}
	r, err := rules(cfg)
	if err != nil {
		return err
	}
	set := policy.Settings{Rules: r, ApprovalsChannel: cfg.ApprovalsChannel, Reviewers: cfg.Reviewers, EscalateTo: cfg.EscalateTo,
		Timing: expensebot.Timing{RemindAfter: cfg.RemindAfter, EscalateAfter: cfg.EscalateAfter, ExpireAfter: cfg.ExpireAfter}}
	fmt.Fprintf(stdout, "rules version %s (of the environment; an administrator's change in the App Home makes a newer one)\n", set.Version())
	fmt.Fprintf(stdout, "home currency %s\n", r.Currency)
	fmt.Fprintf(stdout, "auto-approve below %s, with AI confidence at least %.2f and no flag\n", r.AutoApproveMax, r.MinConfidence)
	fmt.Fprintf(stdout, "two different approvers above %s\n", r.ReviewMax)
	fmt.Fprintf(stdout, "receipt required above %s\n", r.ReceiptRequiredOver)
	if r.SplitWindow > 0 {
		fmt.Fprintf(stdout, "possible split purchase: one person's expenses in any category within %s of each other that together reach the auto-approve limit, or exceed the two-approver limit\n",
			strings.TrimSuffix(r.SplitWindow.String(), "0m0s"))
	}
	tol := r.Controls.Tolerance(r.Currency)
	fmt.Fprintf(stdout, "possible duplicate: incurred within %s, amounts within %d.%02d %% or %s (whichever is larger) with a similar description or merchant, or anyone's receipt with the same facts\n",
		strings.TrimSuffix(r.Controls.Window().String(), "0m0s"), tol.BasisPoints/100, tol.BasisPoints%100, tol.Min)
	if r.MaxAge > 0 {
		fmt.Fprintf(stdout, "expenses submitted more than %s after they were incurred go to a person\n", strings.TrimSuffix(r.MaxAge.String(), "0m0s"))
	}
	fmt.Fprintf(stdout, "approvals channel %s, reviewers %s\n", orNone(cfg.ApprovalsChannel), orNone(strings.Join(cfg.Reviewers, ", ")))
	cats := slices.Sorted(func(yield func(string) bool) {
		for c := range r.Categories {
			if !yield(c) {
				return
			}
		}
	})
	for _, c := range cats {
		rule := r.Categories[c]
		var parts []string
		if rule.AutoApproveMax != nil {
			parts = append(parts, "auto-approve below "+rule.AutoApproveMax.String())
		}
		if rule.ReviewMax != nil {
			parts = append(parts, "two approvers above "+rule.ReviewMax.String())
		}
		if rule.ReceiptRequiredOver != nil {
			parts = append(parts, "receipt above "+rule.ReceiptRequiredOver.String())
		}
		if rule.NeverAutoApprove {
			parts = append(parts, "never auto-approved")
		}
		if rule.MonthlyMax != nil {
			parts = append(parts, "at most "+rule.MonthlyMax.String()+" per person per month")
		}
		if rule.Account != "" {
			parts = append(parts, "booked to account "+rule.Account)
		}
		for _, rt := range rule.Routes {
			parts = append(parts, fmt.Sprintf("over %s to channel %s, reviewers %s", rt.Over, orNone(rt.Channel), orNone(strings.Join(rt.Reviewers, ", "))))
		}
		fmt.Fprintf(stdout, "  %s: %s\n", c, strings.Join(parts, "; "))
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(default)"
	}
	return s
}
