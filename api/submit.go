package api

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expensebot/expensebot"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 64 << 10

// submitRequest is the body of POST /v1/expenses. Amount is kept raw to tell a JSON number (a
// float to most clients, refused) from a string.
type submitRequest struct {
	Submitter      string          `json:"submitter,omitempty"`
	SubmitterEmail string          `json:"submitter_email,omitempty"`
	Amount         json.RawMessage `json:"amount,omitempty"`
	Currency       string          `json:"currency,omitempty"`
	Description    string          `json:"description,omitempty"`
	Category       string          `json:"category,omitempty"`
	IncurredOn     string          `json:"incurred_on,omitempty"`
	CallbackURL    string          `json:"callback_url,omitempty"`
}

// hash identifies the request's content, whatever its spacing or member order: a retry of the
// same submission hashes the same.
func (r submitRequest) hash() string {
	var amount bytes.Buffer
	json.Compact(&amount, r.Amount)
	r.Amount = amount.Bytes()
	b, _ := json.Marshal(r)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// decodeSubmit reads a submission strictly: one JSON object, no unknown members, strings where
// strings are due. Its errors name the member at fault.
func decodeSubmit(body []byte) (submitRequest, error) {
	var req submitRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(&req)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case err == nil:
		if _, err := dec.Token(); err != io.EOF {
			return req, fieldError("", "The body must be one JSON object, with nothing after it.")
		}
		return req, nil
	case errors.Is(err, io.EOF):
		return req, fieldError("", "The body is empty; send a JSON object such as {\"submitter\": \"U123\", \"amount\": \"25.00\", \"description\": \"Taxi\"}.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return req, fieldError("", "The body is not valid JSON (it ends too soon).")
	case errors.As(err, &syntax):
		return req, fieldError("", "The body is not valid JSON (at byte %d).", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return req, fieldError("", "The body must be a JSON object.")
		}
		return req, fieldError(typ.Field, "%s must be a JSON string.", typ.Field)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name, _ := strconv.Unquote(strings.TrimPrefix(err.Error(), "json: unknown field "))
		return req, fieldError(name, "%q is not a member of an expense; see /v1/openapi.json for those there are.", name)
	}
	return req, fieldError("", "The body could not be read as JSON: %v.", err)
}

var (
	userID         = regexp.MustCompile(`^[UW][A-Z0-9]{2,20}$`)
	idempotencyKey = regexp.MustCompile(`^[\x21-\x7e]{1,200}$`) // visible ASCII
)

// decimal is the one form of amount the API reads: digits, and optionally "." and more digits.
var decimal = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// parseAmount reads the amount strictly, as a decimal string in currency: "2500.00" or "2500".
// The friendly reading /expense gives what people type ("2,500", "1.234,56 EUR", "$40") is not
// for programs: "2,500" means 2500 to some and 2.5 to others, so the API refuses it rather than
// guess. A JSON number is refused too: it is a float to most JSON libraries, and money is never
// a float.
func parseAmount(raw json.RawMessage, currency string) (expensebot.Money, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return expensebot.Money{}, fieldError("amount", `amount is required, as a string such as "2500.00".`)
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		if c := raw[0]; c == '-' || (c >= '0' && c <= '9') {
			return expensebot.Money{}, fieldError("amount", `amount must be a JSON string such as "%s", not a number: JSON numbers are floats to most clients, and money is never a float.`, string(raw))
		}
		return expensebot.Money{}, fieldError("amount", `amount must be a JSON string such as "2500.00".`)
	}
	if err := expensebot.CheckText("amount", text, false); err != nil {
		return expensebot.Money{}, err
	}
	if !decimal.MatchString(text) {
		return expensebot.Money{}, fieldError("amount", `%q is not an amount in the API's form: send a positive decimal with "." before the cents and nothing else, such as "2500.00" or "2500" (no grouping, sign, spaces or currency; the currency goes in currency).`, text)
	}
	// Only digits and one ".": ParseMoney reads it one way, and checks the currency's decimals,
	// zero and the largest amount.
	m, err := expensebot.ParseMoney(text, currency)
	if err != nil {
		return m, fieldError("amount", "%s", expensebot.ErrorMessage(err))
	}
	return m, nil
}

