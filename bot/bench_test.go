package bot_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// BenchmarkEndToEnd drives auto-approved submissions through the real program, run as its own
// process as it is deployed, so that its CPU and memory are its own: the fake Slack (this
// process) sends /expense envelopes over Socket Mode from 50 senders at once; the bot acks once
// the expense is committed, asks the fake AI (HTTP, no added latency), routes and DMs the
// submitter. One op is one expense, from envelope in to DM out. Each expense is a different
// employee's, as at month end: one person's many expenses would be flagged by the finance
// controls as possible duplicates, and their DMs paced at Slack's one a second per conversation.
//
// flat-out: each sender sends its next envelope as soon as the last is acked, so the machine is
// saturated and ack latency is mostly queueing. paced: the senders together send 500 envelopes a
// second, evenly, as a busy month end might, and the ack latency is the bot's own.
//
// Run: go test ./bot -run '^$' -bench EndToEnd -benchtime 2000x
func BenchmarkEndToEnd(b *testing.B) {
	for _, engine := range []string{store.Postgres, store.SQLite} {
		for _, load := range []struct {
			name string
			rate int // envelopes a second from all senders together; 0: as fast as acked
		}{{"flat-out", 0}, {"paced-500", 500}} {
			b.Run(engine+"/"+load.name, func(b *testing.B) { benchProgram(b, engine, load.rate) })
		}
	}
}

func benchProgram(b *testing.B, engine string, rate int) {
	sl, err := fakeslack.New()
	if err != nil {
		b.Fatal(err)
	}
	defer sl.Close()
	sl.AddChannel(approvals, "expense-approvals", fakeslack.BotUser, rev1)
	sl.AddChannel(general, "general", fakeslack.BotUser)
	for i := range b.N {
		sl.AddUser(fakeslack.User{ID: benchUser(i), Name: strings.ToLower(benchUser(i)), RealName: "Employee " + benchUser(i)})
	}
	ai := fakeopenai.New()
	defer ai.Close()
	h := &harness{t: b, slack: sl, url: storetest.URL(b, engine)}
	if h.db, err = store.Open(context.Background(), h.url); err != nil {
		b.Fatal(err)
	}
	defer h.db.Close()
	addr := freeAddr(b)
	cmd := exec.Command(program(b))
	cmd.Env = []string{"SLACK_APP_TOKEN=" + fakeslack.AppToken, "SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_API_URL=" + sl.APIURL(),
		"DATABASE_URL=" + h.url, "OPENAI_API_KEY=sk-test-key", "OPENAI_BASE_URL=" + ai.URL(), "OPENAI_MODEL=gpt-4o-mini",
		"EXPENSEBOT_APPROVALS_CHANNEL=" + approvals, "EXPENSEBOT_REVIEWERS=" + rev1, "EXPENSEBOT_HTTP_ADDR=" + addr, "EXPENSEBOT_API_TOKENS=bench=tok-bench-0123456789abcdef",
		// No spot checks, as in the in-process benchmark: each expense posts exactly its DM.
		"EXPENSEBOT_SPOT_CHECK_RATE=0", "EXPENSEBOT_LOG_FORMAT=json", "HOME=" + b.TempDir()}
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if b.Failed() {
			b.Log(logs.String())
		}
	}()
	if err := sl.WaitConnected(1, 20*time.Second); err != nil {
		b.Fatal(err)
	}
	pid := cmd.Process.Pid
	measure(b, h, pid, "bot-cpu-ms/expense", rate)
	p50, p99 := ackPercentiles(b, addr)
	b.ReportMetric(p50, "ack-p50-le-µs")
	b.ReportMetric(p99, "ack-p99-le-µs")
	b.ReportMetric(peakRSSMBOf(pid), "bot-peak-RSS-MB")
}

