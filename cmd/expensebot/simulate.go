package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/report"
)

// simulate replays the expenses routed in a period, each with its stored assessment, through the
// policy file FILE (instead of EXPENSEBOT_POLICY_FILE; the limits from the environment stay) and
// prints how many routes would change, and which. Nothing is written.
func simulate(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("policy simulate", flag.ContinueOnError)
	since := fs.String("since", "90d", "replay expenses submitted since: a date (YYYY-MM-DD) or an age such as 90d")
	// FILE may come before or after the flags.
	var file string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		file, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, stdout, "policy simulate FILE [--since 90d]"); err != nil {
		return err
	}
	rest := fs.Args()
	if file == "" && len(rest) > 0 {
		file, rest = rest[0], rest[1:]
	}
	if file == "" || len(rest) > 0 {
		return usageError{"policy simulate: give one policy file, e.g. expensebot policy simulate policy.yaml --since 90d"}
	}
	now := time.Now().UTC()
	from, err := parseSince("policy simulate", *since, now)
	if err != nil {
		return err
	}
	current, err := rules(cfg)
	if err != nil {
		return err
	}
	next := current
	if err := next.LoadFile(file); err != nil {
		return err
	}
	db, list, err := loadPeriod(ctx, cfg, from, time.Time{})
	if err != nil {
		return err
	}
	defer db.Close()

	rp := report.NewReplayer(list)
	type change struct {
		e        expensebot.Expense
		from, to string
		why      []string
	}
	var changes []change
	replayed := 0
	counts := map[string]int{}
	for _, e := range list {
		if !report.InPeriod(e, from, time.Time{}) || !report.Routed(e) {
			continue
		}
		replayed++
		r := rp.Route(e, next)
		if r.Channel == "" && !r.AutoApprove {
			r.Channel = cfg.ApprovalsChannel
		}
		if len(r.Reviewers) == 0 && !r.AutoApprove {
			r.Reviewers = cfg.Reviewers
		}
		if len(e.Reviewers) == 0 {
			// Routed before routes were stored, or automatically: compare what is known.
			r.Channel, r.Reviewers = "", nil
		}
		was, will := storedRoute(e), routeName(r.AutoApprove, r.ApprovalsRequired, r.Channel, r.Reviewers)
		if was == will {
			continue
		}
		counts[was+" → "+will]++
		changes = append(changes, change{e, was, will, r.Reasons})
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "Replayed %d expenses routed since %s through %s (rules version %s → %s), each with its stored AI assessment.\n",
		replayed, from.Format(time.DateOnly), file, policy.Version(current, cfg.ApprovalsChannel, cfg.Reviewers), policy.Version(next, cfg.ApprovalsChannel, cfg.Reviewers))
	fmt.Fprintf(w, "%d routes would change, %d would stay.\n", len(changes), replayed-len(changes))
	kinds := make([]string, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	slices.SortFunc(kinds, func(a, b string) int { return counts[b] - counts[a] })
	for _, k := range kinds {
		fmt.Fprintf(w, "  %4d  %s\n", counts[k], k)
	}
	for _, c := range changes {
		fmt.Fprintf(w, "\n#%d  %s  %s  %s  %s\n  %s → %s\n", c.e.ID, c.e.CreatedAt.Format(time.DateOnly), c.e.Category, c.e.Amount,
			csvSafe(expensebot.Truncate(c.e.Description, 60)), c.from, c.to)
		if !strings.HasPrefix(c.to, "automatic") {
			for _, why := range c.why {
				fmt.Fprintf(w, "    because %s\n", why)
			}
		}
	}
	return nil
}

// storedRoute names the route an expense took: its status says whether it was automatic, and
// the route stored with it who decides.
func storedRoute(e expensebot.Expense) string {
	channel := e.ReviewChannel
	if len(e.Reviewers) == 0 {
		channel = ""
	}
	return routeName(e.Status == expensebot.StatusAutoApproved, e.ApprovalsRequired, channel, e.Reviewers)
}

// routeName names a route for the comparison: automatic, or one or two approvals from whom and
// where. Expenses routed before routes were stored have no reviewers; they compare by approvals.
func routeName(auto bool, approvals int, channel string, reviewers []string) string {
	if auto {
		return "automatic"
	}
	name := "one approval"
	if approvals == 2 {
		name = "two approvals"
	}
	if len(reviewers) > 0 {
		name += " by " + strings.Join(slices.Sorted(slices.Values(reviewers)), ", ")
	}
	if channel != "" {
		name += " in " + channel
	}
	return name
}
