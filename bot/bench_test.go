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
	"syscall"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeslack"
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
			// As in production: Info logs, and timers looked for every 15 s.
			h.quiet, h.timerEvery = true, 15*time.Second
			// The fake pings as often as the bot expects (the harness's default): a fake that
			// pinged every 10 s made the bot, which expects one every 2 s, reconnect mid-run.
			// Each expense is a different employee's, as at month end: one person's many
			// expenses would be flagged by the finance controls as possible duplicates or one
			// purchase split, and their DMs paced at Slack's one a second per conversation.
			for i := range b.N {
				h.slack.AddUser(fakeslack.User{ID: benchUser(i), Name: strings.ToLower(benchUser(i)), RealName: "Employee " + benchUser(i)})
			}
			in := h.start()
			commitsBefore, xidBefore := h.commits(), h.nextXID()
			postedBefore := h.slack.Posted()
			cpuBefore, pgBefore := processCPU(), postgresCPU()
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
						ack, err := h.slack.Command(benchUser(int(i-1)), general, "/expense", strconv.FormatInt(i%70+1, 10)+" Coffee run")
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
			// Each expense posts one message, its DM; the count is cheap to poll, so the poll takes
			// no CPU from the bot. What the DMs say is checked after the clock stops.
			deadline := time.Now().Add(2 * time.Minute)
			for h.slack.Posted()-postedBefore < b.N {
				if time.Now().After(deadline) {
					b.Fatalf("%d of %d DMs after 2 minutes", dmCount(h, b.N), b.N)
				}
				time.Sleep(2 * time.Millisecond)
			}
			elapsed := time.Since(start)
			cpu, pgCPU := processCPU()-cpuBefore, postgresCPU()-pgBefore
			b.StopTimer()
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/expense")
			if engine == store.Postgres {
				b.ReportMetric(float64(pgCPU.Microseconds())/1000/float64(b.N), "pg-cpu-ms/expense")
			}
			if n := dms(h, b.N); n != b.N {
				b.Fatalf("%d DMs say approved automatically, want %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "expenses/s")
			if engine == store.Postgres {
				// Every transaction the database committed while the expenses went through,
				// the bot's and the harness's reads alike (PostgreSQL counts read-only ones too).
				// Backends report their counts to the statistics a little later: wait until the
				// count stops moving.
				after := h.commits()
				for range 20 {
					time.Sleep(500 * time.Millisecond)
					n := h.commits()
					if n == after {
						break
					}
					after = n
				}
				b.ReportMetric(float64(after-commitsBefore)/float64(b.N), "commits/expense")
				// Transaction ids are given only to transactions that write: the difference counts
				// the write transactions of the whole server (nothing else writes during the run;
				// the two readings take one id each).
				b.ReportMetric(float64(h.nextXID()-xidBefore-1)/float64(b.N), "write-txns/expense")
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

func benchUser(i int) string { return fmt.Sprintf("UB%05d", i) }

// dmCount counts the DMs the first n employees have.
func dmCount(h *harness, n int) int {
	total := 0
	for i := range n {
		total += h.slack.MessageCount(benchUser(i))
	}
	return total
}

// dms counts the DMs that say approved automatically.
func dms(h *harness, n int) int {
	count := 0
	for i := range n {
		for _, m := range h.slack.Messages(benchUser(i), benchUser(i)) {
			if strings.Contains(m.Text, "approved automatically") {
				count++
			}
		}
	}
	return count
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

// processCPU is the CPU time this process has used: the bot, and the fake Slack and fake AI
// that serve it.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// postgresCPU is the CPU time used so far by the PostgreSQL processes on this machine (0 where
// /proc cannot tell): the server the benchmark uses runs here.
func postgresCPU() time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var ticks int64
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ...: utime and stime are the 14th and 15th fields.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || !strings.HasPrefix(string(stat), d.Name()+" (postgres") {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += u + st
	}
	return time.Duration(ticks) * (time.Second / 100) // USER_HZ is 100 on Linux
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

// nextXID reads PostgreSQL's next transaction id (and so uses one).
func (h *harness) nextXID() int64 {
	if h.db.Dialect() != store.Postgres {
		return 0
	}
	db, err := sql.Open("postgres", h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow("SELECT txid_current()").Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}