// textFields are the submission's members that hold text, and whether each may have lines.
func (r submitRequest) textFields() []struct {
	name, value string
	multiline   bool
} {
	return []struct {
		name, value string
		multiline   bool
	}{
		{"submitter", r.Submitter, false}, {"submitter_email", r.SubmitterEmail, false},
		{"currency", r.Currency, false}, {"description", r.Description, true}, {"category", r.Category, false},
		{"incurred_on", r.IncurredOn, false}, {"callback_url", r.CallbackURL, false},
	}
}

// invalidUTF8 names the member of body whose value is not valid UTF-8, as a problem, or returns
// nil when body is valid UTF-8. Go's JSON decoder would quietly replace such bytes with U+FFFD:
// the client would never learn that its text was changed.
func invalidUTF8(body []byte) error {
	if utf8.Valid(body) {
		return nil
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) == nil {
		for _, name := range slices.Sorted(maps.Keys(members)) {
			raw := members[name]
			if !utf8.Valid(raw) {
				if len(raw) >= 2 && raw[0] == '"' {
					raw = raw[1 : len(raw)-1]
				}
				return expensebot.CheckText(name, string(raw), true)
			}
		}
	}
	return fieldError("", "The body is not valid UTF-8; send JSON encoded as UTF-8.")
}

// expense turns a well-formed submission into the expense to submit for c, resolving the
// submitter in Slack. Returns every problem with the request that can be told without Slack, as
// EINVALID errors naming their member; or ENOTFOUND for a submitter Slack does not know (also a
// request problem), or an internal error when Slack did not answer.
func (h *handler) expense(r *http.Request, req submitRequest, c *client) (expensebot.Expense, []*expensebot.Error, error) {
	now := h.flow.Now()
	var probs []*expensebot.Error
	told := map[string]bool{} // members with a problem already: one problem each
	add := func(err error) {
		var e *expensebot.Error
		if errors.As(err, &e) && !told[e.Field] {
			told[e.Field] = true
			probs = append(probs, e)
		}
	}
	// Text that cannot be stored is refused first, naming its member, whatever else is wrong.
	for _, f := range req.textFields() {
		add(expensebot.CheckText(f.name, f.value, f.multiline))
	}
	e := expensebot.Expense{Description: req.Description, Category: strings.ToLower(strings.TrimSpace(req.Category)),
		SubmittedBy: c.actor, CallbackURL: req.CallbackURL}

	switch {
	case req.Submitter != "" && req.SubmitterEmail != "":
		add(fieldError("submitter", "Give submitter or submitter_email, not both."))
	case req.Submitter == "" && req.SubmitterEmail == "":
		add(fieldError("submitter", "Say who the expense is for: submitter (a Slack user id, U…) or submitter_email."))
	case req.Submitter != "" && !userID.MatchString(req.Submitter):
		add(fieldError("submitter", "submitter must be a Slack user id such as U0123ABCD; %q is not one.", req.Submitter))
	case req.SubmitterEmail != "" && (len(req.SubmitterEmail) > 254 || !strings.Contains(req.SubmitterEmail, "@")):
		add(fieldError("submitter_email", "submitter_email must be an email address."))
	}

	currency := strings.ToUpper(strings.TrimSpace(req.Currency))
	if currency == "" {
		currency = h.flow.Currency()
	}
	if !expensebot.ValidCurrency(currency) {
		add(fieldError("currency", "%q is not an ISO 4217 currency code I know (e.g. USD, EUR).", req.Currency))
	} else {
		m, err := parseAmount(req.Amount, currency)
		add(err)
		e.Amount = m
	}
	if req.IncurredOn != "" {
		d, err := time.Parse(time.DateOnly, req.IncurredOn)
		if err != nil {
			add(fieldError("incurred_on", "incurred_on must be a date as YYYY-MM-DD; %q is not one.", req.IncurredOn))
		}
		e.IncurredOn = d
	}
	if req.CallbackURL != "" {
		if h.cfg.WebhookSecret == "" {
			add(fieldError("callback_url", "This server has no EXPENSEBOT_WEBHOOK_SECRET to sign callbacks with, so it takes no callback_url; poll GET /v1/expenses/{id}?wait=60s instead."))
		} else if _, err := h.allow.check(req.CallbackURL); err != nil {
			add(err)
		}
	}
	// The domain's own rules, for what was readable; a placeholder submitter until Slack says.
	probe := e
	probe.SubmitterID = "-"
	for _, p := range probe.Problems(now) {
		if p.Field == expensebot.FieldAmount && e.Amount.Minor == 0 || p.Field == expensebot.FieldCurrency {
			continue // said above, in the API's words
		}
		p.Field = jsonField(p.Field)
		add(p)
	}
	if len(probs) > 0 {
		return e, probs, nil
	}

	var err error
	if req.Submitter != "" {
		e.SubmitterID, err = req.Submitter, h.dir.user(r.Context(), req.Submitter)
	} else {
		e.SubmitterID, err = h.dir.userByEmail(r.Context(), req.SubmitterEmail)
	}
	if expensebot.ErrorCode(err) == expensebot.ENOTFOUND {
		field := "submitter"
		if req.SubmitterEmail != "" {
			field = "submitter_email"
		}
		return e, []*expensebot.Error{fieldError(field, "%s", expensebot.ErrorMessage(err))}, nil
	}
	return e, nil, err
}