// measure sends b.N expenses through h.slack at rate (see send), waits for their DMs and reports
// what the run took: expenses a second, process pid's CPU per expense (as cpuMetric), and on
// PostgreSQL its CPU and transactions per expense; and the ack latencies the fake Slack saw.
func measure(b *testing.B, h *harness, pid int, cpuMetric string, rate int) {
	sl := h.slack
	postedBefore := sl.Posted()
	commitsBefore, xidBefore := h.commits(), h.nextXID()
	cpuBefore, pgBefore := processCPUOf(pid), postgresCPU()
	b.ResetTimer()
	start := time.Now()
	wire := send(b, sl, b.N, rate)
	b.ReportMetric(time.Since(start).Seconds(), "s-to-ack-all")
	waitPosted(b, sl, postedBefore, b.N)
	elapsed := time.Since(start)
	cpu, pgCPU := processCPUOf(pid)-cpuBefore, postgresCPU()-pgBefore
	b.StopTimer()
	if n := dmsTo(sl, b.N); n != b.N {
		b.Fatalf("%d DMs say approved automatically, want %d", n, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "expenses/s")
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), cpuMetric)
	if h.db.Dialect() == store.Postgres {
		b.ReportMetric(float64(pgCPU.Microseconds())/1000/float64(b.N), "pg-cpu-ms/expense")
		commits, writes := h.transactionsSince(commitsBefore, xidBefore)
		b.ReportMetric(commits/float64(b.N), "commits/expense")
		b.ReportMetric(writes/float64(b.N), "write-txns/expense")
	}
	b.ReportMetric(percentile(wire, 50), "wire-ack-p50-µs")
	b.ReportMetric(percentile(wire, 99), "wire-ack-p99-µs")
}

// BenchmarkEndToEndInProcess is BenchmarkEndToEnd with the bot in the benchmark's own process,
// for profiles (-cpuprofile, -memprofile); its CPU and memory figures include the fake Slack and
// fake AI. Run: go test ./bot -run '^$' -bench EndToEndInProcess -benchtime 4000x -cpuprofile cpu.out
func BenchmarkEndToEndInProcess(b *testing.B) {
	for _, engine := range []string{store.Postgres, store.SQLite} {
		b.Run(engine, func(b *testing.B) {
			h := newHarness(b, engine)
			// As in production: Info logs, and timers looked for every 15 s.
			h.quiet, h.timerEvery = true, 15*time.Second
			for i := range b.N {
				h.slack.AddUser(fakeslack.User{ID: benchUser(i), Name: strings.ToLower(benchUser(i)), RealName: "Employee " + benchUser(i)})
			}
			in := h.start()
			measure(b, h, os.Getpid(), "cpu-ms/expense", 0)
			inBot := in.bot.AckLatencies()
			b.ReportMetric(percentile(inBot, 50), "ack-p50-µs")
			b.ReportMetric(percentile(inBot, 99), "ack-p99-µs")
			b.ReportMetric(peakRSSMBOf(os.Getpid()), "peak-RSS-MB")
		})
	}
}

