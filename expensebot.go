// Package expensebot holds the domain of the expense approval bot: expenses and their lifecycle,
// money, decisions and the audit trail, plus the error type every edge (Slack, CLI, store)
// translates for people. It imports nothing of Slack, SQL or OpenAI, so the rules of the product can
// be read and tested on their own.
package expensebot

import (
	"errors"
	"fmt"
)

// Error codes, in the spirit of HTTP status classes: an edge turns each into words for a user.
const (
	EINVALID   = "invalid"   // the input cannot be accepted as it is
	ENOTFOUND  = "not_found" // no such expense
	ECONFLICT  = "conflict"  // the expense is not in a state that allows this
	EFORBIDDEN = "forbidden" // this person may not do this
	EINTERNAL  = "internal"  // our fault; details are logged, not shown
)

// Error is an error meant to be shown to a person: Message is written for them, in plain text
// (no Slack or other markup: each edge renders it). Field names the input it is about, if any.
type Error struct {
	Code    string
	Message string
	Field   string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the given code and a formatted, user-facing message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or EINTERNAL.
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err == nil {
		return ""
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err, hiding internal details.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side; it has been logged. Please try again in a moment."
}
