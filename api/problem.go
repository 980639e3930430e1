package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/expensebot/expensebot"
)

// problem is an RFC 9457 problem detail: type about:blank with the HTTP status's title, a
// detail written for the integrator, and two extension members: code, stable for programs, and
// field, the JSON member of the request at fault. errors lists every faulty field when there
// are several.
type problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail"`
	Code   string         `json:"code"`
	Field  string         `json:"field,omitempty"`
	Errors []fieldProblem `json:"errors,omitempty"`
}

type fieldProblem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// Problem codes.
const (
	codeInvalid      = "invalid"            // a field, the body or a parameter is wrong
	codeUnauthorized = "unauthorized"       // no token, or not a valid one
	codeForbidden    = "forbidden"          // the client's roles do not allow it
	codeNotFound     = "not_found"          // no such expense (for this client) or route
	codeMethod       = "method_not_allowed" // the route exists for other methods
	codeConflict     = "conflict"           // the Idempotency-Key was used with another body
	codeTooLarge     = "too_large"          // the body is over MaxBody
	codeMediaType    = "unsupported_media_type"
	codeRateLimited  = "rate_limited" // slow down: see Retry-After
	codeUnavailable  = "unavailable"  // Slack did not answer a lookup: try again
	codeInternal     = "internal"     // ours; logged
)

// writeProblem answers with p. A detail may quote what the client sent, and integrators show
// details to people: direction controls in it are neutralised, as in Slack.
func writeProblem(w http.ResponseWriter, p problem) {
	p.Type, p.Title = "about:blank", http.StatusText(p.Status)
	p.Detail = expensebot.NeutralizeBidi(p.Detail)
	for i := range p.Errors {
		p.Errors[i].Detail = expensebot.NeutralizeBidi(p.Errors[i].Detail)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func fail(w http.ResponseWriter, status int, code, detail string) {
	writeProblem(w, problem{Status: status, Code: code, Detail: detail})
}

func invalid(w http.ResponseWriter, field, detail string) {
	writeProblem(w, problem{Status: http.StatusBadRequest, Code: codeInvalid, Field: field, Detail: detail})
}

func rateLimited(w http.ResponseWriter, wait time.Duration) {
	secs := max(1, int((wait+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	fail(w, http.StatusTooManyRequests, codeRateLimited, "Too many requests from this client; try again in "+strconv.Itoa(secs)+" s.")
}

// jsonField is the request member a domain field is read from.
func jsonField(domain string) string {
	if domain == expensebot.FieldDate {
		return "incurred_on"
	}
	return domain
}

// fieldError is an EINVALID *expensebot.Error about one request member.
func fieldError(field, format string, args ...any) *expensebot.Error {
	err := expensebot.Errorf(expensebot.EINVALID, format, args...)
	err.Field = field
	return err
}

// writeError answers with the problem for err: a domain error's code picks the status, and its
// message (written for people) is the detail. Internal errors are logged by the caller.
func writeError(w http.ResponseWriter, err error) {
	p := problem{Detail: expensebot.ErrorMessage(err)}
	switch expensebot.ErrorCode(err) {
	case expensebot.EINVALID:
		p.Status, p.Code = http.StatusBadRequest, codeInvalid
		var e *expensebot.Error
		if errors.As(err, &e) {
			p.Field = jsonField(e.Field)
		}
	case expensebot.ENOTFOUND:
		p.Status, p.Code = http.StatusNotFound, codeNotFound
	case expensebot.ECONFLICT:
		p.Status, p.Code = http.StatusConflict, codeConflict
	case expensebot.EFORBIDDEN:
		p.Status, p.Code = http.StatusForbidden, codeForbidden
	default:
		p.Status, p.Code = http.StatusInternalServerError, codeInternal
		p.Detail = "Something went wrong on our side; it has been logged. Please try again."
	}
	writeProblem(w, p)
}

// problems answers with every problem of a submission at once.
func problems(w http.ResponseWriter, errs []*expensebot.Error) {
	p := problem{Status: http.StatusBadRequest, Code: codeInvalid, Detail: errs[0].Message, Field: jsonField(errs[0].Field)}
	if len(errs) > 1 {
		for _, e := range errs {
			p.Errors = append(p.Errors, fieldProblem{Field: jsonField(e.Field), Detail: e.Message})
		}
	}
	writeProblem(w, p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