// submit is POST /v1/expenses: 202 with the expense once it is committed. With an
// Idempotency-Key, a retry of the same body answers the same expense (Idempotent-Replayed:
// true), and another body under the same key is a 409.
func (h *handler) submit(w http.ResponseWriter, r *http.Request, c *client) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		fail(w, http.StatusUnsupportedMediaType, codeMediaType, "Send the expense as JSON, with Content-Type: application/json.")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key != "" && !idempotencyKey.MatchString(key) {
		invalid(w, "Idempotency-Key", "The Idempotency-Key header must be 1 to 200 visible ASCII characters.")
		return
	}
	if r.ContentLength > MaxBody {
		fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "The body is larger than 64 KB.")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		fail(w, http.StatusRequestEntityTooLarge, codeTooLarge, "The body is larger than 64 KB.")
		return
	case err != nil:
		invalid(w, "", "The body could not be read.")
		return
	}
	if err := invalidUTF8(body); err != nil {
		writeError(w, err)
		return
	}
	req, err := decodeSubmit(body)
	if err != nil {
		writeError(w, err)
		return
	}
	e, probs, err := h.expense(r, req, c)
	switch {
	case len(probs) > 0:
		problems(w, probs)
		return
	case err != nil:
		h.log.WarnContext(r.Context(), "API submit: Slack lookup failed", "client", c.Name, "err", err)
		w.Header().Set("Retry-After", "5")
		fail(w, http.StatusServiceUnavailable, codeUnavailable, "Slack did not answer when looking up the submitter; please try again in a moment.")
		return
	}
	e.RequestHash = req.hash()
	if key == "" {
		key = "auto:" + rand.Text()
	}
	e.IdempotencyKey = c.actor + ":" + key

	saved, created, err := h.flow.Submit(r.Context(), e)
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			h.log.ErrorContext(r.Context(), "API submit", "client", c.Name, "err", err)
		}
		writeError(w, err)
		return
	}
	if !created && saved.RequestHash != e.RequestHash {
		fail(w, http.StatusConflict, codeConflict, "This Idempotency-Key was already used for expense #"+strconv.FormatInt(saved.ID, 10)+" with a different body; use a new key for a new expense.")
		return
	}
	w.Header().Set("Location", selfLink(saved.ID))
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, h.view(r.Context(), saved, false))
}
