package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

const paidUsage = `paid BATCH | paid --expense ID... [--reference TEXT] [--by NAME]

Records that the company paid out approved expenses: every approved expense of the export batch
BATCH (the number expensebot expenses --mark-exported printed), or the expenses ID.... Each one
becomes paid, once, with an audit event naming who recorded it and the reference; its submitter
is told (by the running bot) and its approval card shows it. An expense that is not approved, or
was paid already, is refused with the reason; the exit status is then 1.`

// recordPaid is `expensebot paid`: the payout of a batch or of single expenses.
func recordPaid(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("paid", flag.ContinueOnError)
	single := fs.Bool("expense", false, "the arguments are expense ids, not a batch")
	reference := fs.String("reference", "", "the payment's reference, such as a bank transfer's (at most 200 characters)")
	by := fs.String("by", osUser(), "who recorded the payout")
	// Flags may come before or after the arguments: paid 12 --reference TRX-1.
	var pos []string
	for {
		if err := parseFlags(fs, args, stdout, paidUsage); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	var ids []int64
	for _, a := range pos {
		for _, f := range strings.Split(a, ",") {
			n, err := strconv.ParseInt(strings.TrimPrefix(strings.TrimSpace(f), "#"), 10, 64)
			if err != nil || n <= 0 {
				return usageError{fmt.Sprintf("paid: %q is not a number", f)}
			}
			ids = append(ids, n)
		}
	}
	switch {
	case len(ids) == 0 && *single:
		return usageError{"paid: --expense needs the ids of the expenses paid"}
	case len(ids) == 0:
		return usageError{"paid: name the export batch paid (paid BATCH), or the expenses (paid --expense ID...)"}
	case !*single && len(ids) > 1:
		return usageError{"paid: one batch at a time; for single expenses use paid --expense ID..."}
	}
	p := expensebot.Payout{By: strings.TrimSpace(*by), Reference: strings.TrimSpace(*reference)}
	p.Actor = p.By
	if err := p.Validate(); err != nil {
		return usageError{"paid: " + expensebot.ErrorMessage(err) + " (--by NAME)"}
	}
	db, err := store.OpenExisting(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	what := "the given expenses"
	if !*single {
		batch := ids[0]
		list, err := db.BatchExpenses(ctx, batch)
		if err != nil {
			return fmt.Errorf("paid: %s", expensebot.ErrorMessage(err))
		}
		ids = ids[:0]
		for _, e := range list {
			ids = append(ids, e.ID)
		}
		what = fmt.Sprintf("batch %d", batch)
		if len(ids) == 0 {
			return fmt.Errorf("paid: batch %d has no expenses", batch)
		}
	}
	results, err := db.Pay(ctx, ids, p)
	if err != nil {
		return fmt.Errorf("paid: %s", expensebot.ErrorMessage(err))
	}
	refused := 0
	for _, r := range results {
		if r.Err != nil {
			refused++
			fmt.Fprintf(stderr, "expensebot: refused expense #%d: %s\n", r.ID, expensebot.ErrorMessage(r.Err))
			continue
		}
		e := r.Expense
		fmt.Fprintf(stdout, "paid expense #%d: %s, %s, submitted by %s\n", e.ID, e.Amount, e.Category, e.SubmitterID)
	}
	paid := len(results) - refused
	ref := ""
	if p.Reference != "" {
		ref = ", reference " + p.Reference
	}
	fmt.Fprintf(stdout, "%d of %d expenses of %s recorded as paid by %s%s; the running bot tells their submitters.\n", paid, len(results), what, p.By, ref)
	if refused > 0 {
		return fmt.Errorf("paid: %d of %d expenses were refused (see above); nothing was changed for them", refused, len(results))
	}
	return nil
}

// osUser is who runs the command, as the system names them: the default recorder of a payout.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}
