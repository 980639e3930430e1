package openai_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/pace"
	"github.com/expensebot/expensebot/policy/openai"
)

// throttled is how the workflow tells a deadline passed under the provider's rate limit from a
// failure, without importing this package.
func throttled(err error) bool {
	var t interface{ Throttled() bool }
	return errors.As(err, &t) && t.Throttled()
}

// Test429IsNotAFailure: a provider that answers 429 with retry-after-ms five times, then
// answers, gets six calls and the expense its advice, not a person.
func Test429IsNotAFailure(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	srv.Reply(fakeopenai.RateLimitedMS(30), fakeopenai.RateLimitedMS(30), fakeopenai.RateLimitedMS(30),
		fakeopenai.RateLimitedMS(30), fakeopenai.RateLimitedMS(30), fakeopenai.Answer("approve", 0.99))
	a := openai.NewAssessor(openai.Config{APIKey: key, BaseURL: srv.URL(), Model: "gpt-4o-mini", Timeout: 5 * time.Second, Tries: 1})
	e := lunch(4250, "Team lunch")
	e.CreatedAt = time.Now()
	got, err := a.Assess(context.Background(), e)
	if err != nil || !got.Usable() || got.Decision != "approve" {
		t.Fatalf("assessment = %+v, err %v: want the advice after the 429s", got, err)
	}
	if n := len(srv.Requests()); n != 6 {
		t.Errorf("%d requests, want 6 (five 429s retried, with Tries 1)", n)
	}
}

// TestDeadlinePassedWhileThrottled: a provider that never stops answering 429 sends the expense
// to a person once its deadline, counted from its submission, has passed, and the error says it
// was the rate limit, not a failure; a real error is not taken for one.
func TestDeadlinePassedWhileThrottled(t *testing.T) {
	srv := fakeopenai.New()
	defer srv.Close()
	srv.Reply(fakeopenai.RateLimitedMS(40))
	a := openai.NewAssessor(openai.Config{APIKey: key, BaseURL: srv.URL(), Model: "gpt-4o-mini", Timeout: 400 * time.Millisecond, Deadline: 10 * time.Minute})
	e := lunch(4250, "Team lunch")
	e.CreatedAt = time.Now().Add(-10 * time.Minute) // its deadline is now; one call's time is left
	start := time.Now()
	got, err := a.Assess(context.Background(), e)
	took := time.Since(start)
	if err == nil || got.Usable() {
		t.Fatalf("assessment = %+v, err %v: want a failure once the deadline passed", got, err)
	}
	if !throttled(err) || !strings.Contains(got.Error, "rate limiting") || !strings.Contains(got.Error, "10m0s of submission") {
		t.Errorf("error %v, assessment error %q: want it to say the rate limit outlasted the deadline", err, got.Error)
	}
	if took < 350*time.Millisecond || took > 3*time.Second {
		t.Errorf("gave up after %s, want about the 400ms left", took)
	}
	if n := len(srv.Requests()); n < 3 {
		t.Errorf("%d requests: the 429s were not retried until the deadline", n)
	}

	srv.Reply(fakeopenai.Error(400, "max_tokens is too large"))
	got, err = a.Assess(context.Background(), e)
	if err == nil || throttled(err) || !strings.Contains(got.Error, "answered 400") {
		t.Errorf("a 400: err %v, assessment error %q: want a real error, not the rate limit", err, got.Error)
	}
}

