package main

// The layouts of the accounting export: the same expenses as a plain CSV, as Xero's bill import
// expects them, and as QuickBooks Online's journal entry import expects them. The column lists
// of the last two are pinned in testdata/ against the vendors' published templates, and tested
// column by column.

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot/policy"
)

// layout is one --format of `expensebot expenses`.
type layout struct {
	columns       []string
	date          string // time layout of dates, unless --dates says otherwise
	needsAccounts bool   // every category must map to a ledger account
	check         func(policy.Rules) error
	lines         func(row ledgerRow, acc policy.Accounting, date string) [][]string
}

var dateLayouts = map[string]string{"iso": time.DateOnly, "dmy": "02/01/2006", "mdy": "01/02/2006"}

var layouts = map[string]*layout{
	"csv":  {columns: csvColumns, date: time.DateOnly, check: func(policy.Rules) error { return nil }, lines: csvLines},
	"xero": {columns: xeroColumns, date: "02/01/2006", needsAccounts: true, check: xeroCheck, lines: xeroLines},
	"qbo":  {columns: qboColumns, date: "01/02/2006", needsAccounts: true, check: qboCheck, lines: qboLines},
}

// csvColumns: one row per expense, every fact an accounting import may want. Amounts are
// decimals in the currency's minor units, never rounded through a float; home_amount is in
// home_currency and empty when no rate was known. The receipts' Slack file ids, links and
// SHA-256 digests are space-separated, in the same order, with "none" for what the bot has not
// looked up (yet).
var csvColumns = []string{"expense_id", "status", "submitted_on", "decided_on", "incurred_on", "employee_id", "employee_name",
	"category", "account", "description", "amount", "currency", "home_amount", "home_currency", "rate", "rate_source", "rate_date",
	"approvers", "approver_names", "receipt_files", "receipt_links", "receipt_sha256"}

func csvLines(row ledgerRow, _ policy.Accounting, date string) [][]string {
	e := row.e
	home, homeCurrency := "", row.home.Currency
	if row.homeKnown {
		home = row.home.Major()
	}
	rateDate := ""
	if e.Rate.Value != "" {
		rateDate = e.Rate.Date.Format(date)
	}
	var ids, links, sums []string
	for _, f := range row.receipts {
		ids, links, sums = append(ids, f.FileID), append(links, orUnknown(f.Permalink)), append(sums, orUnknown(f.SHA256))
	}
	return [][]string{{
		strconv.FormatInt(e.ID, 10), string(e.Status), e.CreatedAt.Format(date), dateOf(e.DecidedAt, date), e.IncurredOn.Format(date),
		e.SubmitterID, row.employee, e.Category, row.account, e.Description, e.Amount.Major(), e.Amount.Currency,
		home, homeCurrency, e.Rate.Value, e.Rate.Source, rateDate,
		strings.Join(row.approvers, " "), strings.Join(row.approverNames, "; "), strings.Join(ids, " "), strings.Join(links, " "), strings.Join(sums, " "),
	}}
}

func orUnknown(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func dateOf(t time.Time, layout string) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(layout)
}

// xeroColumns are the columns of Xero's bill import template (Business → Bills to pay → Import),
// in its order; * marks what Xero requires. Pinned in testdata/xero_bills_columns.txt.
var xeroColumns = []string{"*ContactName", "EmailAddress", "POAddressLine1", "POAddressLine2", "POAddressLine3", "POAddressLine4",
	"POCity", "PORegion", "POPostalCode", "POCountry", "*InvoiceNumber", "*InvoiceDate", "*DueDate", "Total", "InventoryItemCode",
	"Description", "*Quantity", "*UnitAmount", "*AccountCode", "*TaxType", "TaxAmount", "TrackingName1", "TrackingOption1",
	"TrackingName2", "TrackingOption2", "Currency"}

func xeroCheck(r policy.Rules) error {
	if r.Accounting.TaxType == "" {
		return errors.New("expenses: --format xero needs the tax rate of the bills: in the policy file set accounting.tax_type to its name in Xero (e.g. Tax Exempt, No VAT, BAS Excluded)")
	}
	return nil
}

// xeroLines make each expense a bill from the employee (the contact) for one line of the booked
// amount: the bill is dated the day the expense was incurred and due the day it was approved.
// Xero calls the number InvoiceNumber; EXP-<id> is unique per expense.
func xeroLines(row ledgerRow, acc policy.Accounting, date string) [][]string {
	e := row.e
	due := e.DecidedAt
	if due.Before(e.IncurredOn) {
		due = e.IncurredOn
	}
	amount := row.booked()
	return [][]string{inOrder(xeroColumns, map[string]string{
		"*ContactName":   row.employee,
		"*InvoiceNumber": "EXP-" + strconv.FormatInt(e.ID, 10),
		"*InvoiceDate":   e.IncurredOn.Format(date),
		"*DueDate":       due.UTC().Format(date),
		"Description":    row.memo(),
		"*Quantity":      "1",
		"*UnitAmount":    amount.Major(),
		"*AccountCode":   row.account,
		"*TaxType":       acc.TaxType,
		"Currency":       amount.Currency,
	})}
}

// qboColumns are the columns of QuickBooks Online's journal entry import (Settings → Import data
// → Journal entries). Pinned in testdata/qbo_journal_columns.txt.
var qboColumns = []string{"JournalNo", "JournalDate", "AccountName", "Debits", "Credits", "Description", "Name", "Currency"}

func qboCheck(r policy.Rules) error {
	if r.Accounting.PayableAccount == "" {
		return errors.New("expenses: --format qbo needs the account the company owes employees from: in the policy file set accounting.payable_account (e.g. Employee reimbursements)")
	}
	return nil
}

// qboLines make each expense a balanced journal entry on the day it was approved: the
// category's account debited, the payable account credited, both for the booked amount.
func qboLines(row ledgerRow, acc policy.Accounting, date string) [][]string {
	e, amount := row.e, row.booked()
	no, day, memo := "EXP-"+strconv.FormatInt(e.ID, 10), dateOf(e.DecidedAt, date), row.memo()
	return [][]string{
		{no, day, row.account, amount.Major(), "", memo, row.employee, amount.Currency},
		{no, day, acc.PayableAccount, "", amount.Major(), memo, row.employee, amount.Currency},
	}
}

// inOrder lays the values named by column out in the order of cols; a column not named is empty.
func inOrder(cols []string, values map[string]string) []string {
	line := make([]string, len(cols))
	for i, c := range cols {
		line[i] = values[c]
	}
	return line
}
