package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/report"
	"github.com/expensebot/expensebot/store"
)

// historyReach is how far before a period the replays read expenses: what the controls weigh
// about the period's first expenses (their calendar month, the split window and the default
// duplicate window) lies in it.
func historyReach(cfg Config) time.Duration {
	return 32*24*time.Hour + max(cfg.SplitWindow, policy.DefaultDuplicateWindow)
}

// loadPeriod reads, from a database that must exist, the expenses submitted in [from, until) and
// the history a replay of them needs.
func loadPeriod(ctx context.Context, cfg Config, from, until time.Time) (*store.DB, []expensebot.Expense, error) {
	// Only reading: a wrong DATABASE_URL must be an error, not a new empty database.
	db, err := store.OpenExisting(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	list, err := db.Expenses(ctx, store.ExpenseQuery{CreatedFrom: from.Add(-historyReach(cfg)), CreatedBefore: until})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, list, nil
}

// printReport writes how the workflow and the AI's advice did over a period, per category.
func printReport(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	since := fs.String("since", "90d", "the period's start: a date (YYYY-MM-DD) or an age such as 90d")
	untilFlag := fs.String("until", "", "the period's last day (YYYY-MM-DD); default: now")
	format := fs.String("format", "text", "text or json")
	if err := parseFlags(fs, args, stdout, "report [--since 90d] [--until YYYY-MM-DD] [--format text|json]"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("report: unexpected %q", strings.Join(fs.Args(), " "))}
	}
	now := time.Now().UTC()
	from, err := parseSince("report", *since, now)
	if err != nil {
		return err
	}
	until := now
	if *untilFlag != "" {
		if until, err = parseUntil("report", *untilFlag); err != nil {
			return err
		}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("report: --format %q: use text or json", *format)}
	}
	r, err := rules(cfg)
	if err != nil {
		return err
	}
	db, list, err := loadPeriod(ctx, cfg, from, until)
	if err != nil {
		return err
	}
	defer db.Close()
	checks, err := db.SpotChecks(ctx, from)
	if err != nil {
		return err
	}
	var inPeriod []expensebot.SpotCheck
	for _, sc := range checks {
		if sc.CreatedAt.Before(until) {
			inPeriod = append(inPeriod, sc)
		}
	}
	s := report.Summarize(report.Input{Expenses: list, SpotChecks: inPeriod, From: from, Until: until, Rules: r})
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if *format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	writeReport(w, s)
	return nil
}

// writeReport lays a summary out as text for a terminal.
func writeReport(w io.Writer, s report.Summary) {
	fmt.Fprintf(w, "Expenses submitted %s to %s (UTC); replays use the rules in effect now (EXPENSEBOT_MIN_CONFIDENCE %.2f).\n\n",
		s.From.Format("2006-01-02 15:04"), s.Until.Format("2006-01-02 15:04"), s.MinConfidence)
	if s.All.Routed == 0 {
		fmt.Fprintln(w, "No expense was routed in this period.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	// "to people" is the sum of the seven columns after it: every routed status has one.
	fmt.Fprintln(tw, "category\trouted\tautomatic\tto people\tapproved\trejected\tpending\tneeds info\twithdrawn\texpired\tpaid\tAI said approve, people agreed\tmedian time to decision\t")
	for _, l := range append(s.Categories, s.All) {
		name := l.Category
		if name == "" {
			name = "all"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t\n", name, l.Routed, l.AutoApproved, l.ToPeople, l.Approved, l.Rejected, l.Pending,
			l.NeedsInfo, l.Withdrawn, l.Expired, l.Paid, ofN(l.AgreedApprove, l.AdvisedApprove), orDash(l.MedianDecision))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nWhen the AI advised \"approve\" on an expense people decided, by its confidence:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "confidence\tadvised approve\tpeople approved\t")
	for _, b := range s.Bands {
		fmt.Fprintf(tw, "%.2f–%.2f\t%d\t%s\t\n", b.Low, b.High, b.Advised, ofN(b.Approved, b.Advised))
	}
	tw.Flush()

	fmt.Fprintln(w, "\nWith another EXPENSEBOT_MIN_CONFIDENCE (each expense replayed through the policy with its stored advice):")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "min confidence\tapproved automatically\tmore than happened\tof those, people rejected\tfewer than happened\t")
	for _, t := range s.Thresholds {
		name := fmt.Sprintf("%.2f", t.MinConfidence)
		if t.Current {
			name += " (now)"
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", name, t.AutoApproved, t.NewlyAuto, t.NewlyRejected, t.NoLongerAuto)
	}
	tw.Flush()

	fmt.Fprintln(w, "\nFlags raised, by the AI or the finance controls (expenses):")
	if len(s.Flags) == 0 {
		fmt.Fprintln(w, "  none")
	}
	for _, f := range s.Flags {
		fmt.Fprintf(w, "  %4d  %s\n", f.Count, expensebot.FlagSentence(f.Flag))
	}
	sc := s.SpotChecks
	fmt.Fprintf(w, "\nSpot checks of automatic approvals: %d drawn, %d confirmed, %d flagged, %d not looked at yet.\n",
		sc.Drawn, sc.Confirmed, sc.Flagged, sc.Drawn-sc.Confirmed-sc.Flagged)
}

// ofN writes "7 of 8 (88%)", or "—" when n is 0.
func ofN(k, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%d of %d (%d%%)", k, n, (200*k+n)/(2*n))
}

func orDash(d time.Duration) string {
	if d == 0 {
		return "—"
	}
	return report.Span(d)
}
