package openai

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/expensebot/expensebot/pace"
)

// pacedTransport makes every HTTP call to the provider wait for the limiter's permit, tells the
// limiter how each call went (status, headers, latency), bounds one call by timeout, and tries
// again: after a 429 for as long as the request's context lives (the expense's deadline), since a
// 429 is the provider setting the pace, not a failure; after a 5xx up to tries times in all,
// honouring Retry-After. go-openai hides an error answer's headers, so this is where they are read.
type pacedTransport struct {
	next    http.RoundTripper
	limiter *pace.Limiter
	tries   int
	backoff time.Duration
	timeout time.Duration // one call
}

// maxRetryAfter caps the wait after a 5xx: the expense's deadline is the real limit.
const maxRetryAfter = 30 * time.Second

// costKey carries the tokens a request is expected to use, for the limiter's token budget.
type costKey struct{}

func withCost(ctx context.Context, tokens int) context.Context {
	return context.WithValue(ctx, costKey{}, tokens)
}

// ThrottledError is returned when a request's deadline passed while it waited for the
// provider's pace (a queue behind the rate limit, or a 429's wait), not because anything failed.
// The workflow can tell it apart without importing this package: it has Throttled() true.
type ThrottledError struct {
	RateLimited int // 429s this request received
	Err         error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("deadline passed while the AI service was rate limiting (%d times asked to wait): %v", e.RateLimited, e.Err)
}

func (e *ThrottledError) Unwrap() error { return e.Err }

// Throttled reports true: the deadline passed because of the provider's pace.
func (e *ThrottledError) Throttled() bool { return true }

func (t *pacedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	var body []byte
	if req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		body = b
	}
	ctx := req.Context()
	prio := pace.PriorityFrom(ctx)
	tokens, _ := ctx.Value(costKey{}).(int)
	wait := t.backoff
	limited := 0
	waited := func(err error) error {
		if errors.Is(err, context.DeadlineExceeded) {
			return &ThrottledError{RateLimited: limited, Err: err}
		}
		return err
	}
	for try := 1; ; {
		permit, err := t.limiter.Acquire(ctx, prio, tokens)
		if err != nil {
			return nil, waited(err)
		}
		callCtx, cancel := context.WithTimeout(ctx, t.timeout)
		r := req.Clone(callCtx)
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		start := time.Now()
		resp, err := next.RoundTrip(r)
		latency := time.Since(start)
		if err != nil {
			cancel()
			if ctx.Err() != nil { // the caller's deadline or cancellation, not the provider
				permit.Release()
				if limited > 0 {
					return nil, waited(ctx.Err())
				}
				return nil, err
			}
			permit.Done(pace.Result{Latency: latency})
			return nil, err
		}
		permit.Done(pace.Result{Status: resp.StatusCode, Header: resp.Header, Latency: latency})
		var delay time.Duration
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			limited++
			// The limiter now holds every start until the provider's retry-after; without one,
			// this request backs off on its own.
			if pace.ParseHeaders(resp.Header).RetryAfter <= 0 {
				delay = wait
				wait = min(2*wait, maxRetryAfter)
			}
		case resp.StatusCode >= 500 && try < t.tries:
			try++
			delay = wait
			if d := pace.ParseHeaders(resp.Header).RetryAfter; d > 0 {
				delay = min(d, maxRetryAfter)
			}
			wait *= 2
		default:
			resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
			return resp, nil
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		cancel()
		if err := sleep(ctx, delay); err != nil {
			if limited > 0 {
				return nil, waited(err)
			}
			return nil, err
		}
	}
}

// cancelOnClose ends one call's context once its answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
