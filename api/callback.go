package api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/approval"
)

// Callback headers.
const (
	HeaderTimestamp = "X-Expensebot-Timestamp" // Unix seconds when the request was signed
	HeaderSignature = "X-Expensebot-Signature" // v1=<hex HMAC-SHA256>, see [Sign]
	HeaderDelivery  = "X-Expensebot-Delivery"  // the outcome's id, the same on every try
)

// Sign returns the signature of a callback body sent at timestamp (Unix seconds, as in the
// X-Expensebot-Timestamp header): "v1=" and the hex HMAC-SHA256, keyed with the webhook secret,
// of "v1:" + timestamp + ":" + body. It is how Slack signs its own requests.
func Sign(secret []byte, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v1:" + timestamp + ":"))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a callback as a receiver should: the signature matches (compared in constant
// time), and the timestamp is within tolerance of now, so that a recorded request cannot be
// replayed later.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("no valid " + HeaderTimestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("the timestamp is %s away from now", d.Round(time.Second))
	}
	if !hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature)) {
		return errors.New("the signature does not match")
	}
	return nil
}

// callbackBody is what a callback POSTs: which outcome, and the expense as GET shows it.
type callbackBody struct {
	ID         string      `json:"id"`    // "<expense id>:<event>": the same on every try, for deduplication
	Event      string      `json:"event"` // approved | rejected | auto_approved | withdrawn | expired
	OccurredAt time.Time   `json:"occurred_at"`
	Expense    expenseView `json:"expense"`
}

// hookClient POSTs callbacks: no proxy, no redirects followed, and only allowed addresses dialled.
type hookClient struct{ *http.Client }

func newHookClient(allow allowList, timeout time.Duration) *hookClient {
	t := &http.Transport{
		Proxy:                 nil, // a proxy would dial on our behalf, past the address check
		DialContext:           allow.dialer(5 * time.Second),
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
	}
	return &hookClient{&http.Client{Transport: t, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// retries is how often a failed callback is tried.
type retries int

const (
	retryLong  retries = iota // transient: Config.CallbackAttempts tries, about a day
	retryFew                  // three tries: it may be mended soon (a redirect, an address refused)
	retryNever                // permanent: trying again cannot help, so the delivery ends now
)

// Callback POSTs outcome n of e to e.CallbackURL, signed, and returns the audit event recording
// the delivery. A failed try is recorded in the audit trail at once, and answered for the outbox:
// 5xx, 408, 429, timeouts and connection errors are retried with exponential backoff (honouring
// Retry-After) for Config.CallbackAttempts tries; a redirect or a refused address is tried three
// times; another 4xx, or a TLS handshake or certificate error (https:// to a plain-HTTP
// receiver, an untrusted certificate), ends the delivery at once with an
// [*approval.PermanentError]. It implements [approval.Callbacks].
func (s *Server) Callback(ctx context.Context, e expensebot.Expense, n expensebot.Notice) (expensebot.AuditEvent, error) {
	attempt := n.Attempts + 1
	id := strconv.FormatInt(e.ID, 10) + ":" + n.Event
	host := "?"
	if u, err := url.Parse(e.CallbackURL); err == nil {
		host = u.Host
	}
	// failed records a failed try and tells the outbox when to try again, if ever.
	failed := func(status int, cause error, tries retries, retryAfter time.Duration) (expensebot.AuditEvent, error) {
		cause = fmt.Errorf("callback to %s: %w", host, cause)
		limit := map[retries]int{retryLong: s.cfg.CallbackAttempts, retryFew: 3, retryNever: 1}[tries]
		wait := min(s.cfg.CallbackBackoff<<min(attempt-1, 30), s.cfg.CallbackMaxBackoff)
		wait = max(wait, min(retryAfter, s.cfg.CallbackMaxBackoff))
		gaveUp := attempt >= limit
		detail := map[string]any{"delivery": id, "host": host, "attempt": attempt, "error": cause.Error(), "gave_up": gaveUp}
		if status != 0 {
			detail["status"] = status
		}
		if tries == retryNever {
			detail["permanent"] = true // why it gave up at the first try
		}
		if !gaveUp {
			detail["retry_in_ms"] = wait.Milliseconds()
		}
		rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := s.store.AppendEvent(rec, expensebot.NewEvent(e.ID, expensebot.EventCallbackFailed, expensebot.ActorSystem, detail)); err != nil {
			s.log.ErrorContext(ctx, "audit callback failure", "expense_id", e.ID, "err", err)
		}
		if gaveUp {
			return expensebot.AuditEvent{}, &approval.PermanentError{Err: cause}
		}
		return expensebot.AuditEvent{}, &approval.RetryAfterError{Wait: wait, Err: cause}
	}

	if s.cfg.WebhookSecret == "" {
		return failed(0, errors.New("EXPENSEBOT_WEBHOOK_SECRET is not set, so the callback cannot be signed"), retryLong, s.cfg.CallbackMaxBackoff)
	}
	u, err := s.allow.check(e.CallbackURL)
	if err != nil {
		return failed(0, errors.New(expensebot.ErrorMessage(err)), retryFew, 0)
	}
	body, err := json.Marshal(callbackBody{ID: id, Event: n.Event, OccurredAt: e.DecidedAt, Expense: s.view(ctx, e, true)})
	if err != nil {
		return expensebot.AuditEvent{}, &approval.PermanentError{Err: err}
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return failed(0, errors.New("the URL cannot be requested"), retryFew, 0)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "expensebot-callbacks/1")
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign([]byte(s.cfg.WebhookSecret), ts, body))
	req.Header.Set(HeaderDelivery, id)

	start := time.Now()
	resp, err := s.hooks.Do(req)
	if err != nil {
		var refused *refusedError
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL, which may carry a secret
		}
		switch {
		case errors.As(err, &refused):
			return failed(0, err, retryFew, 0)
		case tlsPermanent(err):
			return failed(0, fmt.Errorf("TLS handshake failed, which trying again cannot mend (is the receiver plain http, or its certificate not trusted?): %w", err), retryNever, 0)
		}
		return failed(0, err, retryLong, 0)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	status := resp.StatusCode
	switch {
	case status >= 200 && status < 300:
	case status >= 300 && status < 400:
		return failed(status, fmt.Errorf("answered %d; redirects are not followed", status), retryFew, 0)
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return failed(status, fmt.Errorf("answered %d", status), retryLong, retryAfter(resp.Header.Get("Retry-After")))
	default:
		return failed(status, fmt.Errorf("answered %d, which trying again cannot mend", status), retryNever, 0)
	}
	latency := time.Since(start)
	s.log.InfoContext(ctx, "callback delivered", "expense_id", e.ID, "event", n.Event, "status", status, "attempt", attempt, "latency_ms", latency.Milliseconds())
	return expensebot.NewEvent(e.ID, expensebot.EventCallbackDelivered, expensebot.ActorSystem, map[string]any{
		"delivery": id, "host": host, "status": status, "attempt": attempt, "latency_ms": latency.Milliseconds(),
	}), nil
}

// tlsPermanent reports whether err is a TLS failure that the same request will meet again: the
// receiver does not speak TLS (https:// to a plain-HTTP server), or shows a certificate that does
// not verify. An alert the receiver sends is not among them: it may be passing.
func tlsPermanent(err error) bool {
	var record tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	return errors.Is(err, http.ErrSchemeMismatch) || errors.As(err, &record) || errors.As(err, &verify) ||
		errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// retryAfter reads a Retry-After header given in seconds (0 when absent or a date).
func retryAfter(h string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
