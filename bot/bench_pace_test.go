package bot_test

import (
	"context"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/internal/fakeopenai"
	"github.com/expensebot/expensebot/internal/fakeslack"
	"github.com/expensebot/expensebot/store"
	"github.com/expensebot/expensebot/store/storetest"
)

// BenchmarkEndToEndPaced is BenchmarkEndToEnd against a model provider that takes its time and
// rations its requests, as OpenAI does: the fake OpenAI answers after a fixed latency, allows
// 6,000 requests a minute (a bucket of 100 refilled at 100 a second), and sends OpenAI's
// x-ratelimit-* headers and 429 body, or, for a self-hosted model or a gateway, no headers. The
// real program, on PostgreSQL, gets b.N auto-approvable /expense envelopes from 50 senders as fast
// as it acks them; one op is one expense, from envelope in to routed. It reports expenses a
// second, the provider's 429s, the expenses sent to a person (none should be: the model approves
// them all, and a 429 is waited out), and the program's peak RSS.
//
// Run: go test ./bot -run '^$' -bench EndToEndPaced -benchtime 2000x -timeout 30m
func BenchmarkEndToEndPaced(b *testing.B) {
	for _, c := range []struct {
		name    string
		latency time.Duration
		headers bool
		env     []string
	}{
		{"headers/1s", time.Second, true, nil},
		{"headers/3s", 3 * time.Second, true, nil},
		{"headers/3s/max-in-flight-384", 3 * time.Second, true, []string{"EXPENSEBOT_AI_MAX_IN_FLIGHT=384"}},
		{"no-headers/1s/ai-rpm-6000", time.Second, false, []string{"EXPENSEBOT_AI_RPM=6000"}},
		{"no-headers/1s/nothing-set", time.Second, false, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			ai := fakeopenai.NewWith(fakeopenai.Limits{Latency: c.latency, RPM: 6000, NoHeaders: !c.headers})
			defer ai.Close()
			benchPaced(b, ai, c.env)
		})
	}
}

func benchPaced(b *testing.B, ai *fakeopenai.Server, env []string) {
	h, cmd, _ := startPaced(b, ai, b.N, env)
	sl := h.slack
	before := ai.Counts()
	b.ResetTimer()
	start := time.Now()
	send(b, sl, b.N, 0)
	b.ReportMetric(time.Since(start).Seconds(), "s-to-ack-all")
	totals := waitRouted(b, h, b.N, 10*time.Minute)
	elapsed := time.Since(start)
	b.StopTimer()
	after := ai.Counts()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "expenses/s")
	b.ReportMetric(float64(after.Throttled-before.Throttled), "429s")
	b.ReportMetric(float64(totals[expensebot.StatusPendingReview]), "to-a-person")
	b.ReportMetric(float64(after.MaxInFlight), "most-in-flight")
	b.ReportMetric(peakRSSMBOf(cmd.Process.Pid), "bot-peak-RSS-MB")
	// Nothing lost, nothing told twice: each auto-approved expense's submitter got exactly one DM
	// saying so.
	if n := dmsTo(sl, b.N); n != totals[expensebot.StatusAutoApproved] {
		b.Errorf("%d DMs say approved automatically, for %d expenses approved automatically", n, totals[expensebot.StatusAutoApproved])
	}
}

// startPaced starts the real program on PostgreSQL against ai, with users employees in the fake
// Slack, and stops it when b ends; it returns the address of its approval API.
func startPaced(b *testing.B, ai *fakeopenai.Server, users int, env []string) (*harness, *exec.Cmd, string) {
	sl, err := fakeslack.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sl.Close() })
	sl.AddChannel(approvals, "expense-approvals", fakeslack.BotUser, rev1)
	sl.AddChannel(general, "general", fakeslack.BotUser)
	for i := range users {
		sl.AddUser(fakeslack.User{ID: benchUser(i), Name: strings.ToLower(benchUser(i)), RealName: "Employee " + benchUser(i)})
	}
	h := &harness{t: b, slack: sl, url: storetest.URL(b, store.Postgres)}
	if h.db, err = store.Open(context.Background(), h.url); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.db.Close() })
	addr := freeAddr(b)
	cmd := exec.Command(program(b))
	cmd.Env = append([]string{"SLACK_APP_TOKEN=" + fakeslack.AppToken, "SLACK_BOT_TOKEN=" + fakeslack.BotToken, "SLACK_API_URL=" + sl.APIURL(),
		"DATABASE_URL=" + h.url, "OPENAI_API_KEY=sk-test-key", "OPENAI_BASE_URL=" + ai.URL(), "OPENAI_MODEL=gpt-4o-mini",
		"EXPENSEBOT_APPROVALS_CHANNEL=" + approvals, "EXPENSEBOT_REVIEWERS=" + rev1, "EXPENSEBOT_HTTP_ADDR=" + addr,
		"EXPENSEBOT_SPOT_CHECK_RATE=0", "EXPENSEBOT_LOG_FORMAT=json", "HOME=" + b.TempDir()}, env...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = io.Discard, &logs
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if b.Failed() {
			b.Log(logs.String())
		}
	})
	if err := sl.WaitConnected(1, 20*time.Second); err != nil {
		b.Fatal(err)
	}
	return h, cmd, addr
}

// waitRouted waits until n expenses are routed and returns how many are in each status. It polls
// the database ten times a second: the run lasts tens of seconds.
func waitRouted(b *testing.B, h *harness, n int, limit time.Duration) map[expensebot.Status]int {
	deadline := time.Now().Add(limit)
	for {
		list, err := h.db.Totals(context.Background(), "")
		if err != nil {
			b.Fatal(err)
		}
		by, routed := map[expensebot.Status]int{}, 0
		for _, t := range list {
			by[t.Status] += t.Count
			if t.Status.Routed() {
				routed += t.Count
			}
		}
		if routed >= n {
			return by
		}
		if b.Failed() {
			b.FailNow() // a submission failed: the count will not be reached
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d expenses routed after %s: %v", routed, n, limit, by)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
