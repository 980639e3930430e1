package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/expensebot/expensebot/policy"
)

// printPolicy writes the routing rules in effect, from the configuration and the policy file, with
// the version every expense routed under them records.
func printPolicy(cfg Config, args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return usageError{fmt.Sprintf("policy: unexpected %q", strings.Join(args, " "))}
	}
	r, err := rules(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rules version %s\n", policy.Version(r, cfg.ApprovalsChannel, cfg.Reviewers))
	fmt.Fprintf(stdout, "home currency %s\n", r.Currency)
	fmt.Fprintf(stdout, "auto-approve below %s, with AI confidence at least %.2f and no flag\n", r.AutoApproveMax, r.MinConfidence)
	fmt.Fprintf(stdout, "two different approvers above %s\n", r.ReviewMax)
	fmt.Fprintf(stdout, "receipt required above %s\n", r.ReceiptRequiredOver)
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