// TestReceiptReadsShareTheBudget: a receipt read and an assessment through one limiter, against
// a provider allowing one request a second: the second call waits for the provider's bucket, as
// the first answer's headers said, rather than earning a 429.
func TestReceiptReadsShareTheBudget(t *testing.T) {
	srv := fakeopenai.NewWith(fakeopenai.Limits{RPM: 60})
	defer srv.Close()
	srv.ReplyReceipts(fakeopenai.Receipt(fakeopenai.Facts{Readable: true, Merchant: "Taxi", Total: "12.00", Currency: "EUR", Confidence: 0.9}))
	lim := pace.New(pace.Config{})
	cfg := openai.Config{APIKey: key, BaseURL: srv.URL(), Model: "gpt-4o", Timeout: 5 * time.Second, Limiter: lim}
	r, a := openai.NewReader(cfg), openai.NewAssessor(cfg)
	if _, err := r.Read(context.Background(), []byte("\x89PNG\r\n\x1a\nx"), "image/png"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	e := lunch(4250, "Taxi")
	e.CreatedAt = time.Now()
	if _, err := a.Assess(pace.WithPriority(context.Background(), pace.Bulk), e); err != nil {
		t.Fatal(err)
	}
	if c := srv.Counts(); c.Throttled != 0 || c.Requests != 2 {
		t.Errorf("fake saw %+v: want 2 requests and no 429", c)
	}
	if waited := time.Since(start); waited < 800*time.Millisecond {
		t.Errorf("the assessment started %s after the read, want about 1s (the provider's pace)", waited)
	}
}

// TestLimitRisesTowardTheProvidersRate: over real HTTP, against a provider allowing 1,200
// requests a minute (20 a second) at 200 ms, the window grows from 2 to what that needs (about
// 4 in flight), with at most a few 429s.
func TestLimitRisesTowardTheProvidersRate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 3 s")
	}
	srv := fakeopenai.NewWith(fakeopenai.Limits{RPM: 1200, Latency: 200 * time.Millisecond})
	defer srv.Close()
	lim := pace.New(pace.Config{Initial: 2})
	a := openai.NewAssessor(openai.Config{APIKey: key, BaseURL: srv.URL(), Model: "gpt-4o-mini", Timeout: 5 * time.Second, Limiter: lim})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			for ctx.Err() == nil {
				e := lunch(4250, "Team lunch")
				e.CreatedAt = time.Now()
				if got, err := a.Assess(ctx, e); err == nil && got.Usable() {
					ok.Add(1)
				}
			}
		})
	}
	wg.Wait()
	s, c := lim.Stats(), srv.Counts()
	if s.Limit < 4 || s.ProviderRPM != 1200 {
		t.Errorf("window %.1f, provider's limit learned %d: want at least 4 and 1200", s.Limit, s.ProviderRPM)
	}
	if rate := float64(ok.Load()) / 3; rate < 12 || rate > 27 {
		t.Errorf("%.1f assessments a second, want close to the provider's 20 (and its first second's burst)", rate)
	}
	if c.Throttled > 5 {
		t.Errorf("%d 429s with the provider's headers to go by", c.Throttled)
	}
}

// BenchmarkPaced runs b.N assessments (use -benchtime 2000x) through one limiter against the fake
// provider with a 6,000-requests-a-minute limit, enforced per second as OpenAI does: with its
// headers at 1 s and at 3 s latency (the latter also with 384 allowed in flight), and without
// headers, paced by RPM or by AIMD alone. 300 callers (or 32 more than allowed in flight), as a
// workflow with that many workers. Reports assessments/s (from first to last, the ramp up and
// the last latency included), steady-assessments/s (between the first and the third quarter
// done), the provider's 429s and the assessments that failed (which would go to a person).
//
// Run: go test ./policy/openai -run '^$' -bench Paced -benchtime 2000x
func BenchmarkPaced(b *testing.B) {
	for _, c := range []struct {
		name    string
		latency time.Duration
		quiet   bool
		rpm     int // the limiter's, for a provider that sends no headers
		max     int // the limiter's MaxInFlight; 0: the default, 256
	}{
		{"headers/1s", time.Second, false, 0, 0},
		{"headers/3s", 3 * time.Second, false, 0, 0},
		{"headers/3s/max-384", 3 * time.Second, false, 0, 384},
		{"no-headers+AI_RPM/1s", time.Second, true, 6000, 0},
		{"no-headers/1s", time.Second, true, 0, 0},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := fakeopenai.NewWith(fakeopenai.Limits{RPM: 6000, Latency: c.latency, NoHeaders: c.quiet})
			defer srv.Close()
			lim := pace.New(pace.Config{RPM: c.rpm, MaxInFlight: c.max})
			a := openai.NewAssessor(openai.Config{APIKey: key, BaseURL: srv.URL(), Model: "gpt-4o-mini", Timeout: 30 * time.Second, Limiter: lim})
			jobs := make(chan int)
			var failed, finished atomic.Int64
			var quarter, threeQuarters time.Time // when a quarter and three quarters were done
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for range max(300, c.max+32) {
				wg.Go(func() {
					for range jobs {
						e := lunch(4250, "Team lunch")
						e.CreatedAt = time.Now()
						if got, err := a.Assess(context.Background(), e); err != nil || !got.Usable() {
							failed.Add(1)
						}
						switch finished.Add(1) {
						case int64(b.N / 4):
							quarter = time.Now()
						case int64(3 * b.N / 4):
							threeQuarters = time.Now()
						}
					}
				})
			}
			for i := range b.N {
				jobs <- i
			}
			close(jobs)
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			cnt := srv.Counts()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "assessments/s")
			if b.N >= 4 {
				b.ReportMetric(float64(b.N/2)/threeQuarters.Sub(quarter).Seconds(), "steady-assessments/s")
			}
			b.ReportMetric(float64(cnt.Throttled), "429s")
			b.ReportMetric(float64(failed.Load()), "failed")
			b.ReportMetric(float64(cnt.MaxInFlight), "max-in-flight")
			b.ReportMetric(lim.Stats().Limit, "window")
			if failed.Load() > 0 {
				b.Log(fmt.Sprintf("%d assessments failed", failed.Load()))
			}
		})
	}
}
