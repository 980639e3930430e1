package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
)

// payRequest is the body of POST /v1/payouts: a batch of the accounting export, or expenses.
type payRequest struct {
	Batch     int64   `json:"batch,omitempty"`
	Expenses  []int64 `json:"expenses,omitempty"`
	Reference string  `json:"reference,omitempty"`
	By        string  `json:"by,omitempty"`
}

// payoutView is the answer of POST /v1/payouts: what was paid and what was refused, and why.
type payoutView struct {
	Paid    []expenseView `json:"paid"`
	Refused []refusedV    `json:"refused"`
}

type refusedV struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// paymentV is the payout of a paid expense.
type paymentV struct {
	PaidAt    time.Time `json:"paid_at"`
	By        string    `json:"by"`
	Reference string    `json:"reference,omitempty"`
	Batch     int64     `json:"batch,omitempty"`
}

// maxPayout bounds the expenses of one request.
const maxPayout = 1000

// pay is POST /v1/payouts: record that approved expenses were paid, once each. Every expense is
// paid or refused on its own; the answer lists both, so a retry of a request that timed out is
// safe (what it paid is refused as already paid, naming when).
func (h *handler) pay(w http.ResponseWriter, r *http.Request, c *client) {
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
	var req payRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		invalid(w, "", "The body must be a JSON object such as {\"batch\": 12, \"reference\": \"TRX-1\"} or {\"expenses\": [41, 42]}; see /v1/openapi.json.")
		return
	}
	switch {
	case (req.Batch != 0) == (len(req.Expenses) > 0):
		invalid(w, "batch", "Name either the export batch paid (batch) or the expenses paid (expenses), not both.")
		return
	case req.Batch < 0:
		invalid(w, "batch", "batch must be a positive whole number.")
		return
	case len(req.Expenses) > maxPayout:
		invalid(w, "expenses", "At most 1000 expenses in one payout.")
		return
	}
	for _, id := range req.Expenses {
		if id <= 0 {
			invalid(w, "expenses", "Expense ids must be positive whole numbers.")
			return
		}
	}
	p := expensebot.Payout{By: strings.TrimSpace(req.By), Actor: c.actor, Reference: strings.TrimSpace(req.Reference)}
	if p.By == "" {
		p.By = c.Name
	}
	if err := p.Validate(); err != nil {
		field := "reference"
		if strings.Contains(err.Error(), "name") {
			field = "by"
		}
		invalid(w, field, expensebot.ErrorMessage(err))
		return
	}
	ids := req.Expenses
	if req.Batch != 0 {
		list, err := h.store.BatchExpenses(r.Context(), req.Batch)
		if err != nil {
			h.logInternal(r, "API payout: batch", err)
			writeError(w, err)
			return
		}
		for _, e := range list {
			ids = append(ids, e.ID)
		}
	}
	results, err := h.store.Pay(r.Context(), ids, p)
	if err != nil {
		h.logInternal(r, "API payout", err)
		writeError(w, err)
		return
	}
	out := payoutView{Paid: []expenseView{}, Refused: []refusedV{}}
	for _, res := range results {
		if res.Err != nil {
			h.logInternal(r, "API payout: expense", res.Err)
			code := expensebot.ErrorCode(res.Err)
			if code == expensebot.EINTERNAL {
				code = codeInternal
			}
			out.Refused = append(out.Refused, refusedV{ID: res.ID, Code: code, Detail: expensebot.ErrorMessage(res.Err)})
			continue
		}
		out.Paid = append(out.Paid, h.view(r.Context(), res.Expense, false))
	}
	writeJSON(w, http.StatusOK, out)
}

// logInternal logs err when it is ours, not the caller's.
func (h *handler) logInternal(r *http.Request, msg string, err error) {
	if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
		h.log.ErrorContext(r.Context(), msg, "err", err)
	}
}
