package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
)

// How GET /v1/expenses pages.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// visible reports whether client c may see e: its own submissions, or everything with read-all.
func (c *client) visible(e expensebot.Expense) bool {
	return c.Can(RoleReadAll) || e.SubmittedBy == c.actor
}

// get is GET /v1/expenses/{id}[?wait=30s]: the expense, once it is final or the wait is over.
// Another client's expense is a 404, as if it did not exist.
func (h *handler) get(w http.ResponseWriter, r *http.Request, c *client) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		invalid(w, "id", "The expense id must be a positive whole number.")
		return
	}
	wait, err := parseWait(r.URL.Query().Get("wait"), h.cfg.MaxWait)
	if err != nil {
		writeError(w, err)
		return
	}
	e, err := h.store.Expense(r.Context(), id)
	if err == nil && !c.visible(e) {
		err = expensebot.Errorf(expensebot.ENOTFOUND, "There is no expense #%d.", id)
	}
	if err == nil && wait > 0 && !e.Status.Final() {
		if !h.clients.startWait(c) {
			w.Header().Set("Retry-After", "1")
			fail(w, http.StatusTooManyRequests, codeRateLimited, fmt.Sprintf("This client already has %d requests waiting; wait for one to end.", h.cfg.MaxWaits))
			return
		}
		defer h.clients.endWait(c)
		e, err = h.wait(r, e, wait)
	}
	if err != nil {
		if expensebot.ErrorCode(err) == expensebot.EINTERNAL {
			if r.Context().Err() != nil {
				return // the client left
			}
			h.log.ErrorContext(r.Context(), "API get", "expense_id", id, "err", err)
		}
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, h.view(r.Context(), e, true))
}

// parseWait reads ?wait as a duration (30s, 1m) or seconds (30), up to max.
func parseWait(raw string, limit time.Duration) (time.Duration, error) {
	if raw == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(raw)
	if n, nerr := strconv.Atoi(raw); nerr == nil {
		d, err = time.Duration(n)*time.Second, nil
	}
	if err != nil || d < 0 {
		return 0, fieldError("wait", "wait must be a duration such as 30s (at most %s); %q is not one.", limit, raw)
	}
	return min(d, limit), nil
}

// wait polls e until it is final, the wait is over, the client leaves or the server drains. It
// reads the database rather than listening in this process, so a decision taken through another
// instance ends the wait as well.
func (h *handler) wait(r *http.Request, e expensebot.Expense, d time.Duration) (expensebot.Expense, error) {
	deadline := time.Now().Add(d)
	every := 100 * time.Millisecond
	t := time.NewTimer(0)
	defer t.Stop()
	for !e.Status.Final() {
		left := time.Until(deadline)
		if left <= 0 {
			break
		}
		t.Reset(min(every, left))
		select {
		case <-r.Context().Done():
			return e, r.Context().Err()
		case <-h.stopping:
			return e, nil
		case <-t.C:
		}
		next, err := h.store.Expense(r.Context(), e.ID)
		if err != nil {
			return e, err
		}
		e, every = next, min(every*3/2, time.Second)
	}
	return e, nil
}

// list is GET /v1/expenses?since=…&limit=…: the expenses changed at or after since, in the order
// they last changed, a page at a time; next is the next page's URL, null after the last.
func (h *handler) list(w http.ResponseWriter, r *http.Request, c *client) {
	q := r.URL.Query()
	since, err := parseSince(q.Get("since"))
	if err != nil {
		writeError(w, err)
		return
	}
	limit := defaultLimit
	if raw := q.Get("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			invalid(w, "limit", fmt.Sprintf("limit must be a whole number from 1 to %d.", maxLimit))
			return
		}
		limit = n
	}
	var after time.Time
	var afterID int64
	if raw := q.Get("cursor"); raw != "" {
		if after, afterID, err = parseCursor(raw); err != nil {
			writeError(w, err)
			return
		}
	}
	who := c.actor
	if c.Can(RoleReadAll) {
		who = ""
	}
	page, err := h.store.Changed(r.Context(), who, since, after, afterID, limit)
	if err != nil {
		h.log.ErrorContext(r.Context(), "API list", "client", c.Name, "err", err)
		writeError(w, err)
		return
	}
	out := struct {
		Expenses []expenseView `json:"expenses"`
		Next     *string       `json:"next"`
	}{Expenses: []expenseView{}}
	for _, e := range page {
		out.Expenses = append(out.Expenses, h.view(r.Context(), e, false))
	}
	if len(page) == limit {
		last := page[len(page)-1]
		next := url.Values{"cursor": {cursor(last.UpdatedAt, last.ID)}, "limit": {strconv.Itoa(limit)}}
		if !since.IsZero() {
			next.Set("since", since.Format(time.RFC3339Nano))
		}
		link := "/v1/expenses?" + next.Encode()
		out.Next = &link
	}
	writeJSON(w, http.StatusOK, out)
}

// parseSince reads ?since as an RFC 3339 time or a date (midnight UTC); "" is the beginning.
func parseSince(raw string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, raw); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, raw); err == nil {
		return t, nil
	}
	return time.Time{}, fieldError("since", "since must be a time as 2026-11-25T09:00:00Z or a date as 2026-11-25; %q is neither.", raw)
}

// A cursor is where a page ended: the last expense's change time and id, opaque to clients.
func cursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(at.UTC().Format(time.RFC3339Nano) + "|" + strconv.FormatInt(id, 10)))
}

func parseCursor(raw string) (time.Time, int64, error) {
	bad := fieldError("cursor", "cursor must be the value a next link carried.")
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return time.Time{}, 0, bad
	}
	at, id, ok := strings.Cut(string(b), "|")
	t, terr := time.Parse(time.RFC3339Nano, at)
	n, nerr := strconv.ParseInt(id, 10, 64)
	if !ok || terr != nil || nerr != nil {
		return time.Time{}, 0, bad
	}
	return t, n, nil
}
