package pace_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/expensebot/expensebot/pace"
)

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		name string
		h    map[string]string
		want pace.Headers
	}{
		{"none", nil, pace.Headers{LimitRequests: -1, RemainingRequests: -1, LimitTokens: -1, RemainingTokens: -1}},
		{"OpenAI's answer", map[string]string{
			"x-ratelimit-limit-requests": "6000", "x-ratelimit-remaining-requests": "5999", "x-ratelimit-reset-requests": "20ms",
			"x-ratelimit-limit-tokens": "150000", "x-ratelimit-remaining-tokens": "149250", "x-ratelimit-reset-tokens": "6m0s"},
			pace.Headers{LimitRequests: 6000, RemainingRequests: 5999, ResetRequests: 20 * time.Millisecond,
				LimitTokens: 150000, RemainingTokens: 149250, ResetTokens: 6 * time.Minute}},
		{"a 429 with retry-after-ms", map[string]string{"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1s", "retry-after-ms": "1500", "Retry-After": "2"},
			pace.Headers{LimitRequests: -1, RemainingRequests: 0, ResetRequests: time.Second, LimitTokens: -1, RemainingTokens: -1, RetryAfter: 1500 * time.Millisecond}},
		{"retry-after-ms with a fraction", map[string]string{"retry-after-ms": "20.5"},
			pace.Headers{LimitRequests: -1, RemainingRequests: -1, LimitTokens: -1, RemainingTokens: -1, RetryAfter: 20500 * time.Microsecond}},
		{"Retry-After in seconds only", map[string]string{"Retry-After": "3"},
			pace.Headers{LimitRequests: -1, RemainingRequests: -1, LimitTokens: -1, RemainingTokens: -1, RetryAfter: 3 * time.Second}},
		{"reset with minutes and fractions", map[string]string{"x-ratelimit-reset-tokens": "1m10.296s", "x-ratelimit-reset-requests": "0s"},
			pace.Headers{LimitRequests: -1, RemainingRequests: -1, LimitTokens: -1, RemainingTokens: -1, ResetTokens: 70296 * time.Millisecond}},
		{"malformed values are unknown", map[string]string{"x-ratelimit-limit-requests": "lots", "x-ratelimit-remaining-requests": "-3",
			"x-ratelimit-reset-requests": "soon", "retry-after-ms": "NaN", "Retry-After": "tomorrow"},
			pace.Headers{LimitRequests: -1, RemainingRequests: -1, LimitTokens: -1, RemainingTokens: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h http.Header
			if tt.h != nil {
				h = http.Header{}
				for k, v := range tt.h {
					h.Set(k, v)
				}
			}
			if got := pace.ParseHeaders(h); got != tt.want {
				t.Errorf("ParseHeaders = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseHeadersRetryAfterDate(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", time.Now().Add(90*time.Second).UTC().Format(http.TimeFormat))
	if got := pace.ParseHeaders(h).RetryAfter; got < 85*time.Second || got > 90*time.Second {
		t.Errorf("RetryAfter = %s, want about 90s", got)
	}
}

// TestInteractiveFirst: with the one slot taken and bulk work queued, a person's call that
// arrives later is admitted before any of the queued bulk.
func TestInteractiveFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := pace.New(pace.Config{MaxInFlight: 1, Initial: 1})
		first, err := l.Acquire(t.Context(), pace.Bulk, 0)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []string
		var wg sync.WaitGroup
		enqueue := func(name string, p pace.Priority) {
			wg.Go(func() {
				permit, err := l.Acquire(t.Context(), p, 0)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, name)
				mu.Unlock()
				time.Sleep(time.Second)
				permit.Done(pace.Result{Status: 200, Latency: time.Second})
			})
			synctest.Wait() // queued before the next
		}
		enqueue("bulk-1", pace.Bulk)
		enqueue("bulk-2", pace.Bulk)
		enqueue("person", pace.Interactive)
		if s := l.Stats(); s.Waiting[pace.Interactive] != 1 || s.Waiting[pace.Bulk] != 2 || s.InFlight != 1 {
			t.Fatalf("stats while queued = %+v", s)
		}
		first.Done(pace.Result{Status: 200, Latency: time.Second})
		wg.Wait()
		if len(order) != 3 || order[0] != "person" || order[1] != "bulk-1" || order[2] != "bulk-2" {
			t.Errorf("admitted in order %v, want person first, then the bulk in turn", order)
		}
	})
}

