// Package pace sets how many calls to a model provider run at once, and when the next may start,
// from what the provider says and does rather than from a constant.
//
// A [Limiter] keeps a window of calls in flight. The window grows while calls succeed and the
// window is what holds them back (doubling each round trip until the first sign of trouble, then
// by one per round trip), and shrinks by a factor on a 429, a 5xx, a failed call, or a latency
// that rises well above the best seen: AIMD, as TCP does. Where the provider sends OpenAI's
// rate-limit headers (x-ratelimit-*-requests and -tokens), the limiter keeps a copy of the
// provider's buckets, synced by every answer, starts a call only when the copy says it would be
// accepted, and sizes the window by Little's law (the provider's rate times the latency). A
// retry-after-ms or Retry-After pauses every start until then. Where the provider sends no
// headers, Config.RPM and Config.TPM pace the starts instead.
//
// Waiters are admitted in priority order: every [Interactive] waiter before any [Bulk] one, and
// first come first served within a priority.
//
// The limiter reads the clock through time.Now and time.AfterFunc only, so testing/synctest runs
// its logic on a fake clock.
package pace

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Priority orders waiters: a lower value is admitted first.
type Priority int

const (
	// Interactive is a person waiting for an answer, such as a submission from Slack.
	Interactive Priority = iota
	// Bulk is work nobody watches: batches posted to the API, re-assessments.
	Bulk
	priorities
)

// Priorities lists the priorities, highest first.
var Priorities = []Priority{Interactive, Bulk}

func (p Priority) String() string {
	if p == Bulk {
		return "bulk"
	}
	return "interactive"
}

// Config configures a limiter. The zero value is usable.
type Config struct {
	MaxInFlight int // ceiling of the window; default 256
	Initial     int // window at start; default 16, at most MaxInFlight
	// RPM and TPM pace starts for a provider that sends no rate-limit headers: requests and
	// tokens a minute; 0 for none. Where headers come, both apply.
	RPM, TPM int
}

const (
	defaultMaxInFlight = 256
	defaultInitial     = 16
	decrease429        = 0.7 // the window after a 429, as a share of before
	decreaseSlow       = 0.9 // after a 5xx, a failed call or rising latency
	latencyRise        = 2.0 // smoothed latency this many times the best seen counts as rising
	littleHeadroom     = 1.2 // window above rate × latency, for latency's jitter
	maxPause           = time.Minute
	underRate          = 0.99        // of the provider's rate, for the clocks' and the network's jitter
	defaultPause       = time.Second // after a 429 that names no time to wait
)

// Limiter admits calls to one provider. Its methods are safe for concurrent use.
type Limiter struct {
	cfg      Config
	rpm, tpm *rate.Limiter // from Config; nil when not set

	mu        sync.Mutex
	limit     float64 // the window
	slowStart bool    // the window doubles each round trip until the first decrease
	inFlight  int
	queues    [priorities][]*waiter
	paused    time.Time // no start before this
	timer     *time.Timer
	timerAt   time.Time
	req, tok  bucket  // copies of the provider's buckets, from its headers
	started   uint64  // calls started so far; a permit's seq is the value after its start
	tokens    float64 // tokens of the calls started so far
	decreased uint64  // started when the window last shrank: answers to calls started before are old news
	ewma      time.Duration
	best      time.Duration // lowest ewma seen
	throttled uint64        // 429s
	observe   func(latency time.Duration, status int)
}

// Observe has f told of every call that ends with Done: its latency and HTTP status (0 when no
// answer came). f is called without the limiter's lock held; nil stops it.
func (l *Limiter) Observe(f func(latency time.Duration, status int)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.observe = f
}

// New returns a limiter for cfg.
func New(cfg Config) *Limiter {
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = defaultMaxInFlight
	}
	if cfg.Initial <= 0 {
		cfg.Initial = defaultInitial
	}
	cfg.Initial = min(cfg.Initial, cfg.MaxInFlight)
	l := &Limiter{cfg: cfg, limit: float64(cfg.Initial), slowStart: true}
	// A provider that sends no headers tells nothing of its burst: allow a tenth of a second's
	// worth, so that starts are spread evenly over the minute.
	if cfg.RPM > 0 {
		l.rpm = rate.NewLimiter(rate.Limit(float64(cfg.RPM)/60), max(1, cfg.RPM/600))
	}
	if cfg.TPM > 0 {
		l.tpm = rate.NewLimiter(rate.Limit(float64(cfg.TPM)/60), max(1, cfg.TPM/600))
	}
	return l
}

// waiter is one Acquire waiting its turn.
type waiter struct {
	tokens int
	ready  chan struct{} // closed when permit is set
	permit *Permit
}

