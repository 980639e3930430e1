package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/policy"
	"github.com/expensebot/expensebot/store"
)

// statusSets are the --status values of `expensebot expenses`: approved means every status whose
// money is owed (approved by a person or by the policy), as the status table says; a paid
// expense is owed no more, so it is never exported as approved again. The others
// name their statuses: they are the words of the command line.
var statusSets = map[string][]expensebot.Status{
	"approved":      expensebot.StatusesWhere(func(i expensebot.StatusInfo) bool { return i.Owed }),
	"auto_approved": {expensebot.StatusAutoApproved},
	"rejected":      {expensebot.StatusRejected},
	"decided":       {expensebot.StatusApproved, expensebot.StatusAutoApproved, expensebot.StatusRejected, expensebot.StatusPaid},
	"paid":          {expensebot.StatusPaid},
}

// exportExpenses writes decided expenses, one per expense (a journal entry of two lines for
// QuickBooks), for an accounting import; with --mark-exported it records the batch so that later
// runs skip it.
func exportExpenses(ctx context.Context, cfg Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("expenses", flag.ContinueOnError)
	since := fs.String("since", "", "decided on or after: a date (YYYY-MM-DD) or an age such as 30d")
	untilFlag := fs.String("until", "", "decided on or before this date (YYYY-MM-DD)")
	status := fs.String("status", "approved", "approved (by a person or the policy, not yet paid), auto_approved, rejected, paid or decided (all of them)")
	format := fs.String("format", "csv", "csv, xero or qbo")
	dates := fs.String("dates", "", "iso (2026-01-31), dmy (31/01/2026) or mdy (01/31/2026); default: the format's")
	mark := fs.Bool("mark-exported", false, "record this batch in the audit trail; later runs skip its expenses")
	again := fs.Bool("include-exported", false, "include expenses a marked run exported already")
	if err := parseFlags(fs, args, stdout, "expenses [flags]"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("expenses: unexpected %q", strings.Join(fs.Args(), " "))}
	}
	q := store.ExpenseQuery{SkipExported: !*again}
	var ok bool
	if q.Statuses, ok = statusSets[*status]; !ok {
		return usageError{fmt.Sprintf("expenses: --status %q: use approved, auto_approved, rejected, paid or decided", *status)}
	}
	l, ok := layouts[*format]
	if !ok {
		return usageError{fmt.Sprintf("expenses: --format %q: use csv, xero or qbo", *format)}
	}
	if *dates != "" {
		if l.date, ok = dateLayouts[*dates]; !ok {
			return usageError{fmt.Sprintf("expenses: --dates %q: use iso, dmy or mdy", *dates)}
		}
	}
	switch {
	case *format != "csv" && *status != "approved" && *status != "auto_approved":
		return usageError{fmt.Sprintf("expenses: --format %s books what the company owes: use --status approved (or auto_approved), or --format csv", *format)}
	case *mark && *again:
		return usageError{"expenses: --include-exported writes expenses marked before; they cannot be marked again"}
	case *mark && *status != "approved" && *status != "auto_approved":
		return usageError{"expenses: --mark-exported is for approved expenses, which accounting books"}
	}
	var err error
	if *since != "" {
		if q.DecidedFrom, err = parseSince("expenses", *since, time.Now().UTC()); err != nil {
			return err
		}
	}
	if *untilFlag != "" {
		if q.DecidedBefore, err = parseUntil("expenses", *untilFlag); err != nil {
			return err
		}
	}
	r, err := rules(cfg)
	if err != nil {
		return err
	}
	if err := l.check(r); err != nil {
		return err
	}
	// The database must exist even to mark a batch: the export sets nothing up.
	db, err := store.OpenExisting(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.Expenses(ctx, q)
	if err != nil {
		return err
	}
	checks, err := db.SpotChecks(ctx, time.Time{})
	if err != nil {
		return err
	}
	list, held := holdFlagged(list, checks)
	for _, h := range held {
		fmt.Fprintf(stderr, "expensebot: held back expense #%d (%s): %s\n", h.e.ID, h.e.Amount, h.why)
	}
	people, err := db.People(ctx)
	if err != nil {
		return err
	}
	files, err := db.ReceiptFiles(ctx)
	if err != nil {
		return err
	}
	rows := make([]ledgerRow, len(list))
	var unmapped []string
	for i, e := range list {
		rows[i] = newLedgerRow(e, r, people, files)
		if rows[i].account == "" && !slices.Contains(unmapped, e.Category) {
			unmapped = append(unmapped, e.Category)
		}
	}
	if l.needsAccounts && len(unmapped) > 0 {
		return fmt.Errorf("expenses: --format %s needs a ledger account for every category; in the policy file (EXPENSEBOT_POLICY_FILE) set account: under categories.%s",
			*format, strings.Join(unmapped, ", categories."))
	}

	w := bufio.NewWriter(stdout)
	cw := csv.NewWriter(w)
	cw.Write(l.columns)
	ids := make([]int64, len(rows))
	for i, row := range rows {
		for _, line := range l.lines(row, r.Accounting, l.date) {
			for j := range line {
				line[j] = csvSafe(line[j])
			}
			cw.Write(line)
		}
		ids[i] = row.e.ID
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("expenses: write: %w", err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("expenses: write: %w", err)
	}
	if !*mark || len(ids) == 0 {
		return nil
	}
	// Marked only once the file is written: a file that failed half way is not a batch.
	batch, err := db.MarkExported(ctx, ids, *format)
	if err != nil {
		return fmt.Errorf("expenses: the file was written but NOT marked exported, so the next run writes these expenses again: %w", err)
	}
	fmt.Fprintf(stderr, "expensebot: marked %d expenses exported as batch %d; later runs skip them (--include-exported writes them again)\n", len(ids), batch)
	return nil
}

// ledgerRow is one expense with everything an accounting import needs, resolved.
type ledgerRow struct {
	e             expensebot.Expense
	employee      string // the submitter's name, or their id when the bot never learnt it
	account       string // the category's ledger account; "" when the policy file names none
	home          expensebot.Money
	homeKnown     bool
	approvers     []string // ids; "policy" for an automatic approval
	approverNames []string
	receipts      []expensebot.ReceiptFile
}

func newLedgerRow(e expensebot.Expense, r policy.Rules, people map[string]expensebot.Person, files map[string]expensebot.ReceiptFile) ledgerRow {
	row := ledgerRow{e: e, employee: people[e.SubmitterID].Label(), account: r.Categories[e.Category].Account}
	if row.employee == "" {
		row.employee = e.SubmitterID
	}
	switch {
	case e.Amount.Currency == r.Currency:
		row.home, row.homeKnown = e.Amount, true
	case e.HomeAmount.Currency == r.Currency && e.HomeAmount.Minor > 0:
		row.home, row.homeKnown = e.HomeAmount, true
	}
	if e.FirstApprover != "" {
		row.approvers = append(row.approvers, e.FirstApprover)
	}
	if e.DecidedBy != "" {
		row.approvers = append(row.approvers, e.DecidedBy)
	}
	for _, a := range row.approvers {
		name := people[a].Label()
		if name == "" {
			name = a
		}
		row.approverNames = append(row.approverNames, name)
	}
	for _, id := range e.ReceiptFileIDs {
		f := files[id]
		f.FileID = id
		row.receipts = append(row.receipts, f)
	}
	return row
}

// booked is the amount an import books: in the home currency when it is known (what the company
// reimburses), else as submitted, leaving the conversion to the accounting system.
func (row ledgerRow) booked() expensebot.Money {
	if row.homeKnown {
		return row.home
	}
	return row.e.Amount
}

// memo describes the expense for a ledger line: its number, what it was, and, when converted,
// the amount as submitted and the rate; then the first receipt's link.
func (row ledgerRow) memo() string {
	e := row.e
	m := fmt.Sprintf("Expense #%d: %s (%s)", e.ID, expensebot.Truncate(strings.Join(strings.Fields(e.Description), " "), 200), e.Category)
	if row.homeKnown && e.Amount.Currency != row.home.Currency {
		m += fmt.Sprintf("; %s %s at %s (%s %s)", e.Amount.Major(), e.Amount.Currency, e.Rate.Value, e.Rate.Source, e.Rate.Date.Format(time.DateOnly))
	}
	for _, f := range row.receipts {
		if f.Permalink != "" {
			m += "; receipt " + f.Permalink
			break
		}
	}
	return m
}

// heldExpense is an expense the accounting export holds back, and why.
type heldExpense struct {
	e   expensebot.Expense
	why string
}

// holdFlagged takes out of list the expenses whose spot check a reviewer flagged: the approval
// stands, but the money is not booked as owed until a reviewer or finance clears the finding,
// and never when they said it must not be paid (upheld). A cleared one is exported. It returns
// what is left to export and what is held, in list's order.
func holdFlagged(list []expensebot.Expense, checks []expensebot.SpotCheck) (keep []expensebot.Expense, held []heldExpense) {
	flagged := map[int64]expensebot.SpotCheck{}
	for _, sc := range checks {
		if sc.Held() {
			flagged[sc.ExpenseID] = sc
		}
	}
	for _, e := range list {
		sc, ok := flagged[e.ID]
		if !ok {
			keep = append(keep, e)
			continue
		}
		why := fmt.Sprintf("its spot check was flagged by %s on %s: %q; it stays out of the export until a reviewer or finance clears it",
			sc.CheckedBy, sc.CheckedAt.UTC().Format(time.DateOnly), sc.Finding)
		if sc.Status == expensebot.SpotCheckUpheld {
			why = fmt.Sprintf("it must not be paid, said %s on %s: %q (its spot check was flagged by %s: %q); it stays out of the export",
				sc.SettledBy, sc.SettledAt.UTC().Format(time.DateOnly), sc.Settlement, sc.CheckedBy, sc.Finding)
		}
		held = append(held, heldExpense{e, why})
	}
	return keep, held
}
