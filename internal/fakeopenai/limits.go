package fakeopenai

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Limits make the fake behave as a provider under load: each answer takes Latency (or a time
// drawn evenly from Latency to LatencyMax), and requests and tokens are rationed per minute the
// way OpenAI does, with its headers on every answer and its 429 when a bucket is empty. The zero
// Limits answer at once and ration nothing.
type Limits struct {
	Latency    time.Duration
	LatencyMax time.Duration // above Latency: each answer takes a time drawn from Latency to LatencyMax

	RPM int // requests a minute; 0: unlimited
	TPM int // tokens a minute (prompt, estimated at 4 characters a token, plus max_completion_tokens); 0: unlimited
	// Burst is how many requests the bucket holds; by default a second's worth (RPM/60), as
	// OpenAI enforces a minute's limit over shorter periods. TokenBurst likewise for tokens.
	Burst, TokenBurst int

	// NoHeaders sends no x-ratelimit-* or retry-after headers, as Ollama, vLLM and some gateways
	// do; the 429s stay.
	NoHeaders bool
	Model     string // named in the 429 message; "gpt-4o-mini" if empty
}

// Counts are what the fake did since it started.
type Counts struct {
	Requests    int // every request, refused ones included
	Throttled   int // answered 429 because of Limits
	MaxInFlight int // most requests admitted and not yet answered at once
}

// NewWith starts a server with limits l; see [New].
func NewWith(l Limits) *Server {
	s := New()
	s.SetLimits(l)
	return s
}

// SetLimits replaces the limits; the buckets start full.
func (s *Server) SetLimits(l Limits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.Burst <= 0 {
		l.Burst = max(1, l.RPM/60)
	}
	if l.TokenBurst <= 0 {
		l.TokenBurst = max(1, l.TPM/60)
	}
	if l.Model == "" {
		l.Model = "gpt-4o-mini"
	}
	s.limits = l
	now := time.Now()
	s.req = bucket{perSecond: float64(l.RPM) / 60, capacity: float64(l.Burst), level: float64(l.Burst), at: now}
	s.tok = bucket{perSecond: float64(l.TPM) / 60, capacity: float64(l.TokenBurst), level: float64(l.TokenBurst), at: now}
	if s.rng == nil {
		s.rng = rand.New(rand.NewPCG(1, 2))
	}
}

// Counts returns what the fake did so far.
func (s *Server) Counts() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts
}

// Handler is the fake's HTTP handler, for serving it on a listener of one's own (a sandbox, a
// benchmark in another process).
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serve) }

type bucket struct {
	perSecond, capacity, level float64
	at                         time.Time
}

func (b *bucket) refill(now time.Time) {
	b.level = min(b.capacity, b.level+now.Sub(b.at).Seconds()*b.perSecond)
	b.at = now
}

// wait is how long until n fit; 0 if they do now.
func (b *bucket) wait(n float64) time.Duration {
	n = min(n, b.capacity)
	if b.level >= n {
		return 0
	}
	return time.Duration(math.Ceil((n-b.level)/b.perSecond*1000) * float64(time.Millisecond))
}

// reset is how long until the bucket is full again, as OpenAI writes it (1s, 6m0s, 20ms).
func (b *bucket) reset() string {
	if b.perSecond <= 0 {
		return "0s"
	}
	return time.Duration((b.capacity - b.level) / b.perSecond * float64(time.Second)).Round(time.Millisecond).String()
}

// cost estimates the tokens OpenAI counts against the limit when a request arrives.
func cost(r Request) float64 {
	var chars int
	for _, m := range r.Messages {
		chars += len(m.Content) + 1000*4*len(m.Images)
	}
	return float64(chars/4 + r.MaxCompletionTokens)
}

// admitLocked rations r: it sets the rate-limit headers on w and returns how long to take over the
// answer, or a reply refusing r.
func (s *Server) admitLocked(w http.ResponseWriter, r Request) (time.Duration, Reply) {
	l := s.limits
	delay := l.Latency
	if l.LatencyMax > l.Latency {
		delay += time.Duration(s.rng.Int64N(int64(l.LatencyMax - l.Latency)))
	}
	if l.RPM <= 0 && l.TPM <= 0 {
		return delay, nil
	}
	now := time.Now()
	s.req.refill(now)
	s.tok.refill(now)
	n := cost(r)
	var kind string
	var wait time.Duration
	if l.RPM > 0 {
		if d := s.req.wait(1); d > 0 {
			kind, wait = "requests", d
		}
	}
	if l.TPM > 0 && kind == "" {
		if d := s.tok.wait(n); d > 0 {
			kind, wait = "tokens", d
		}
	}
	if kind == "" {
		if l.RPM > 0 {
			s.req.level--
		}
		if l.TPM > 0 {
			s.tok.level -= min(n, s.tok.capacity)
		}
	}
	if !l.NoHeaders {
		h := w.Header()
		if l.RPM > 0 {
			h.Set("x-ratelimit-limit-requests", strconv.Itoa(l.RPM))
			h.Set("x-ratelimit-remaining-requests", strconv.Itoa(max(0, int(s.req.level))))
			h.Set("x-ratelimit-reset-requests", s.req.reset())
		}
		if l.TPM > 0 {
			h.Set("x-ratelimit-limit-tokens", strconv.Itoa(l.TPM))
			h.Set("x-ratelimit-remaining-tokens", strconv.Itoa(max(0, int(s.tok.level))))
			h.Set("x-ratelimit-reset-tokens", s.tok.reset())
		}
	}
	if kind == "" {
		return delay, nil
	}
	limit, used, per := l.RPM, l.RPM-max(0, int(s.req.level)), "requests per min (RPM)"
	if kind == "tokens" {
		limit, used, per = l.TPM, l.TPM-max(0, int(s.tok.level)), "tokens per min (TPM)"
	}
	msg := fmt.Sprintf("Rate limit reached for %s in organization org-fake on %s: Limit %d, Used %d, Requested %d. Please try again in %s.",
		l.Model, per, limit, used, map[bool]int{true: int(n), false: 1}[kind == "tokens"], wait)
	headers := !l.NoHeaders
	return 0, func(w http.ResponseWriter, _ Request) { writeRateLimited(w, kind, msg, wait, headers) }
}

func writeRateLimited(w http.ResponseWriter, kind, msg string, wait time.Duration, headers bool) {
	if headers {
		w.Header().Set("retry-after-ms", strconv.FormatInt(max(1, wait.Milliseconds()), 10))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusTooManyRequests)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": msg, "type": kind, "param": nil, "code": "rate_limit_exceeded"}})
}

// RateLimitedMS answers 429 as OpenAI does when a limit is reached: its body, retry-after-ms and
// Retry-After.
func RateLimitedMS(ms int) Reply {
	return func(w http.ResponseWriter, r Request) {
		wait := time.Duration(ms) * time.Millisecond
		writeRateLimited(w, "requests", fmt.Sprintf("Rate limit reached for %s in organization org-fake on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in %s.",
			cmp.Or(r.Model, "gpt-4o-mini"), wait), wait, true)
	}
}
