package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store"
)

// export writes the audit trail, one row per event joined with its expense, for finance.
func export(ctx context.Context, cfg Config, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	since := fs.String("since", "", "only events on or after this date (YYYY-MM-DD)")
	format := fs.String("format", "csv", "csv or jsonl")
	if err := parseFlags(fs, args, stdout, "export [--since YYYY-MM-DD] [--format csv|jsonl]"); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("export: unexpected %q", strings.Join(fs.Args(), " "))}
	}
	var from time.Time
	if *since != "" {
		t, err := time.Parse(time.DateOnly, *since)
		if err != nil {
			return usageError{fmt.Sprintf("export: --since %q is not a date like 2026-01-31", *since)}
		}
		from = t
	}
	if *format != "csv" && *format != "jsonl" {
		return usageError{fmt.Sprintf("export: --format %q: use csv or jsonl", *format)}
	}
	// Only reading: a wrong DATABASE_URL must be an error, not a new empty database to export.
	db, err := store.OpenExisting(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	// Names come from the bot's cache of what Slack said (users.info), so the export never asks
	// Slack; a person the bot has not met yet has an empty name.
	people, err := db.People(ctx)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	if *format == "jsonl" {
		enc := json.NewEncoder(w)
		return db.Export(ctx, from, func(r store.ExportRow) error { return enc.Encode(exportRecord(r, people)) })
	}
	cw := csv.NewWriter(w)
	cw.Write(exportColumns)
	err = db.Export(ctx, from, func(r store.ExportRow) error {
		rec := exportRecord(r, people)
		row := make([]string, len(exportColumns))
		for i, c := range exportColumns {
			row[i] = csvCell(rec[c])
		}
		return cw.Write(row)
	})
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

// exportColumns are the audit export's columns, the public interface finance reads. New columns
// go at the end, so that a reader that counts columns keeps working. status is the expense's
// status now; status_at_event its status right after the event.
var exportColumns = []string{"event_id", "event_at", "event_kind", "actor", "expense_id", "team_id", "submitter_id",
	"amount", "currency", "amount_minor", "category", "description", "incurred_on", "status", "detail",
	"status_at_event", "actor_name", "submitter_name"}

func exportRecord(r store.ExportRow, people map[string]expensebot.Person) map[string]any {
	e := r.Expense
	return map[string]any{
		"event_id": r.Event.ID, "event_at": r.Event.At.Format(time.RFC3339), "event_kind": r.Event.Kind,
		"actor": r.Event.Actor, "expense_id": e.ID, "team_id": e.TeamID, "submitter_id": e.SubmitterID,
		"amount": e.Amount.Major(), "currency": e.Amount.Currency, "amount_minor": strconv.FormatInt(e.Amount.Minor, 10),
		"category": e.Category, "description": e.Description, "incurred_on": e.IncurredOn.Format(time.DateOnly),
		"status": string(e.Status), "detail": r.Event.Detail,
		"status_at_event": string(r.StatusAt), "actor_name": people[r.Event.Actor].Label(), "submitter_name": people[e.SubmitterID].Label(),
	}
}

// csvCell is one value as the CSV shows it. The detail column is JSON text, as in the jsonl export:
// fmt.Sprint would print a json.RawMessage as a list of bytes. It is left as it is, because JSON
// cannot start a spreadsheet formula (an object starts with "{"; a leading "-" is only a number) and
// a quote added in front would make it unreadable as JSON.
func csvCell(v any) string {
	if raw, ok := v.(json.RawMessage); ok {
		return string(raw)
	}
	return csvSafe(fmt.Sprint(v))
}

// csvSafe stops a spreadsheet from running a description as a formula when finance opens the file.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
