package store

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/expensebot/expensebot"
	"github.com/lib/pq"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// This file keeps text that one of the two databases cannot hold out of both, and decides which
// database errors are about one row's data rather than about the database.

// validText returns EINVALID, naming field, when v holds a NUL byte or is not valid UTF-8:
// PostgreSQL refuses both in a text column (SQLite keeps them, and the same data must fit both).
func validText(field, label, v string) error {
	switch {
	case strings.IndexByte(v, 0) >= 0:
		return &expensebot.Error{Code: expensebot.EINVALID, Field: field,
			Message: "The " + label + " contains a NUL character, which cannot be saved; please remove it and try again."}
	case !utf8.ValidString(v):
		return &expensebot.Error{Code: expensebot.EINVALID, Field: field,
			Message: "The " + label + " is not valid UTF-8 text, so it cannot be saved; please type it again."}
	}
	return nil
}

// checkExpenseText checks every text of a submission that is stored (see validText).
func (s *DB) checkExpenseText(e expensebot.Expense) error {
	if s.skipTextCheck {
		return nil
	}
	fields := []struct{ field, label, v string }{
		{"description", "description", e.Description},
		{"category", "category", e.Category},
		{"currency", "currency", e.Amount.Currency},
		{"submitter_id", "submitter", e.SubmitterID},
		{"team_id", "team", e.TeamID},
		{"idempotency_key", "idempotency key", e.IdempotencyKey},
		{"submitted_by", "client name", e.SubmittedBy},
		{"callback_url", "callback URL", e.CallbackURL},
		{"request_hash", "request hash", e.RequestHash},
	}
	for _, f := range fields {
		if err := validText(f.field, f.label, f.v); err != nil {
			return err
		}
	}
	for _, id := range e.ReceiptFileIDs {
		if err := validText("receipts", "receipt file id", id); err != nil {
			return err
		}
	}
	return nil
}

// refusedData reports whether err is the database refusing a row's data (a bad character, a value
// out of range, a CHECK or NOT NULL broken) rather than failing as a whole, or colliding with
// another row: another row of the group might well be stored.
func refusedData(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		// data exception; check and not-null violations
		return pe.Code.Class() == "22" || pe.Code == "23514" || pe.Code == "23502"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_NOTNULL:
			return true
		}
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_MISMATCH, sqlite3.SQLITE_TOOBIG, sqlite3.SQLITE_RANGE:
			return true
		}
	}
	return false
}