// Permit is one admitted call. Exactly one of Done or Release must be called when it ends.
type Permit struct {
	l     *Limiter
	seq   uint64
	req   mark // the copies of the provider's buckets right after its start
	tok   mark
	start time.Time
	ended bool
}

// Acquire waits until a call of about tokens tokens (prompt and most of the completion; 0 if
// unknown) may start at priority p, and returns its permit, or ctx's error if ctx ends first.
func (l *Limiter) Acquire(ctx context.Context, p Priority, tokens int) (*Permit, error) {
	if p < 0 || p >= priorities {
		p = Bulk
	}
	w := &waiter{tokens: tokens, ready: make(chan struct{})}
	l.mu.Lock()
	l.queues[p] = append(l.queues[p], w)
	l.dispatchLocked(time.Now())
	l.mu.Unlock()
	select {
	case <-w.ready:
		return w.permit, nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	if w.permit != nil { // admitted meanwhile: give the slot back
		l.mu.Unlock()
		w.permit.Release()
		return nil, ctx.Err()
	}
	q := l.queues[p]
	for i, x := range q {
		if x == w {
			l.queues[p] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	l.dispatchLocked(time.Now()) // the head may have changed
	l.mu.Unlock()
	return nil, ctx.Err()
}

// dispatchLocked admits waiters, highest priority first, while the window, the pause and the
// buckets allow, and sets a timer for when the first one held back by time may start.
func (l *Limiter) dispatchLocked(now time.Time) {
	for {
		var w *waiter
		var p Priority
		for p = range priorities {
			if len(l.queues[p]) > 0 {
				w = l.queues[p][0]
				break
			}
		}
		if w == nil || l.inFlight >= max(1, int(l.limit)) {
			return // a call ending dispatches again
		}
		if d := l.delayLocked(now, w.tokens); d > 0 {
			l.wakeLocked(now, d)
			return
		}
		l.queues[p] = l.queues[p][1:]
		req, tok := l.req.take(now, 1, l.started+1), l.tok.take(now, float64(w.tokens), l.started+1)
		if l.rpm != nil {
			l.rpm.AllowN(now, 1)
		}
		if l.tpm != nil {
			l.tpm.AllowN(now, min(w.tokens, l.tpm.Burst()))
		}
		l.inFlight++
		l.started++
		w.permit = &Permit{l: l, seq: l.started, req: req, tok: tok, start: now}
		close(w.ready)
	}
}

// delayLocked is how long a call of tokens tokens must wait before it may start: 0 if now.
func (l *Limiter) delayLocked(now time.Time, tokens int) time.Duration {
	d := l.paused.Sub(now)
	d = max(d, l.req.delay(now, 1), l.tok.delay(now, float64(tokens)))
	if l.rpm != nil {
		d = max(d, rateDelay(l.rpm, now, 1))
	}
	if l.tpm != nil {
		d = max(d, rateDelay(l.tpm, now, min(tokens, l.tpm.Burst())))
	}
	return d
}

func rateDelay(r *rate.Limiter, now time.Time, n int) time.Duration {
	have := r.TokensAt(now)
	if have >= float64(n) {
		return 0
	}
	return time.Duration((float64(n) - have) / float64(r.Limit()) * float64(time.Second))
}

// wakeLocked makes sure dispatch runs again d from now.
func (l *Limiter) wakeLocked(now time.Time, d time.Duration) {
	d = max(d, time.Millisecond)
	at := now.Add(d)
	if l.timer != nil && !l.timerAt.After(at) {
		return
	}
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timerAt = at
	l.timer = time.AfterFunc(d, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.timer = nil
		l.dispatchLocked(time.Now())
	})
}

// Result is what came of a call.
type Result struct {
	Status  int           // HTTP status; 0 when no answer came (network error, timeout)
	Header  http.Header   // the answer's headers; nil when none
	Latency time.Duration // from start to the answer's headers
}

// Release ends a call that tells nothing of the provider (the caller gave up): the slot is freed
// and nothing is learned.
func (p *Permit) Release() {
	l := p.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if p.ended {
		return
	}
	p.ended = true
	l.inFlight--
	l.dispatchLocked(time.Now())
}

// Done ends a call with its result: the slot is freed, the provider's headers update the copy of
// its buckets and any pause, and the window grows or shrinks.
func (p *Permit) Done(r Result) {
	l := p.l
	l.mu.Lock()
	if p.ended {
		l.mu.Unlock()
		return
	}
	p.ended = true
	// Only a window that holds calls back has reason to grow: one the provider's pace keeps from
	// filling stays. While doubling, half full counts, as TCP's slow start does, because answers
	// come in bursts that empty it faster than paced starts fill it.
	full := float64(l.inFlight) >= l.limit-1
	if l.slowStart {
		full = float64(l.inFlight) >= l.limit/2
	}
	l.inFlight--
	now := time.Now()
	h := ParseHeaders(r.Header)
	if h.LimitRequests > 0 && h.RemainingRequests >= 0 {
		l.req.sync(now, float64(h.LimitRequests)/60*underRate, float64(h.RemainingRequests), p.req, l.started)
	}
	if h.LimitTokens > 0 && h.RemainingTokens >= 0 {
		l.tok.sync(now, float64(h.LimitTokens)/60*underRate, float64(h.RemainingTokens), p.tok, l.started)
	}
	fresh := p.seq > l.decreased // started after the last decrease: its news is new
	switch {
	case r.Status == http.StatusTooManyRequests:
		l.throttled++
		wait := h.RetryAfter
		if wait <= 0 {
			wait = defaultPause
		}
		l.paused = later(l.paused, now.Add(min(wait, maxPause)))
		if fresh {
			l.shrinkLocked(decrease429)
		}
	case r.Status == 0 || r.Status >= 500:
		if fresh {
			l.shrinkLocked(decreaseSlow)
		}
	case r.Status < 300:
		l.learnLatencyLocked(r.Latency)
		switch {
		case fresh && l.best > 0 && float64(l.ewma) > latencyRise*float64(l.best):
			l.shrinkLocked(decreaseSlow)
		case full:
			if l.slowStart {
				l.limit++
			} else {
				l.limit += 1 / l.limit
			}
		}
		// Little's law: as many in flight as the provider's rate times the latency, and not
		// many more, since the provider would refuse them.
		if perSecond := l.req.rate; perSecond > 0 && l.ewma > 0 {
			need := perSecond * l.ewma.Seconds()
			if fresh {
				l.limit = max(l.limit, need*littleHeadroom)
			}
			l.limit = min(l.limit, max(2*need, float64(l.cfg.Initial)))
		}
		l.limit = min(l.limit, float64(l.cfg.MaxInFlight))
	}
	l.dispatchLocked(now)
	observe := l.observe
	l.mu.Unlock()
	if observe != nil {
		observe(r.Latency, r.Status)
	}
}

func (l *Limiter) shrinkLocked(factor float64) {
	l.limit = max(1, l.limit*factor)
	l.slowStart = false
	l.decreased = l.started
}

func (l *Limiter) learnLatencyLocked(d time.Duration) {
	if d <= 0 {
		return
	}
	if l.ewma == 0 {
		l.ewma = d
	} else {
		l.ewma = time.Duration(0.9*float64(l.ewma) + 0.1*float64(d))
	}
	// The best latency creeps up towards the current one, so that a model that became slower
	// for good is, after a while, the new normal rather than a reason to shrink for ever.
	if l.best == 0 || l.ewma < l.best {
		l.best = l.ewma
	} else {
		l.best += (l.ewma - l.best) / 200
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// Stats is a snapshot of a limiter, for metrics.
type Stats struct {
	InFlight  int
	Waiting   [priorities]int // by Priority
	Limit     float64         // the window learned
	Throttled uint64          // 429s so far
	// ProviderRPM and ProviderTPM are the limits the provider's headers last gave, 0 if none.
	ProviderRPM, ProviderTPM int
}

// Stats returns the limiter's state now.
func (l *Limiter) Stats() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := Stats{InFlight: l.inFlight, Limit: l.limit, Throttled: l.throttled,
		ProviderRPM: int(math.Round(l.req.rate * 60 / underRate)), ProviderTPM: int(math.Round(l.tok.rate * 60 / underRate))}
	for p := range priorities {
		s.Waiting[p] = len(l.queues[p])
	}
	return s
}

// bucket is a copy of one of the provider's token buckets, kept by the same rules: it refills at
// the provider's rate up to its capacity, and every call we start takes from it. The provider
// counts a call when it arrives, which is about when we start it; its answer says what was left
// then, so comparing that with what the copy held right after the same start measures the copy's
// error (other clients on the same key, rounding), which is then corrected. An answer comes a
// latency later, when many calls have started since: they are already in the copy, which is why
// it is corrected by the error rather than set to the old remaining. The zero bucket knows
// nothing and holds nothing back.
type bucket struct {
	rate      float64 // a second; 0: unknown
	level     float64
	capacity  float64 // the most it was ever seen to hold
	at        time.Time
	born      uint64  // calls started when the copy began: answers to earlier ones are not compared
	corrected float64 // the corrections so far
	taken     float64 // by every call started, known rate or not
}

// mark is a bucket's state right after one call's start.
type mark struct {
	level, corrected, taken float64
	seq                     uint64 // the call's
}

func (b *bucket) levelAt(now time.Time) float64 {
	return min(b.capacity, b.level+now.Sub(b.at).Seconds()*b.rate)
}

// sync learns from an answer: the provider's rate, that remaining was left after the call that
// left m in the copy, and that started calls had been started by now.
func (b *bucket) sync(now time.Time, perSecond, remaining float64, m mark, started uint64) {
	b.capacity = max(b.capacity, remaining+1)
	if b.rate == 0 { // the first answer: the copy begins, less what was taken since
		b.rate, b.level, b.at, b.born = perSecond, remaining-(b.taken-m.taken), now, started
		return
	}
	b.level, b.at, b.rate = b.levelAt(now), now, perSecond
	if m.seq <= b.born {
		return
	}
	// The error the answer shows, less what was corrected since that call started. Calls
	// started together arrive in any order, so single errors are noisy both ways: one that says
	// the provider has less is taken at once, one that says more only a tenth at a time.
	e := remaining - m.level - (b.corrected - m.corrected)
	if e > 0 {
		e /= 10
	}
	b.level = min(b.capacity, b.level+e)
	b.corrected += e
}

// take takes n for a call starting now and returns the copy's state after.
func (b *bucket) take(now time.Time, n float64, seq uint64) mark {
	b.taken += n
	if b.rate == 0 {
		return mark{taken: b.taken, seq: seq}
	}
	b.level, b.at = b.levelAt(now)-n, now
	return mark{level: b.level, corrected: b.corrected, taken: b.taken, seq: seq}
}

// delay is how long until n may be taken. A margin of a twentieth of the bucket (at least one) is
// left in it: the copy is an estimate (calls sent in one order may arrive in another, and the
// provider counts on arrival), and a copy that runs the bucket to its last drop earns 429s for
// its small errors. At a steady pace the margin costs nothing: the rate is the refill's.
func (b *bucket) delay(now time.Time, n float64) time.Duration {
	if b.rate == 0 {
		return 0
	}
	margin := max(1, b.capacity/20)
	n = min(n+margin, b.capacity) // a call larger than the bucket waits for a full one, not for ever
	have := b.levelAt(now)
	if have >= n {
		return 0
	}
	return time.Duration((n - have) / b.rate * float64(time.Second))
}

// Headers are the rate-limit headers of one answer. A count is -1 and a duration 0 when absent.
type Headers struct {
	LimitRequests, RemainingRequests int
	ResetRequests                    time.Duration
	LimitTokens, RemainingTokens     int
	ResetTokens                      time.Duration
	RetryAfter                       time.Duration // retry-after-ms, else Retry-After
}

// ParseHeaders reads OpenAI's rate-limit headers: x-ratelimit-{limit,remaining,reset}-{requests,
// tokens} (resets as Go-style durations such as 1s, 6m0s, 20ms), retry-after-ms, and Retry-After
// in seconds or as an HTTP date. What is absent or malformed is left unknown.
func ParseHeaders(h http.Header) Headers {
	out := Headers{LimitRequests: -1, RemainingRequests: -1, LimitTokens: -1, RemainingTokens: -1}
	if h == nil {
		return out
	}
	count := func(k string) int {
		n, err := strconv.Atoi(strings.TrimSpace(h.Get(k)))
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	dur := func(k string) time.Duration {
		d, err := time.ParseDuration(strings.TrimSpace(h.Get(k)))
		if err != nil || d < 0 {
			return 0
		}
		return d
	}
	out.LimitRequests, out.RemainingRequests = count("x-ratelimit-limit-requests"), count("x-ratelimit-remaining-requests")
	out.LimitTokens, out.RemainingTokens = count("x-ratelimit-limit-tokens"), count("x-ratelimit-remaining-tokens")
	out.ResetRequests, out.ResetTokens = dur("x-ratelimit-reset-requests"), dur("x-ratelimit-reset-tokens")
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("retry-after-ms")), 64); err == nil && ms >= 0 && !math.IsInf(ms, 0) {
		out.RetryAfter = time.Duration(ms * float64(time.Millisecond))
	} else if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && !math.IsInf(s, 0) {
			out.RetryAfter = time.Duration(s * float64(time.Second))
		} else if t, err := http.ParseTime(v); err == nil {
			out.RetryAfter = max(0, time.Until(t))
		}
	}
	return out
}

type ctxKey int

const (
	priorityKey ctxKey = iota
	sinceKey
)

// WithPriority returns ctx carrying the priority of the work done with it. Without one, work is
// Interactive.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey, p)
}

// PriorityFrom returns the priority ctx carries, Interactive if none.
func PriorityFrom(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey).(Priority)
	return p
}

// WithSince returns ctx saying from when the work's deadline counts (the time a re-assessment was
// asked for, rather than the expense's submission).
func WithSince(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, sinceKey, t)
}

// SinceFrom returns the time WithSince set, and whether one was.
func SinceFrom(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(sinceKey).(time.Time)
	return t, ok && !t.IsZero()
}