// TestAcquireGivesUpWithItsContext: a waiter whose context ends leaves the queue, and the one
// behind it is admitted in its place.
func TestAcquireGivesUpWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := pace.New(pace.Config{MaxInFlight: 1, Initial: 1})
		held, _ := l.Acquire(t.Context(), pace.Interactive, 0)
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := l.Acquire(ctx, pace.Interactive, 0); err == nil {
			t.Fatal("admitted while the only slot was held")
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			p, err := l.Acquire(t.Context(), pace.Bulk, 0)
			if err != nil {
				t.Error(err)
				return
			}
			p.Release()
		}()
		synctest.Wait()
		held.Release()
		<-done
		if s := l.Stats(); s.InFlight != 0 || s.Waiting != [2]int{} {
			t.Errorf("stats after = %+v", s)
		}
	})
}

// provider simulates a model provider on synctest's clock: a bucket of burst requests refilled at
// rpm a minute, a fixed latency, and OpenAI's headers unless quiet.
type provider struct {
	mu         sync.Mutex
	rpm, burst float64
	level      float64
	at         time.Time
	latency    time.Duration
	quiet      bool
	ok, n429   int
	perSecond  map[int64]int // starts admitted, by second since the beginning
	begin      time.Time
	inFlight   int
	maxFlight  int
}

func newProvider(rpm int, latency time.Duration, quiet bool) *provider {
	return &provider{rpm: float64(rpm), burst: float64(rpm) / 60, level: float64(rpm) / 60, at: time.Now(), begin: time.Now(),
		latency: latency, quiet: quiet, perSecond: map[int64]int{}}
}

// call runs one call through l the way the assessor's transport does.
func (p *provider) call(ctx context.Context, l *pace.Limiter, prio pace.Priority) (status int, err error) {
	permit, err := l.Acquire(ctx, prio, 0)
	if err != nil {
		return 0, err
	}
	p.mu.Lock()
	now := time.Now()
	p.level = min(p.burst, p.level+now.Sub(p.at).Seconds()*p.rpm/60)
	p.at = now
	h := http.Header{}
	status = 200
	if p.level < 1 {
		status = 429
		p.n429++
		if !p.quiet {
			h.Set("retry-after-ms", strconv.Itoa(int((1-p.level)/(p.rpm/60)*1000)+1))
		}
	} else {
		p.level--
		p.ok++
		p.perSecond[int64(now.Sub(p.begin)/time.Second)]++
		p.inFlight++
		p.maxFlight = max(p.maxFlight, p.inFlight)
	}
	if !p.quiet {
		h.Set("x-ratelimit-limit-requests", strconv.Itoa(int(p.rpm)))
		h.Set("x-ratelimit-remaining-requests", strconv.Itoa(int(p.level)))
		h.Set("x-ratelimit-reset-requests", time.Duration((p.burst-p.level)/(p.rpm/60)*float64(time.Second)).String())
	}
	p.mu.Unlock()
	if status == 200 {
		time.Sleep(p.latency)
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}
	permit.Done(pace.Result{Status: status, Header: h, Latency: time.Since(now)})
	return status, nil
}

// load runs callers goroutines, each calling in a loop until ctx ends, retrying its 429s.
func load(ctx context.Context, p *provider, l *pace.Limiter, callers int) {
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for ctx.Err() == nil {
				p.call(ctx, l, pace.Bulk)
			}
		})
	}
	wg.Wait()
}

