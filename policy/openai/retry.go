package openai

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

// retryTransport retries a request on 429 and 5xx, honouring Retry-After, until its context ends.
// go-openai does not retry and hides response headers, so this is where Retry-After can be read.
type retryTransport struct {
	next    http.RoundTripper
	tries   int
	backoff time.Duration
}

// maxRetryAfter caps a server's Retry-After: the assessment's own deadline is the real limit.
const maxRetryAfter = 30 * time.Second

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
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
	wait := t.backoff
	for try := 1; ; try++ {
		r := req.Clone(req.Context())
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		resp, err := next.RoundTrip(r)
		if err != nil || try >= t.tries || !(resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
			return resp, err
		}
		delay := wait
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			delay = min(time.Duration(s)*time.Second, maxRetryAfter)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if err := sleep(req.Context(), delay); err != nil {
			return nil, err
		}
		wait *= 2
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