// send submits n expenses, one per employee, from 50 senders at once, and returns the ack
// latencies the fake Slack saw. With rate 0 each sender sends its next envelope when the last is
// acked (a closed loop); else the senders together send rate envelopes a second, envelope i at
// i/rate seconds from the start (an open loop: a slow ack does not slow the arrivals).
func send(b *testing.B, sl *fakeslack.Server, n, rate int) []time.Duration {
	const senders = 50
	var next atomic.Int64
	var mu sync.Mutex
	var wire []time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	for range senders {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if rate > 0 {
					time.Sleep(time.Until(start.Add(time.Duration(i-1) * time.Second / time.Duration(rate))))
				}
				ack, err := sl.Command(benchUser(int(i-1)), general, "/expense", strconv.FormatInt(i%70+1, 10)+" Coffee run")
				if err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				wire = append(wire, ack.Latency)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return wire
}

// waitPosted waits until n messages more than before have been posted: each expense posts one,
// its DM. The count is cheap to poll, so the poll takes no CPU from the bot; what the DMs say is
// checked after the clock stops.
func waitPosted(b *testing.B, sl *fakeslack.Server, before, n int) {
	deadline := time.Now().Add(2 * time.Minute)
	for sl.Posted()-before < n {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d DMs after 2 minutes", sl.Posted()-before, n)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// transactionsSince reads, on PostgreSQL, how many transactions the database committed since the
// readings given (the bot's and the harness's reads alike: PostgreSQL counts read-only ones too),
// and how many of them wrote. Backends report their counts a little later: it waits until the
// count stops moving.
func (h *harness) transactionsSince(commitsBefore, xidBefore int64) (commits, writes float64) {
	after := h.commits()
	for range 20 {
		time.Sleep(500 * time.Millisecond)
		n := h.commits()
		if n == after {
			break
		}
		after = n
	}
	// Transaction ids are given only to transactions that write: the difference counts the write
	// transactions of the whole server (nothing else writes during the run; the two readings take
	// one id each).
	return float64(after - commitsBefore), float64(h.nextXID() - xidBefore - 1)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// program builds the real program once per test binary and returns its path.
func program(b *testing.B) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "expensebot-bench-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "expensebot")
		if out, err := exec.Command("go", "build", "-o", binPath, "../cmd/expensebot").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

// freeAddr returns a local address nothing listens on.
func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// ackPercentiles reads the bot's ack latency histogram from its /metrics and returns, for the
// 50th and 99th percentiles, the upper bound of the bucket they fall in, in µs.
func ackPercentiles(b *testing.B, addr string) (p50, p99 float64) {
	// The metrics sit on the API's listener, so they need a client's token.
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer tok-bench-0123456789abcdef")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	type bucket struct{ le, count float64 }
	var buckets []bucket
	for _, line := range strings.Split(string(body), "\n") {
		rest, ok := strings.CutPrefix(line, `expensebot_ack_seconds_bucket{le="`)
		if !ok {
			continue
		}
		le, count, _ := strings.Cut(rest, `"} `)
		l, _ := strconv.ParseFloat(le, 64)
		c, _ := strconv.ParseFloat(count, 64)
		buckets = append(buckets, bucket{l, c})
	}
	if len(buckets) == 0 {
		b.Fatal("no expensebot_ack_seconds in /metrics")
	}
	total := buckets[len(buckets)-1].count
	at := func(p float64) float64 {
		for _, bk := range buckets {
			if bk.count >= p*total {
				return bk.le * 1e6
			}
		}
		return 0
	}
	return at(0.5), at(0.99)
}

func benchUser(i int) string { return fmt.Sprintf("UB%05d", i) }

// dmsTo counts the DMs to the first n employees that say approved automatically.
func dmsTo(sl *fakeslack.Server, n int) int {
	count := 0
	for i := range n {
		for _, m := range sl.Messages(benchUser(i), benchUser(i)) {
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

// peakRSSMBOf is process pid's peak resident set (VmHWM), in MiB.
func peakRSSMBOf(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
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

// processCPUOf is the CPU time process pid has used so far.
func processCPUOf(pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	return statCPU(stat)
}

// statCPU reads utime and stime, the 14th and 15th fields, from a /proc/PID/stat line.
func statCPU(stat []byte) time.Duration {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * (time.Second / 100) // USER_HZ is 100 on Linux
}

// postgresCPU is the CPU time used so far by the PostgreSQL processes on this machine (0 where
// /proc cannot tell): the server the benchmark uses runs here.
func postgresCPU() time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, d := range dirs {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err == nil && strings.HasPrefix(string(stat), d.Name()+" (postgres") {
			total += statCPU(stat)
		}
	}
	return total
}

// commits reads how many transactions the test database has committed so far (PostgreSQL only).
func (h *harness) commits() int64 {
	// The statistics collector reports with a delay; make it report now.
	return h.pgNumber("SELECT pg_stat_force_next_flush()", "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
}

// nextXID reads PostgreSQL's next transaction id (and so uses one).
func (h *harness) nextXID() int64 { return h.pgNumber("SELECT txid_current()") }

// pgNumber runs queries on a connection of its own and returns the number the last one reads; 0
// on SQLite.
func (h *harness) pgNumber(queries ...string) int64 {
	if h.db.Dialect() != store.Postgres {
		return 0
	}
	db, err := sql.Open("postgres", h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	defer db.Close()
	for _, q := range queries[:len(queries)-1] {
		db.Exec(q)
	}
	var n int64
	if err := db.QueryRow(queries[len(queries)-1]).Scan(&n); err != nil {
		h.t.Fatal(err)
	}
	return n
}