// TestWindowFollowsTheProvider: against a provider of 6,000 requests a minute answering in 1 s,
// the window grows from its start to what the provider allows (about 100 in flight) and the
// calls run at its rate; when the provider's limit halves, the 429s shrink the window.
func TestWindowFollowsTheProvider(t *testing.T) {
	for _, quiet := range []bool{false, true} {
		name := "headers"
		if quiet {
			name = "no headers"
		}
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p := newProvider(6000, time.Second, quiet)
				l := pace.New(pace.Config{MaxInFlight: 256, Initial: 8})
				ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
				defer cancel()
				load(ctx, p, l, 300)
				// Without headers, AIMD alone saws between 0.7 and 1 of the provider's
				// rate: 80 % is what it earns; with them, 90 %.
				least := 90.0
				if quiet {
					least = 80
				}
				grown := l.Stats().Limit
				if grown < least*0.85 {
					t.Errorf("window after 30 s = %.0f, want near 100 (the provider's rate × latency)", grown)
				}
				var late int
				for s := int64(10); s < 30; s++ {
					late += p.perSecond[s]
				}
				if rate := float64(late) / 20; rate < least || rate > 101 {
					t.Errorf("%.0f calls a second once grown, want %.0f to 100", rate, least)
				}
				if !quiet && p.n429 > 10 {
					t.Errorf("%d 429s with the provider's headers to go by", p.n429)
				}
				t.Logf("window %.0f, %d ok, %d 429s, %d in flight at most", grown, p.ok, p.n429, p.maxFlight)

				p.mu.Lock()
				p.rpm, p.burst = 3000, 50
				p.mu.Unlock()
				before := p.n429
				ctx, cancel = context.WithTimeout(t.Context(), 20*time.Second)
				defer cancel()
				load(ctx, p, l, 300)
				if p.n429 == before {
					t.Fatal("no 429 after the provider's limit halved")
				}
				if shrunk := l.Stats().Limit; shrunk > 0.8*grown {
					t.Errorf("window %.0f after the 429s, was %.0f: want it smaller", shrunk, grown)
				}
			})
		})
	}
}

// TestRetryAfterPausesEveryStart: after a 429 saying retry-after-ms 1500, no call starts for
// 1.5 s, whatever its priority.
func TestRetryAfterPausesEveryStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := pace.New(pace.Config{})
		p, _ := l.Acquire(t.Context(), pace.Bulk, 0)
		h := http.Header{}
		h.Set("retry-after-ms", "1500")
		start := time.Now()
		p.Done(pace.Result{Status: 429, Header: h, Latency: 10 * time.Millisecond})
		next, err := l.Acquire(t.Context(), pace.Interactive, 0)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 1500*time.Millisecond {
			t.Errorf("next call started after %s, want 1.5s", waited)
		}
		next.Release()
		if s := l.Stats(); s.Throttled != 1 || s.Limit >= 16 {
			t.Errorf("stats = %+v, want one 429 counted and the window shrunk from 16", s)
		}
	})
}

// TestRPMKeepsAHeaderlessProviderUnderIt: with RPM 600 and TPM set, and a provider that says
// nothing, starts stay within 10 a second (plus the small burst) over any second.
func TestRPMKeepsAHeaderlessProviderUnderIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := pace.New(pace.Config{RPM: 600, TPM: 600_000})
		var mu sync.Mutex
		starts := map[int64]int{}
		begin := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		for range 50 {
			wg.Go(func() {
				for {
					p, err := l.Acquire(ctx, pace.Bulk, 700)
					if err != nil {
						return
					}
					mu.Lock()
					starts[int64(time.Since(begin)/time.Second)]++
					mu.Unlock()
					time.Sleep(200 * time.Millisecond)
					p.Done(pace.Result{Status: 200, Latency: 200 * time.Millisecond})
				}
			})
		}
		wg.Wait()
		total := 0
		for s, n := range starts {
			total += n
			if n > 11 {
				t.Errorf("second %d: %d starts, want at most 10 (and the burst of 1)", s, n)
			}
		}
		if total < 190 {
			t.Errorf("%d starts in 20 s, want about 200: the limit should be used", total)
		}
	})
}
