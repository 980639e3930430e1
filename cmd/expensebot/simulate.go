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
	replayed, unknown := 0, 0
	counts := map[string]int{}
	for _, e := range list {
		if !report.InPeriod(e, from, time.Time{}) || !report.Routed(e) {
			continue
		}
		replayed++
		r := rp.Route(e, next)
		was := storedRoute(e)
		will := route{auto: r.AutoApprove, approvals: r.ApprovalsRequired, channel: r.Channel, reviewers: r.Reviewers}
		if !r.AutoApprove {
			// The default route is the configuration's. Without it (only DATABASE_URL set, as
			// on a finance laptop) who decides and where is unknown: compare the rest.
			if will.channel == "" {
				will.channel = cfg.ApprovalsChannel
			}
			if len(will.reviewers) == 0 {
				will.reviewers = cfg.Reviewers
			}
			if len(e.Reviewers) > 0 && (will.channel == "" || len(will.reviewers) == 0) {
				unknown++
				if will.channel == "" {
					was.channel = ""
				}
				if len(will.reviewers) == 0 {
					was.reviewers = nil
				}
			}
		}
		if len(e.Reviewers) == 0 {
			// Routed before routes were stored, or automatically: compare what is known.
			will.channel, will.reviewers = "", nil
		}
		if was.same(will) {
			continue
		}
		counts[was.String()+" → "+will.String()]++
		changes = append(changes, change{e, was.String(), will.String(), r.Reasons})
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "Replayed %d expenses routed since %s through %s (rules version %s → %s), each with its stored AI assessment.\n",
		replayed, from.Format(time.DateOnly), file, policy.Version(current, cfg.ApprovalsChannel, cfg.Reviewers), policy.Version(next, cfg.ApprovalsChannel, cfg.Reviewers))
	fmt.Fprintf(w, "%d routes would change, %d would stay.\n", len(changes), replayed-len(changes))
	if unknown > 0 {
		fmt.Fprintf(w, "EXPENSEBOT_APPROVALS_CHANNEL or EXPENSEBOT_REVIEWERS is not set, so %d routes to the default reviewers were compared without who decides or where: set them as the bot has them to compare those too.\n", unknown)
	}
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

// route is who decides an expense, as the comparison sees it: automatic, or one or two
// approvals from whom and where. Expenses routed before routes were stored have no reviewers;
// they compare by approvals.
type route struct {
	auto      bool
	approvals int
	channel   string
	reviewers []string
}

// storedRoute is the route an expense took: its status says whether it was automatic, and the
// route stored with it who decides. Reviewers added by an escalation are not part of its route.
func storedRoute(e expensebot.Expense) route {
	r := route{auto: e.Status.Info().Column == expensebot.ColumnAutomatic, approvals: e.ApprovalsRequired, channel: e.ReviewChannel}
	for _, id := range e.Reviewers {
		if !slices.Contains(e.EscalatedTo, id) {
			r.reviewers = append(r.reviewers, id)
		}
	}
	if len(r.reviewers) == 0 {
		r.channel = ""
	}
	return r
}

// who is the set of reviewers as one comparable, readable list: sorted, each once.
func (r route) who() []string { return slices.Compact(slices.Sorted(slices.Values(r.reviewers))) }

// same reports whether two routes send an expense the same way; wording does not matter: the
// order reviewers are listed in, a reviewer listed twice, or the approvals an automatic route
// would have needed.
func (r route) same(o route) bool {
	if r.auto || o.auto {
		return r.auto == o.auto
	}
	return max(r.approvals, 1) == max(o.approvals, 1) && r.channel == o.channel && slices.Equal(r.who(), o.who())
}

// String names a route for people: "automatic", "two approvals by U1, U2 in C9".
func (r route) String() string {
	if r.auto {
		return "automatic"
	}
	name := "one approval"
	if r.approvals == 2 {
		name = "two approvals"
	}
	if who := r.who(); len(who) > 0 {
		name += " by " + strings.Join(who, ", ")
	}
	if r.channel != "" {
		name += " in " + r.channel
	}
	return name
}
