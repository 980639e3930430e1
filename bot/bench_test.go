package bot_test

import (
	"database/sql"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expensebot/expensebot/store"
)

// BenchmarkEndToEnd drives auto-approved submissions through the whole app on this machine: the
// fake Slack sends /expense envelopes over Socket Mode, the bot acks, stores, asks the fake AI
// (HTTP, no added latency), routes and DMs the submitter. One op is one expense, from envelope in
// to DM out. Run: go test ./bot -run '^$' -bench EndToEnd -benchtime 2000x
func BenchmarkEndToEnd(b *testing.B) {
	for _, engine := range []string{store.Postgres, store.SQLite} {
		b.Run(engine, func(b *testing.B) {
			h := newHarness(b, engine)
			// The fake pings as often as the bot expects (the harness's default): a fake that
			// pinged every 10 s made the bot, which expects one every 2 s, reconnect mid-run.
			// Every DM goes to one submitter; Slack would pace them at about one a second, which
			// would measure Slack, not the bot.
			h.postInterval = -1
			in := h.start()
			commitsBefore := h.commits()
			const senders = 50
			var next atomic.Int64
			var mu sync.Mutex
			var wireAcks []time.Duration
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						ack, err := h.slack.Command(emp, general, "/expense", strconv.FormatInt(i%70+1, 10)+" Coffee run")
						if err != nil {
							b.Error(err)
							return
						}
						mu.Lock()
						wireAcks = append(wireAcks, ack.Latency)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(time.Since(start).Seconds(), "s-to-ack-all")
			deadline := time.Now().Add(2 * time.Minute)
			for h.slack.MessageCount(emp) < b.N {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d DMs after 2 minutes", h.slack.MessageCount(emp), b.N)
				}
				time.Sleep(5 * time.Millisecond)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			if n := dms(h); n != b.N {
				b.Fatalf("%d DMs say approved automatically, want %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "expenses/s")
			if engine == store.Postgres {
				// Every transaction the database committed while the expenses went through,
				// the bot's and the harness's reads alike (PostgreSQL counts read-only ones too).
				b.ReportMetric(float64(h.commits()-commitsBefore)/float64(b.N), "commits/expense")
			}
			inBot := in.bot.AckLatencies()
			b.ReportMetric(percentile(inBot, 50), "ack-p50-µs")
			b.ReportMetric(percentile(inBot, 99), "ack-p99-µs")
			b.ReportMetric(percentile(wireAcks, 50), "wire-ack-p50-µs")
			b.ReportMetric(percentile(wireAcks, 99), "wire-ack-p99-µs")
			b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
		})
	}
}

func dms(h *harness) int {
	n := 0
	for _, m := range h.slack.Messages(emp, emp) {
		if strings.Contains(m.Text, "approved automatically") {
			n++
		}
	}
	return n
}

func percentile(d []time.Duration, p int) float64 {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[(len(s)-1)*p/100].Microseconds())
}

// peakRSSMB is the process's peak resident set (VmHWM): bot, fake Slack and fake AI together.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// commits reads how many transactions the test database has committed so far (PostgreSQL only).
func (h *harness) commits() int64 {
	if h.db.Dialect() != store.Postgres {
		return 0
	}
	db, err := sql.Open("postgres", h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	// The statistics collector reports with a delay; make it report now.
	db.Exec("SELECT pg_stat_force_next_flush()")
	var n int64
	if err := db.QueryRow("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}
